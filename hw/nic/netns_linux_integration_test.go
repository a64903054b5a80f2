//go:build linux

package nic

import (
	"context"
	"crypto/rand"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"net/netip"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/mdlayher/netlink"
	"golang.org/x/sys/unix"
)

// Kernel tests run in network namespaces they create (ew-nic-<random>)
// and delete when the test ends; nothing touches the host's namespace.
// They drive the kernel with iproute2 and compare with what it reports.

// testNS is one namespace of a test.
type testNS struct {
	name string
	fd   int // open descriptor of /run/netns/name
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

// newNS creates a namespace with lo up, IPv6 duplicate address detection
// and router solicitations off (they would change addresses and counters
// behind the test's back), and deletes it when the test ends.
func newNS(t testing.TB) *testNS {
	t.Helper()
	needRoot(t)
	var b [4]byte
	_, _ = rand.Read(b[:])
	ns := &testNS{name: "ew-nic-" + hex.EncodeToString(b[:])}
	if out, err := exec.Command("ip", "netns", "add", ns.name).CombinedOutput(); err != nil {
		t.Skipf("kernel test: ip netns add: %v: %s", err, out)
	}
	t.Cleanup(func() { _ = exec.Command("ip", "netns", "del", ns.name).Run() })
	f, err := os.Open("/run/netns/" + ns.name)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = f.Close() })
	ns.fd = int(f.Fd())
	for _, kv := range []string{
		"net.ipv6.conf.all.accept_dad=0", "net.ipv6.conf.default.accept_dad=0",
		"net.ipv6.conf.all.router_solicitations=0", "net.ipv6.conf.default.router_solicitations=0",
	} {
		run(t, "ip", "netns", "exec", ns.name, "sysctl", "-qw", kv)
	}
	ns.ip(t, "link", "set", "lo", "up")
	return ns
}

func run(t testing.TB, name string, args ...string) string {
	t.Helper()
	out, err := exec.Command(name, args...).CombinedOutput()
	if err != nil {
		t.Fatalf("%s %s: %v: %s", name, strings.Join(args, " "), err, out)
	}
	return string(out)
}

// ip runs `ip -n NS args...`.
func (ns *testNS) ip(t testing.TB, args ...string) string {
	t.Helper()
	return run(t, "ip", append([]string{"-n", ns.name}, args...)...)
}

// ipJSON runs `ip -n NS -j args...` and decodes its output into v.
func (ns *testNS) ipJSON(t testing.TB, v any, args ...string) {
	t.Helper()
	out := run(t, "ip", append([]string{"-n", ns.name, "-j"}, args...)...)
	if err := json.Unmarshal([]byte(out), v); err != nil {
		t.Fatalf("decode ip -j %s: %v: %s", strings.Join(args, " "), err, out)
	}
}

// batch runs ip commands, one a line, in one `ip -batch` process.
func (ns *testNS) batch(t testing.TB, lines []string) {
	t.Helper()
	cmd := exec.Command("ip", "-n", ns.name, "-batch", "-")
	cmd.Stdin = strings.NewReader(strings.Join(lines, "\n") + "\n")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("ip -batch: %v: %s", err, out)
	}
}

// nic opens a NIC on the namespace, closed when the test ends.
func (ns *testNS) nic(t testing.TB) *NIC {
	t.Helper()
	n, err := New(Options{NetNS: ns.fd})
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	t.Cleanup(func() { _ = n.Close() })
	return n
}

func ctxT(t testing.TB) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// ping sends n ICMP echo requests from ns to dst and waits for each reply.
// It needs no ping binary: the raw socket is opened inside ns.
func (ns *testNS) ping(t testing.TB, dst netip.Addr, n int) {
	t.Helper()
	var fd int
	err := inNetNS(ns.fd, func() (err error) {
		fd, err = unix.Socket(unix.AF_INET, unix.SOCK_RAW|unix.SOCK_CLOEXEC, unix.IPPROTO_ICMP)
		return err
	})
	if err != nil {
		t.Fatalf("open icmp socket: %v", err)
	}
	defer unix.Close(fd)
	tv := unix.NsecToTimeval(int64(2 * time.Second))
	if err := unix.SetsockoptTimeval(fd, unix.SOL_SOCKET, unix.SO_RCVTIMEO, &tv); err != nil {
		t.Fatal(err)
	}
	var idb [2]byte
	_, _ = rand.Read(idb[:])
	id := binary.BigEndian.Uint16(idb[:])
	for seq := uint16(1); seq <= uint16(n); seq++ {
		if err := unix.Sendto(fd, echoRequest(id, seq), 0, &unix.SockaddrInet4{Addr: dst.As4()}); err != nil {
			t.Fatalf("send echo request %d: %v", seq, err)
		}
		awaitEchoReply(t, fd, id, seq)
	}
}

func awaitEchoReply(t testing.TB, fd int, id, seq uint16) {
	t.Helper()
	buf := make([]byte, 1500)
	for {
		k, _, err := unix.Recvfrom(fd, buf, 0)
		if err != nil {
			t.Fatalf("await echo reply %d: %v", seq, err)
		}
		ihl := int(buf[0]&0x0f) * 4 // a raw IPv4 socket reads the IP header too
		p := buf[ihl:k]
		if len(p) >= 8 && p[0] == 0 && binary.BigEndian.Uint16(p[4:]) == id && binary.BigEndian.Uint16(p[6:]) == seq {
			return
		}
	}
}

func echoRequest(id, seq uint16) []byte {
	p := make([]byte, 8+56)
	p[0] = 8 // echo request
	binary.BigEndian.PutUint16(p[4:], id)
	binary.BigEndian.PutUint16(p[6:], seq)
	var sum uint32
	for i := 0; i < len(p); i += 2 {
		sum += uint32(binary.BigEndian.Uint16(p[i:]))
	}
	for sum > 0xffff {
		sum = sum>>16 + sum&0xffff
	}
	binary.BigEndian.PutUint16(p[2:], ^uint16(sum))
	return p
}

// monitor subscribes to the namespace's link, address and route changes.
func (ns *testNS) monitor(t testing.TB) *netlink.Conn {
	t.Helper()
	groups := uint32(unix.RTMGRP_LINK | unix.RTMGRP_IPV4_IFADDR | unix.RTMGRP_IPV6_IFADDR |
		unix.RTMGRP_IPV4_ROUTE | unix.RTMGRP_IPV6_ROUTE)
	c, err := netlink.Dial(unix.NETLINK_ROUTE, &netlink.Config{NetNS: ns.fd, Groups: groups})
	if err != nil {
		t.Fatalf("dial rtnetlink monitor: %v", err)
	}
	t.Cleanup(func() { _ = c.Close() })
	return c
}

// changes returns the types of the notifications that arrive within wait.
func changes(t testing.TB, c *netlink.Conn, wait time.Duration) []string {
	t.Helper()
	var got []string
	if err := c.SetReadDeadline(time.Now().Add(wait)); err != nil {
		t.Fatal(err)
	}
	for {
		msgs, err := c.Receive()
		if errors.Is(err, os.ErrDeadlineExceeded) {
			return got
		}
		if err != nil {
			t.Fatalf("receive notifications: %v", err)
		}
		for _, m := range msgs {
			got = append(got, rtmName(m.Header.Type))
		}
	}
}

// settle waits until no notification has come for quiet (at most 10 s):
// the kernel reports some operstate changes up to a second late.
func settle(t testing.TB, c *netlink.Conn, quiet time.Duration) {
	t.Helper()
	for end := time.Now().Add(10 * time.Second); time.Now().Before(end); {
		if len(changes(t, c, quiet)) == 0 {
			return
		}
	}
	t.Fatal("namespace never settled: notifications keep coming")
}

func rtmName(typ netlink.HeaderType) string {
	names := map[netlink.HeaderType]string{
		unix.RTM_NEWLINK: "NEWLINK", unix.RTM_DELLINK: "DELLINK",
		unix.RTM_NEWADDR: "NEWADDR", unix.RTM_DELADDR: "DELADDR",
		unix.RTM_NEWROUTE: "NEWROUTE", unix.RTM_DELROUTE: "DELROUTE",
	}
	if n, ok := names[typ]; ok {
		return n
	}
	return typ.String()
}
