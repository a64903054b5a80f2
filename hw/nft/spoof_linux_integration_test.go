//go:build linux

package nft

import (
	"encoding/binary"
	"fmt"
	"net/netip"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/edgeward/edgeward/core/acl"
	"golang.org/x/sys/unix"
)

// A third namespace S (the attacker) hangs off R by its own veth pair and
// sends crafted packets whose source is C's (the admin's) address. R
// answers those to C, which never asked: the handshakes never complete.

// attacker adds namespace S, routed through R, and returns its name.
func (tp *topo) attacker(t *testing.T) string {
	t.Helper()
	s := strings.TrimSuffix(tp.r, "-r") + "-s"
	if out, err := runOut("ip", "netns", "add", s); err != nil {
		t.Fatalf("ip netns add %s: %v: %s", s, err, out)
	}
	t.Cleanup(func() { _, _ = runOut("ip", "netns", "del", s) })
	run(t, "ip", "-n", tp.r, "link", "add", "ewa", "type", "veth", "peer", "name", "ews", "netns", s)
	for _, c := range [][]string{
		{tp.r, "addr", "add", "10.78.0.1/24", "dev", "ewa"},
		{s, "addr", "add", "10.78.0.2/24", "dev", "ews"},
		{tp.r, "link", "set", "ewa", "up"}, {s, "link", "set", "ews", "up"}, {s, "link", "set", "lo", "up"},
		{s, "route", "add", "default", "via", "10.78.0.1"},
	} {
		run(t, "ip", append([]string{"-n", c[0]}, c[1:]...)...)
	}
	return s
}

func runOut(name string, args ...string) (string, error) {
	out, err := exec.Command(name, args...).CombinedOutput()
	return string(out), err
}

// spoof sends each packet once from namespace ns through a raw socket
// (the IPv4 header is the packet's own, source included).
func spoof(t *testing.T, ns string, to netip.Addr, pkts [][]byte) {
	t.Helper()
	err := inNS(ns, func() error {
		fd, err := unix.Socket(unix.AF_INET, unix.SOCK_RAW, unix.IPPROTO_RAW)
		if err != nil {
			return fmt.Errorf("raw socket: %w", err)
		}
		defer unix.Close(fd)
		sa := &unix.SockaddrInet4{Addr: to.As4()}
		for _, p := range pkts {
			// A full veth queue drops a packet or two: the flood is no less one.
			_ = unix.Sendto(fd, p, 0, sa)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// ip4Packet wraps an L4 segment (checksum field zero) in an IPv4 header
// and fills both checksums.
func ip4Packet(src, dst netip.Addr, proto byte, l4 []byte, csumAt int) []byte {
	p := make([]byte, 20+len(l4))
	p[0], p[8], p[9] = 0x45, 64, proto
	binary.BigEndian.PutUint16(p[2:], uint16(len(p)))
	s, d := src.As4(), dst.As4()
	copy(p[12:], s[:])
	copy(p[16:], d[:])
	binary.BigEndian.PutUint16(p[10:], csum(p[:20], 0))
	copy(p[20:], l4)
	pseudo := uint32(proto) + uint32(len(l4))
	for i := 12; i < 20; i += 2 {
		pseudo += uint32(binary.BigEndian.Uint16(p[i:]))
	}
	binary.BigEndian.PutUint16(p[20+csumAt:], csum(p[20:], pseudo))
	return p
}

func csum(b []byte, sum uint32) uint16 {
	for i := 0; i+1 < len(b); i += 2 {
		sum += uint32(binary.BigEndian.Uint16(b[i:]))
	}
	if len(b)%2 == 1 {
		sum += uint32(b[len(b)-1]) << 8
	}
	for sum > 0xffff {
		sum = sum>>16 + sum&0xffff
	}
	return ^uint16(sum)
}

// synPacket is a TCP SYN from src:sport.
func synPacket(src, dst netip.Addr, sport, dport uint16, seq uint32) []byte {
	tcp := make([]byte, 20)
	binary.BigEndian.PutUint16(tcp[0:], sport)
	binary.BigEndian.PutUint16(tcp[2:], dport)
	binary.BigEndian.PutUint32(tcp[4:], seq)
	tcp[12], tcp[13] = 0x50, 0x02
	binary.BigEndian.PutUint16(tcp[14:], 65535)
	return ip4Packet(src, dst, unix.IPPROTO_TCP, tcp, 16)
}

// initiationPacket is a UDP datagram shaped as a WireGuard handshake
// initiation (its MACs are garbage: nothing on the path can tell).
func initiationPacket(src, dst netip.Addr, sport, dport uint16) []byte {
	udp := make([]byte, 8+148)
	binary.BigEndian.PutUint16(udp[0:], sport)
	binary.BigEndian.PutUint16(udp[2:], dport)
	binary.BigEndian.PutUint16(udp[4:], uint16(len(udp)))
	udp[8] = 1
	return ip4Packet(src, dst, unix.IPPROTO_UDP, udp, 6)
}

// TestSpoofedFloodsGreylistNobody floods R's guarded ports with SYNs and
// WireGuard initiations carrying the admin's address, and then from 2,000
// made-up sources: nobody is greylisted, and the admin still reaches the
// API port right after.
func TestSpoofedFloodsGreylistNobody(t *testing.T) {
	t.Parallel()
	tp := newTopo(t)
	api := tp.listen(t)
	const wgPort = 51820
	f := tp.firewall(t)
	ctx := ctxT(t)
	rs := acl.Ruleset{GuardPorts: []uint16{api, wgPort}, Rate: 5, Burst: 5, GreyTimeout: time.Minute}
	if err := f.Install(ctx, rs); err != nil {
		t.Fatalf("Install: %v", err)
	}
	tp.mustReach(t, tp.c4, tp.r4, api)
	s := tp.attacker(t)
	var pkts [][]byte
	for i := range 200 {
		pkts = append(pkts, synPacket(tp.c4, tp.r4, uint16(20000+i), api, uint32(i)*7919),
			initiationPacket(tp.c4, tp.r4, uint16(30000+i), wgPort))
	}
	src := netip.MustParseAddr("192.0.2.0")
	for i := range 2000 {
		src = src.Next()
		pkts = append(pkts, synPacket(src, tp.r4, 40000, api, uint32(i)), initiationPacket(src, tp.r4, 40000, wgPort))
	}
	spoof(t, s, tp.r4, pkts)
	got, err := f.KernelGreylist(ctx)
	if err != nil {
		t.Fatalf("KernelGreylist: %v", err)
	}
	if len(got) != 0 {
		t.Fatalf("KernelGreylist holds %d entries after spoofed floods (first %+v), want none", len(got), got[0])
	}
	if !tp.reach(tp.c4, tp.r4, api) {
		t.Fatal("the admin whose address was spoofed no longer reaches the API port")
	}
	out := tp.nft(t, "list", "set", "inet", TableName, setMeter4)
	if strings.Contains(out, "192.0.2.") {
		t.Fatalf("a spoofed SYN of a made-up source was metered:\n%s", out)
	}
}

// TestFloodGreylistsIPv6 is the IPv6 side of the meter: completed
// connections above the rate greylist their source, on the guarded port
// only.
func TestFloodGreylistsIPv6(t *testing.T) {
	t.Parallel()
	tp := newTopo(t)
	port := tp.listen(t)
	other := tp.listen(t)
	f := tp.firewall(t)
	ctx := ctxT(t)
	rs := acl.Ruleset{GuardPorts: []uint16{port}, Rate: 5, Burst: 5, GreyTimeout: time.Minute}
	if err := f.Install(ctx, rs); err != nil {
		t.Fatalf("Install: %v", err)
	}
	tp.mustReach(t, tp.c6, tp.r6, port)
	for i := 0; i < 40; i++ {
		if c, err := tp.dial(tp.c6, tp.r6, port, 50*time.Millisecond); err == nil {
			_ = c.Close()
		}
	}
	got, err := f.KernelGreylist(ctx)
	if err != nil {
		t.Fatalf("KernelGreylist: %v", err)
	}
	if len(got) != 1 || got[0].Addr != tp.c6 {
		t.Fatalf("KernelGreylist = %+v, want only %s", got, tp.c6)
	}
	if tp.reach(tp.c6, tp.r6, port) {
		t.Fatal("greylisted IPv6 flooder still connects to the guarded port")
	}
	if !tp.reach(tp.c6, tp.r6, other) {
		t.Fatal("greylisted IPv6 flooder lost an unguarded port too")
	}
}
