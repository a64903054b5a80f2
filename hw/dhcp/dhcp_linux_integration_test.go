//go:build linux

package dhcp

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/edgeward/edgeward/core"
	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

// The kernel tests run dnsmasq in a namespace S and the Client in a
// namespace C, joined by a veth pair (ews in S, ewc in C). Both namespaces
// are the test's own; the host's is never touched.
//
// dnsmasq's shortest lease is two minutes, so the tests do not wait for T1:
// they shorten the Client's schedule (the unexported schedule hook, the only
// test seam), which makes it renew or rebind a real dnsmasq lease within
// seconds through the same code path that runs at T1 and T2.

// lab is one S–C pair with dnsmasq serving C.
type lab struct {
	s, c   string // namespace names
	sFD    int    // open descriptor of S
	cFD    int    // open descriptor of C
	prefix string // "10.a.b."
	leases string // dnsmasq's lease file
	out    *syncBuffer
}

func (l *lab) addr(last int) netip.Addr {
	return netip.MustParseAddr(fmt.Sprintf("%s%d", l.prefix, last))
}

// syncBuffer collects output written from other goroutines and processes.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}

func ipCmd(t *testing.T, args ...string) []byte {
	t.Helper()
	out, err := exec.Command("ip", args...).CombinedOutput()
	if err != nil {
		t.Fatalf("ip %s: %v: %s", strings.Join(args, " "), err, out)
	}
	return out
}

func newLab(t *testing.T) *lab {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("kernel test: needs root to create network namespaces")
	}
	for _, bin := range []string{"ip", "dnsmasq"} {
		if _, err := exec.LookPath(bin); err != nil {
			t.Skipf("kernel test: needs %s", bin)
		}
	}
	var r [6]byte
	_, _ = rand.Read(r[:])
	id := hex.EncodeToString(r[:4])
	l := &lab{
		s:      "ew-dhcp-" + id + "-s",
		c:      "ew-dhcp-" + id + "-c",
		prefix: fmt.Sprintf("10.%d.%d.", r[4], r[5]),
		leases: filepath.Join(t.TempDir(), "leases"),
		out:    &syncBuffer{},
	}
	for _, ns := range []string{l.s, l.c} {
		ipCmd(t, "netns", "add", ns)
		t.Cleanup(func() { _ = exec.Command("ip", "netns", "del", ns).Run() })
	}
	ipCmd(t, "-n", l.s, "link", "add", "ews", "type", "veth", "peer", "name", "ewc", "netns", l.c)
	ipCmd(t, "-n", l.s, "addr", "add", l.prefix+"1/24", "dev", "ews")
	ipCmd(t, "-n", l.s, "link", "set", "ews", "up")
	ipCmd(t, "-n", l.c, "link", "set", "ewc", "up")
	for _, ns := range []struct {
		name string
		fd   *int
	}{{l.s, &l.sFD}, {l.c, &l.cFD}} {
		f, err := os.Open("/run/netns/" + ns.name)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { f.Close() })
		*ns.fd = int(f.Fd())
	}
	l.startDnsmasq(t)
	return l
}

func (l *lab) startDnsmasq(t *testing.T) {
	t.Helper()
	dir := filepath.Dir(l.leases)
	cmd := exec.Command("ip", "netns", "exec", l.s, "dnsmasq",
		"--no-daemon", "--no-resolv", "--no-hosts", "--port=0",
		"--interface=ews", "--bind-interfaces",
		"--dhcp-range="+l.prefix+"50,"+l.prefix+"60,2m",
		"--dhcp-option=option:router,"+l.prefix+"1",
		"--dhcp-option=option:dns-server,"+l.prefix+"53",
		"--dhcp-option=option:domain-search,lab.test",
		"--dhcp-leasefile="+l.leases, "--pid-file="+filepath.Join(dir, "pid"),
		"--log-dhcp", "--log-facility=-")
	cmd.Stdout, cmd.Stderr = l.out, l.out
	if err := cmd.Start(); err != nil {
		t.Fatalf("start dnsmasq: %v", err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		if t.Failed() {
			t.Logf("dnsmasq:\n%s", l.out)
		}
	})
	waitFor(t, 10*time.Second, "dnsmasq to serve DHCP", func() bool {
		return strings.Contains(l.out.String(), "DHCP, IP range")
	})
}

func waitFor(t *testing.T, d time.Duration, what string, ok func() bool) {
	t.Helper()
	for end := time.Now().Add(d); !ok(); {
		if time.Now().After(end) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// running is a Client running in C until stop is called.
type running struct {
	c      *Client
	leases chan Lease
	stop   func() error
}

func (l *lab) run(t *testing.T, schedule func(Lease) (time.Duration, time.Duration, time.Duration)) *running {
	t.Helper()
	logs := &syncBuffer{}
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("client:\n%s", logs)
		}
	})
	r := &running{leases: make(chan Lease, 32)}
	c, err := New(Options{
		Iface:   "ewc",
		NetNS:   l.cFD,
		OnLease: func(ls Lease) { r.leases <- ls },
		Log:     slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
		Timeout: time.Second,
	})
	if err != nil {
		t.Fatal(err)
	}
	if schedule != nil {
		c.schedule = schedule
	}
	r.c = c
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- c.Run(ctx) }()
	var once sync.Once
	var runErr error
	r.stop = func() error {
		once.Do(func() {
			cancel()
			select {
			case runErr = <-done:
			case <-time.After(30 * time.Second):
				runErr = fmt.Errorf("run did not return")
			}
		})
		return runErr
	}
	t.Cleanup(func() { _ = r.stop() })
	return r
}

func (r *running) next(t *testing.T, d time.Duration) Lease {
	t.Helper()
	select {
	case l := <-r.leases:
		return l
	case <-time.After(d):
		t.Fatalf("no lease after %v", d)
		return Lease{}
	}
}

// checkLease checks what dnsmasq was told to hand out.
func (l *lab) checkLease(t *testing.T, got Lease) {
	t.Helper()
	a := got.Addr.Addr()
	if got.Addr.Bits() != 24 || a.Less(l.addr(50)) || l.addr(60).Less(a) {
		t.Errorf("address %s, want one of %s50-60/24", got.Addr, l.prefix)
	}
	// dnsmasq sends T1 = 50% and T2 = 87.5% of the lease less a random
	// fuzz of up to 1/16 of it on renewals, so that clients do not renew
	// in step.
	const d = 2 * time.Minute
	if got.Renew > d/2 || got.Renew < d/2-d/16 || got.Rebind > d/8*7 || got.Rebind < d/8*7-d/16 {
		t.Errorf("T1 %v, T2 %v; want 50%% and 87.5%% of %v less up to %v", got.Renew, got.Rebind, d, d/16)
	}
	want := Lease{
		Addr:     got.Addr,
		Router:   l.addr(1),
		DNS:      []netip.Addr{l.addr(53)},
		Search:   []string{"lab.test"},
		Server:   l.addr(1),
		Obtained: got.Obtained,
		Duration: d,
		Renew:    got.Renew,
		Rebind:   got.Rebind,
	}
	if diff := cmp.Diff(want, got, cmpopts.EquateComparable(netip.Addr{}, netip.Prefix{})); diff != "" {
		t.Errorf("lease (-want +got):\n%s", diff)
	}
}

type ipAddr struct {
	Family    string `json:"family"`
	Local     string `json:"local"`
	Prefixlen int    `json:"prefixlen"`
	Dynamic   bool   `json:"dynamic"`
	Valid     uint64 `json:"valid_life_time"`
	Preferred uint64 `json:"preferred_life_time"`
}

// kernelAddr returns the IPv4 address of ewc in C, if any.
func (l *lab) kernelAddr(t *testing.T) (ipAddr, bool) {
	t.Helper()
	var links []struct {
		AddrInfo []ipAddr `json:"addr_info"`
	}
	if err := json.Unmarshal(ipCmd(t, "-n", l.c, "-j", "addr", "show", "dev", "ewc"), &links); err != nil {
		t.Fatal(err)
	}
	for _, li := range links {
		for _, a := range li.AddrInfo {
			if a.Family == "inet" {
				return a, true
			}
		}
	}
	return ipAddr{}, false
}

type ipRoute struct {
	Dst      string `json:"dst"`
	Gateway  string `json:"gateway"`
	Dev      string `json:"dev"`
	Protocol string `json:"protocol"`
	Prefsrc  string `json:"prefsrc"`
	Metric   int    `json:"metric"`
}

func (l *lab) defaultRoutes(t *testing.T) []ipRoute {
	t.Helper()
	var routes []ipRoute
	if err := json.Unmarshal(ipCmd(t, "-n", l.c, "-j", "-4", "route", "show", "default"), &routes); err != nil {
		t.Fatal(err)
	}
	return routes
}

func (l *lab) checkKernel(t *testing.T, got Lease) {
	t.Helper()
	a, ok := l.kernelAddr(t)
	if !ok {
		t.Fatal("ewc has no IPv4 address")
	}
	if a.Local != got.Addr.Addr().String() || a.Prefixlen != 24 {
		t.Errorf("kernel address %s/%d, want %s", a.Local, a.Prefixlen, got.Addr)
	}
	if !a.Dynamic || a.Valid == 0 || a.Valid > 120 || a.Preferred == 0 || a.Preferred > 120 {
		t.Errorf("kernel address lifetimes valid %d preferred %d dynamic %v, want finite, at most 120s",
			a.Valid, a.Preferred, a.Dynamic)
	}
	want := []ipRoute{{
		Dst: "default", Gateway: l.addr(1).String(), Dev: "ewc", Protocol: "dhcp",
		Prefsrc: got.Addr.Addr().String(), Metric: routeMetric,
	}}
	if diff := cmp.Diff(want, l.defaultRoutes(t)); diff != "" {
		t.Errorf("default routes (-want +got):\n%s", diff)
	}
}

// checkReleased stops r and checks that the address, the route and
// dnsmasq's lease are gone.
func (l *lab) checkReleased(t *testing.T, r *running, addr netip.Addr) {
	t.Helper()
	waitFor(t, 5*time.Second, "dnsmasq to record the lease", func() bool {
		b, _ := os.ReadFile(l.leases)
		return strings.Contains(string(b), " "+addr.String()+" ")
	})
	if err := r.stop(); err != nil {
		t.Fatalf("Run = %v, want nil", err)
	}
	if last := drain(r.leases); last.Addr.IsValid() {
		t.Errorf("last OnLease after stop = %+v, want the zero Lease", last)
	}
	if _, ok := r.c.Lease(); ok {
		t.Error("Lease() reports a lease after Run returned")
	}
	if a, ok := l.kernelAddr(t); ok {
		t.Errorf("ewc still has %s/%d", a.Local, a.Prefixlen)
	}
	if routes := l.defaultRoutes(t); len(routes) != 0 {
		t.Errorf("default routes left: %+v", routes)
	}
	waitFor(t, 5*time.Second, "dnsmasq to drop the released lease", func() bool {
		b, err := os.ReadFile(l.leases)
		return err == nil && !strings.Contains(string(b), " "+addr.String()+" ")
	})
}

// drain returns the last lease queued, or the zero Lease.
func drain(ch chan Lease) Lease {
	var last Lease
	for {
		select {
		case l := <-ch:
			last = l
		default:
			return last
		}
	}
}

func TestClientGetsRenewsReleases(t *testing.T) {
	l := newLab(t)
	sn := l.sniff(t)
	const renewAfter = 2 * time.Second
	r := l.run(t, func(ls Lease) (time.Duration, time.Duration, time.Duration) {
		return renewAfter, ls.Rebind, ls.Duration
	})

	first := r.next(t, 30*time.Second)
	l.checkLease(t, first)
	if got, ok := r.c.Lease(); !ok || !got.Addr.IsValid() || got.Addr != first.Addr {
		t.Errorf("Lease() = %+v, %v; want %s", got, ok, first.Addr)
	}
	l.checkKernel(t, first)

	// The renewal: a REQUEST unicast to dnsmasq from the leased address.
	second := r.next(t, 30*time.Second)
	l.checkLease(t, second)
	if second.Addr != first.Addr || !second.Obtained.After(first.Obtained) {
		t.Errorf("renewed lease %s obtained %v, want %s obtained after %v",
			second.Addr, second.Obtained, first.Addr, first.Obtained)
	}
	wantReqs := []sent{
		{Type: "REQUEST", Src: netip.IPv4Unspecified(), Dst: netip.MustParseAddr("255.255.255.255")}, // SELECTING
		{Type: "REQUEST", Src: first.Addr.Addr(), Dst: l.addr(1)},                                    // RENEWING: unicast
	}
	if diff := cmp.Diff(wantReqs, sn.requests(), cmpopts.EquateComparable(netip.Addr{})); diff != "" {
		t.Errorf("requests on the wire (-want +got):\n%s", diff)
	}
	if n := strings.Count(l.out.String(), "DHCPACK(ews) "+first.Addr.Addr().String()); n < 2 {
		t.Errorf("dnsmasq sent %d ACKs for %s, want at least 2 (grant and renewal)", n, first.Addr)
	}
	l.checkKernel(t, second)
	if a, _ := l.kernelAddr(t); a.Valid < 119 {
		t.Errorf("valid lifetime %ds after the renewal, want it reset to about 120s", a.Valid)
	}
	l.checkReleased(t, r, first.Addr.Addr())
	if !strings.Contains(l.out.String(), "DHCPRELEASE(ews) "+first.Addr.Addr().String()) {
		t.Error("dnsmasq logged no DHCPRELEASE")
	}
}

// TestClientRebinds makes T1 and T2 coincide, so that the client skips
// RENEWING and extends the lease with a broadcast REQUEST.
func TestClientRebinds(t *testing.T) {
	l := newLab(t)
	sn := l.sniff(t)
	r := l.run(t, func(ls Lease) (time.Duration, time.Duration, time.Duration) {
		return 2 * time.Second, 2 * time.Second, ls.Duration
	})
	first := r.next(t, 30*time.Second)
	l.checkLease(t, first)
	second := r.next(t, 30*time.Second)
	l.checkLease(t, second)
	if second.Addr != first.Addr || !second.Obtained.After(first.Obtained) {
		t.Errorf("rebound lease %s obtained %v, want %s obtained after %v",
			second.Addr, second.Obtained, first.Addr, first.Obtained)
	}
	wantReqs := []sent{
		{Type: "REQUEST", Src: netip.IPv4Unspecified(), Dst: netip.MustParseAddr("255.255.255.255")}, // SELECTING
		{Type: "REQUEST", Src: first.Addr.Addr(), Dst: netip.MustParseAddr("255.255.255.255")},       // REBINDING
	}
	if diff := cmp.Diff(wantReqs, sn.requests(), cmpopts.EquateComparable(netip.Addr{})); diff != "" {
		t.Errorf("requests on the wire (-want +got):\n%s", diff)
	}
	l.checkKernel(t, second)
	l.checkReleased(t, r, first.Addr.Addr())
}

// TestClientReacquiresAfterExpiry lets the lease run out before T1: the
// client must drop it, tell OnLease, and get one again, asking for the
// address it had.
func TestClientReacquiresAfterExpiry(t *testing.T) {
	l := newLab(t)
	r := l.run(t, func(ls Lease) (time.Duration, time.Duration, time.Duration) {
		return time.Hour, time.Hour, 2 * time.Second
	})
	first := r.next(t, 30*time.Second)
	l.checkLease(t, first)
	if lost := r.next(t, 30*time.Second); lost.Addr.IsValid() {
		t.Fatalf("after expiry OnLease got %+v, want the zero Lease", lost)
	}
	again := r.next(t, 30*time.Second)
	l.checkLease(t, again)
	if again.Addr != first.Addr {
		t.Errorf("re-acquired %s, want the old address %s", again.Addr, first.Addr)
	}
	if err := r.stop(); err != nil {
		t.Fatalf("Run = %v, want nil", err)
	}
	if a, ok := l.kernelAddr(t); ok {
		t.Errorf("ewc still has %s/%d", a.Local, a.Prefixlen)
	}
}

func TestRunMissingLinkAndBusy(t *testing.T) {
	l := newLab(t)
	c, err := New(Options{Iface: "nope0", NetNS: l.cFD})
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Run(context.Background()); !errors.Is(err, core.ErrNotFound) {
		t.Errorf("Run on a missing link = %v, want core.ErrNotFound", err)
	}
	r := l.run(t, nil)
	r.next(t, 30*time.Second)
	if err := r.c.Run(context.Background()); !errors.Is(err, core.ErrBusy) {
		t.Errorf("second Run = %v, want core.ErrBusy", err)
	}
	if err := r.stop(); err != nil {
		t.Fatalf("Run = %v, want nil", err)
	}
}
