//go:build linux

package nft

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/edgeward/edgeward/core/acl"
	ewnetns "github.com/edgeward/edgeward/hw/netns"
)

// Kernel tests run in namespaces they create: R (the router, where the
// Firewall runs) and C (a client), joined by a veth pair. Nothing touches
// the host's namespace. Sockets are opened in R or C by a goroutine that
// locks its OS thread and switches that thread's namespace (inNS); a
// socket stays in the namespace it was created in.

// topo is one R–C pair.
type topo struct {
	r, c   string // namespace names
	rFD    int    // an open descriptor of R
	r4, c4 netip.Addr
	c4b    netip.Addr // a second address of C, outside C's /30
	r6, c6 netip.Addr
}

func needRoot(t testing.TB) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("kernel test: needs root to create network namespaces")
	}
	if _, err := exec.LookPath("ip"); err != nil {
		t.Skip("kernel test: needs iproute2 (ip)")
	}
}

func run(t testing.TB, name string, args ...string) string {
	t.Helper()
	out, err := exec.Command(name, args...).CombinedOutput()
	if err != nil {
		t.Fatalf("%s %s: %v: %s", name, strings.Join(args, " "), err, out)
	}
	return string(out)
}

// newTopo creates R and C with 10.77.X.1/24 and fd77:X::1/64 in R and .2
// (plus .200) in C, X random, and removes them when the test ends.
func newTopo(t testing.TB) *topo {
	t.Helper()
	needRoot(t)
	var b [4]byte
	_, _ = rand.Read(b[:])
	id := hex.EncodeToString(b[:])
	x := int(b[0])%250 + 1
	tp := &topo{r: "ew-nft-" + id + "-r", c: "ew-nft-" + id + "-c",
		r4: netip.MustParseAddr(fmt.Sprintf("10.77.%d.1", x)), c4: netip.MustParseAddr(fmt.Sprintf("10.77.%d.2", x)),
		c4b: netip.MustParseAddr(fmt.Sprintf("10.77.%d.200", x)),
		r6:  netip.MustParseAddr(fmt.Sprintf("fd77:%x::1", x)), c6: netip.MustParseAddr(fmt.Sprintf("fd77:%x::2", x))}
	for _, ns := range []string{tp.r, tp.c} {
		if out, err := exec.Command("ip", "netns", "add", ns).CombinedOutput(); err != nil {
			t.Skipf("kernel test: ip netns add: %v: %s", err, out)
		}
		t.Cleanup(func() { _ = exec.Command("ip", "netns", "del", ns).Run() })
	}
	run(t, "ip", "-n", tp.r, "link", "add", "ewr", "type", "veth", "peer", "name", "ewc", "netns", tp.c)
	for _, c := range [][]string{
		{tp.r, "addr", "add", tp.r4.String() + "/24", "dev", "ewr"},
		{tp.r, "addr", "add", tp.r6.String() + "/64", "dev", "ewr", "nodad"},
		{tp.c, "addr", "add", tp.c4.String() + "/24", "dev", "ewc"},
		{tp.c, "addr", "add", tp.c4b.String() + "/24", "dev", "ewc"},
		{tp.c, "addr", "add", tp.c6.String() + "/64", "dev", "ewc", "nodad"},
		{tp.r, "link", "set", "lo", "up"}, {tp.r, "link", "set", "ewr", "up"},
		{tp.c, "link", "set", "lo", "up"}, {tp.c, "link", "set", "ewc", "up"},
	} {
		run(t, "ip", append([]string{"-n", c[0]}, c[1:]...)...)
	}
	if out, err := exec.Command("ip", "netns", "exec", tp.r, "nft", "list", "tables").CombinedOutput(); err != nil {
		t.Skipf("kernel test: nf_tables unavailable (nft list tables: %v: %s)", err, out)
	}
	fd, err := os.Open("/run/netns/" + tp.r)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = fd.Close() })
	tp.rFD = int(fd.Fd())
	return tp
}

// nft runs the nft command line inside R, as another tool would.
func (tp *topo) nft(t testing.TB, args ...string) string {
	t.Helper()
	return run(t, "ip", append([]string{"netns", "exec", tp.r, "nft"}, args...)...)
}

// firewall opens a Firewall on R, closed when the test ends.
func (tp *topo) firewall(t testing.TB) *Firewall {
	t.Helper()
	f, err := New(Options{NetNS: tp.rFD, Log: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	t.Cleanup(func() { _ = f.Close() })
	return f
}

// inNS runs fn on a thread switched into namespace name.
func inNS(name string, fn func() error) error {
	f, err := os.Open("/run/netns/" + name)
	if err != nil {
		return err
	}
	defer f.Close()
	return ewnetns.Do(int(f.Fd()), fn)
}

// TestRulesetInNamespace lists the table of the namespace it is given,
// as a debug bundle of edgeward --netns does.
func TestRulesetInNamespace(t *testing.T) {
	tp := newTopo(t)
	if err := tp.firewall(t).Install(t.Context(), acl.Ruleset{GuardPorts: []uint16{443}, Rate: 20, Burst: 20}); err != nil {
		t.Fatal(err)
	}
	out, err := Ruleset(t.Context(), tp.rFD)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(out), "table inet "+TableName) || !strings.Contains(string(out), "chain pre {") {
		t.Errorf("ruleset of R:\n%s", out)
	}
	// C has no table: nft's refusal is the answer, not an error.
	fd, err := os.Open("/run/netns/" + tp.c)
	if err != nil {
		t.Fatal(err)
	}
	defer fd.Close()
	out, err = Ruleset(t.Context(), int(fd.Fd()))
	if err != nil || !strings.Contains(string(out), "failed") {
		t.Errorf("ruleset of C: %v\n%s", err, out)
	}
}

// listen opens a dual-stack TCP listener in R that accepts and holds
// connections until the test ends; it returns the port.
func (tp *topo) listen(t testing.TB) uint16 {
	t.Helper()
	var l net.Listener
	if err := inNS(tp.r, func() (err error) { l, err = net.Listen("tcp", "[::]:0"); return err }); err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var held []net.Conn
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			held = append(held, c)
			mu.Unlock()
		}
	}()
	t.Cleanup(func() {
		_ = l.Close()
		mu.Lock()
		defer mu.Unlock()
		for _, c := range held {
			_ = c.Close()
		}
	})
	return uint16(l.Addr().(*net.TCPAddr).Port)
}

// dial connects from C (from local when valid) to R and returns the
// connection, or the error after timeout.
func (tp *topo) dial(from, to netip.Addr, port uint16, timeout time.Duration) (net.Conn, error) {
	var c net.Conn
	err := inNS(tp.c, func() (err error) {
		d := net.Dialer{Timeout: timeout}
		if from.IsValid() {
			d.LocalAddr = &net.TCPAddr{IP: from.AsSlice()}
		}
		c, err = d.Dial("tcp", netip.AddrPortFrom(to, port).String())
		return err
	})
	return c, err
}

const blockedAfter = 300 * time.Millisecond

// reach reports whether C's address from reaches R's address to on port
// within 300 ms.
func (tp *topo) reach(from, to netip.Addr, port uint16) bool {
	c, err := tp.dial(from, to, port, blockedAfter)
	if err != nil {
		return false
	}
	_ = c.Close()
	return true
}

// mustReach waits up to 3 s for the veth pair to come up and C to reach R.
func (tp *topo) mustReach(t testing.TB, from, to netip.Addr, port uint16) {
	t.Helper()
	for end := time.Now().Add(3 * time.Second); time.Now().Before(end); {
		if tp.reach(from, to, port) {
			return
		}
	}
	t.Fatalf("%s cannot reach %s port %d", from, to, port)
}

func ctxT(t testing.TB) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	return ctx
}

func ban(a netip.Addr, d time.Duration) acl.Element {
	return acl.Element{Kind: acl.KindBan, Addr: a, Timeout: d}
}
