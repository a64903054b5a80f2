package nft

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"net/netip"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/edgeward/edgeward/core/acl"
	"github.com/edgeward/edgeward/core/golden"
	"github.com/edgeward/edgeward/core/tunnel"
	"github.com/mdlayher/netlink"
	"golang.org/x/sys/unix"
)

var update = flag.Bool("update", false, "rewrite testdata/*.golden with the messages sent now")

// The golden files hold every message of the batches the adapter sends,
// as the fake kernel received them. Normalised: the netlink sequence
// number (the socket starts at a random one) and the port id are not
// written. Nothing else needs it: set IDs are assigned by the adapter,
// rules carry no handles and element timeouts are durations, not times.

// goldenRuleset is a small table with one of everything: trusts and range
// bans of both families (overlapping, to be merged), bans with and without
// timeouts, per-port bans, greylist entries with a timeout of their own
// and with the default, and guarded ports.
func goldenRuleset() acl.Ruleset {
	a := netip.MustParseAddr
	return acl.Ruleset{
		GuardPorts: []uint16{51820, 443}, Rate: 20, Burst: 40, GreyTimeout: 10 * time.Minute, GreySize: 1024,
		Trust:   pfx("10.0.0.0/8", "10.1.0.0/16", "192.168.1.7/32", "2001:db8:ffff::/48"),
		BanNets: pfx("198.51.100.0/24", "2001:db8:bad::/48"),
		Elements: []acl.Element{
			{Kind: acl.KindBan, Addr: a("192.0.2.1"), Timeout: time.Hour},
			{Kind: acl.KindBan, Addr: a("192.0.2.2")},
			{Kind: acl.KindBan, Addr: a("2001:db8::1"), Timeout: 30 * time.Minute},
			{Kind: acl.KindBanPort, Addr: a("192.0.2.3"), Port: 22},
			{Kind: acl.KindBanPort, Addr: a("2001:db8::2"), Port: 443, Timeout: 2 * time.Hour},
			{Kind: acl.KindGrey, Addr: a("203.0.113.5"), Timeout: 90 * time.Second},
			{Kind: acl.KindGrey, Addr: a("2001:db8::5")},
		},
	}
}

// goldenPolicy has services of every kind, groups with and without
// resources (one of them the internet), and rules between groups, from a
// single peer, with one port, with port ranges and with none.
func goldenPolicy() tunnel.Policy {
	a, ps := netip.MustParseAddr, func(s ...string) []netip.Prefix { return pfx(s...) }
	return tunnel.Policy{
		Interface: "wg0", Gateway: a("100.64.0.1"), Network: netip.MustParsePrefix("100.64.0.0/24"),
		Services: []tunnel.Service{
			{Protocol: tunnel.ProtoUDP, Ports: tunnel.PortRange{First: 53, Last: 53}},
			{Protocol: tunnel.ProtoICMP},
			{Protocol: tunnel.ProtoTCP, Ports: tunnel.PortRange{First: 8080, Last: 8080}},
		},
		Groups: []tunnel.Group{
			{ID: "admins", Members: []netip.Addr{a("100.64.0.3"), a("100.64.0.2")}, Resources: ps("192.168.10.0/24")},
			{ID: "servers", Members: []netip.Addr{a("100.64.0.10")}},
			{ID: "internet", Members: []netip.Addr{a("100.64.0.2")}, Resources: ps("0.0.0.0/0")},
		},
		Rules: []tunnel.Rule{
			{FromGroup: "admins", ToGroup: "servers", Protocol: tunnel.ProtoTCP,
				Ports: []tunnel.PortRange{{First: 22, Last: 22}, {First: 80, Last: 90}, {First: 85, Last: 100}}},
			{FromGroup: "servers", ToGroup: "admins", Protocol: tunnel.ProtoICMP},
			{FromAddr: a("100.64.0.9"), ToGroup: "servers", Protocol: tunnel.ProtoUDP, Ports: []tunnel.PortRange{{First: 53, Last: 53}}},
			{FromGroup: "admins", ToGroup: "internet", Protocol: tunnel.ProtoAll},
		},
	}
}

// TestGoldenInstall records the batches of InstallPolicy and of the
// Install that follows (the whole table: ACL and policy in one
// transaction).
func TestGoldenInstall(t *testing.T) {
	_, k := installGolden(t)
	checkBatches(t, "install.golden", k, "InstallPolicy", "Install")
}

// installGolden installs the golden policy and then the golden ruleset on
// a fake kernel.
func installGolden(t *testing.T) (*Firewall, *fakeKernel) {
	t.Helper()
	f, k := newFake(t)
	ctx := context.Background()
	if err := f.InstallPolicy(ctx, goldenPolicy()); err != nil {
		t.Fatalf("InstallPolicy: %v", err)
	}
	if err := f.Install(ctx, goldenRuleset()); err != nil {
		t.Fatalf("Install: %v", err)
	}
	return f, k
}

// TestGoldenDeltas records the batches of an Apply (removes, new interval
// sets, refreshed and fresh elements) and of an ApplyMembers.
func TestGoldenDeltas(t *testing.T) {
	f, k := installGolden(t)
	ctx := context.Background()
	a := netip.MustParseAddr
	d := acl.Delta{
		Remove: []acl.Element{{Kind: acl.KindBan, Addr: a("192.0.2.2")}, {Kind: acl.KindGrey, Addr: a("2001:db8::5")}},
		Nets:   &acl.Nets{Trust: pfx("10.0.0.0/8"), BanNets: pfx("198.51.100.0/25", "2001:db8:bad::/48")},
		Add:    []acl.Element{{Kind: acl.KindBan, Addr: a("192.0.2.1"), Timeout: 2 * time.Hour}},
		Fresh:  []acl.Element{{Kind: acl.KindBanPort, Addr: a("::ffff:192.0.2.9"), Port: 8443, Timeout: time.Minute}},
	}
	if err := f.Apply(ctx, d); err != nil {
		t.Fatalf("Apply: %v", err)
	}
	m := tunnel.Members{
		Remove: []tunnel.Member{{Group: "admins", Addr: a("100.64.0.3")}},
		Add:    []tunnel.Member{{Group: "servers", Addr: a("100.64.0.11")}, {Group: "admins", Addr: a("100.64.0.12")}},
	}
	if err := f.ApplyMembers(ctx, m); err != nil {
		t.Fatalf("ApplyMembers: %v", err)
	}
	k.batches = k.batches[2:] // the install is TestGoldenInstall's
	checkBatches(t, "deltas.golden", k, "Apply", "ApplyMembers")
}

// checkBatches renders the fake kernel's batches, one per call named, and
// compares them with testdata/name.
func checkBatches(t *testing.T, name string, k *fakeKernel, calls ...string) {
	t.Helper()
	k.mu.Lock()
	defer k.mu.Unlock()
	if len(k.batches) != len(calls) {
		t.Fatalf("%d batches, want one for each of %v", len(k.batches), calls)
	}
	var b strings.Builder
	fmt.Fprintf(&b, "# Batches sent to the kernel by hw/nft (go test ./hw/nft -run Golden -update rewrites this file).\n")
	fmt.Fprintf(&b, "# Each message: its type, flags and length, the nfgenmsg header, then its attributes by\n")
	fmt.Fprintf(&b, "# number (nested ones opened, names shown as text, the rest in hex). Sequence numbers\n")
	fmt.Fprintf(&b, "# and the port id are left out: the socket draws the first sequence number at random.\n")
	for i, batch := range k.batches {
		fmt.Fprintf(&b, "\n## %s\n", calls[i])
		for j, m := range batch {
			renderMessage(&b, j, m)
		}
	}
	golden.Check(t, *update, filepath.Join("testdata", name), []byte(b.String()))
}

// msgNames names the message types the adapter sends.
var msgNames = map[netlink.HeaderType]string{
	netlink.HeaderType(unix.NFNL_MSG_BATCH_BEGIN): "BATCH_BEGIN",
	netlink.HeaderType(unix.NFNL_MSG_BATCH_END):   "BATCH_END",
	nftType(unix.NFT_MSG_NEWTABLE):                "NEWTABLE",
	nftType(unix.NFT_MSG_DELTABLE):                "DELTABLE",
	nftType(unix.NFT_MSG_NEWCHAIN):                "NEWCHAIN",
	nftType(unix.NFT_MSG_DELCHAIN):                "DELCHAIN",
	nftType(unix.NFT_MSG_NEWRULE):                 "NEWRULE",
	nftType(unix.NFT_MSG_NEWSET):                  "NEWSET",
	nftType(unix.NFT_MSG_DELSET):                  "DELSET",
	nftType(unix.NFT_MSG_NEWSETELEM):              "NEWSETELEM",
	nftType(unix.NFT_MSG_DELSETELEM):              "DELSETELEM",
}

func renderMessage(b *strings.Builder, i int, m netlink.Message) {
	name, ok := msgNames[m.Header.Type]
	if !ok {
		name = fmt.Sprintf("type %#04x", uint16(m.Header.Type))
	}
	fmt.Fprintf(b, "[%d] %s flags=%#04x len=%d\n", i, name, uint16(m.Header.Flags), m.Header.Length)
	if len(m.Data) < 4 {
		fmt.Fprintf(b, "  short message % x\n", m.Data)
		return
	}
	fmt.Fprintf(b, "  family=%d version=%d res_id=%#04x\n", m.Data[0], m.Data[1], uint16(m.Data[2])<<8|uint16(m.Data[3]))
	renderAttrs(b, m.Data[4:], 1)
}

// renderAttrs writes attributes one a line, opening nested ones. Bytes
// that do not read back as exactly these attributes (the library flags
// some plain values as nested) are written in hex, so nothing is lost.
func renderAttrs(b *strings.Builder, data []byte, depth int) {
	indent := strings.Repeat("  ", depth)
	attrs, err := netlink.UnmarshalAttributes(data)
	if err == nil {
		var again []byte
		again, err = netlink.MarshalAttributes(attrs)
		if err == nil && !bytes.Equal(again, data) {
			err = errors.New("not attributes")
		}
	}
	if err != nil {
		fmt.Fprintf(b, "%sraw %x\n", indent, data)
		return
	}
	for _, a := range attrs {
		typ := a.Type &^ (unix.NLA_F_NESTED | unix.NLA_F_NET_BYTEORDER)
		if a.Type&unix.NLA_F_NESTED != 0 {
			fmt.Fprintf(b, "%s%d nested\n", indent, typ)
			renderAttrs(b, a.Data, depth+1)
			continue
		}
		if s, ok := cString(a.Data); ok {
			fmt.Fprintf(b, "%s%d %s\n", indent, typ, strconv.Quote(s))
			continue
		}
		fmt.Fprintf(b, "%s%d %x\n", indent, typ, a.Data)
	}
}

// cString returns data as text when it is a NUL-terminated name (table,
// set, chain and expression names, interface names padded with NULs).
func cString(data []byte) (string, bool) {
	s := strings.TrimRight(string(data), "\x00")
	if len(s) == 0 || len(s) == len(data) {
		return "", false
	}
	for _, c := range []byte(s) {
		if c < 0x20 || c > 0x7e {
			return "", false
		}
	}
	return s, true
}
