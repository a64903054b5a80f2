package nft

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"sync"
	"testing"
	"time"

	"github.com/edgeward/edgeward/core"
	"github.com/edgeward/edgeward/core/acl"
	"github.com/google/go-cmp/cmp"
	"github.com/google/nftables/binaryutil"
	"github.com/mdlayher/netlink"
	"github.com/mdlayher/netlink/nltest"
	"golang.org/x/sys/unix"
)

// fakeKernel answers the netlink requests of a Firewall without a kernel:
// it records each batch, acknowledges every message, counts generations
// and holds no table (a dump of tables is empty).
type fakeKernel struct {
	mu      sync.Mutex
	gen     uint32
	errno   unix.Errno // when set, every request fails with it
	batches [][]netlink.Message
}

func nftType(msg int) netlink.HeaderType {
	return netlink.HeaderType(unix.NFNL_SUBSYS_NFTABLES<<8 | msg)
}

func (k *fakeKernel) dial(req []netlink.Message) ([]netlink.Message, error) {
	k.mu.Lock()
	defer k.mu.Unlock()
	switch {
	case len(req) == 0:
		return nil, nil // the library reading an ack it already got
	case k.errno != 0:
		return nltest.Error(int(k.errno), req)
	case req[0].Header.Type == nftType(unix.NFT_MSG_GETGEN):
		attrs := nltest.MustMarshalAttributes([]netlink.Attribute{
			{Type: unix.NFTA_GEN_ID, Data: binaryutil.BigEndian.PutUint32(k.gen)}})
		h := req[0].Header
		h.Type = genHeader
		return []netlink.Message{{Header: h, Data: append([]byte{unix.AF_UNSPEC, 0, 0, 0}, attrs...)}}, nil
	case req[0].Header.Type == nftType(unix.NFT_MSG_GETTABLE) && req[0].Header.Flags&netlink.Dump != 0:
		return nil, io.EOF // no table yet: an empty dump
	case req[0].Header.Type == netlink.HeaderType(unix.NFNL_MSG_BATCH_BEGIN):
		k.batches = append(k.batches, req)
		k.gen++
		var acks []netlink.Message
		for _, m := range req[1 : len(req)-1] {
			h := m.Header
			h.Type = netlink.Error
			acks = append(acks, netlink.Message{Header: h, Data: make([]byte, 4)})
		}
		return acks, nil
	}
	return nil, fmt.Errorf("fake kernel: unexpected request type %#x", req[0].Header.Type)
}

func newFake(t *testing.T) (*Firewall, *fakeKernel) {
	t.Helper()
	k := &fakeKernel{gen: 7}
	f, err := newFirewall(Options{}, k.dial)
	if err != nil {
		t.Fatalf("newFirewall: %v", err)
	}
	t.Cleanup(func() { _ = f.Close() })
	return f, k
}

// summary is a batch as message types, and for element messages the set
// and the number of elements.
func summary(t *testing.T, batch []netlink.Message) []string {
	t.Helper()
	names := map[netlink.HeaderType]string{
		nftType(unix.NFT_MSG_NEWTABLE): "newtable", nftType(unix.NFT_MSG_DELTABLE): "deltable",
		nftType(unix.NFT_MSG_NEWSET): "newset", nftType(unix.NFT_MSG_NEWCHAIN): "newchain",
		nftType(unix.NFT_MSG_NEWRULE): "newrule", nftType(unix.NFT_MSG_NEWSETELEM): "newsetelem",
		nftType(unix.NFT_MSG_DELSETELEM): "delsetelem",
	}
	var out []string
	for _, m := range batch[1 : len(batch)-1] {
		s := names[m.Header.Type]
		if s == "newsetelem" || s == "delsetelem" {
			set, n := elemList(t, m)
			s = fmt.Sprintf("%s %s %d", s, set, n)
		}
		out = append(out, s)
	}
	return out
}

// elemList decodes an element message and fails the test when its element
// list attribute would not fit the 16-bit netlink length.
func elemList(t *testing.T, m netlink.Message) (string, int) {
	t.Helper()
	attrs, err := netlink.UnmarshalAttributes(m.Data[4:])
	if err != nil {
		t.Fatalf("element message: %v", err)
	}
	var set string
	n := -1
	for _, a := range attrs {
		switch a.Type &^ unix.NLA_F_NESTED {
		case unix.NFTA_SET_ELEM_LIST_SET:
			set = string(a.Data[:len(a.Data)-1])
		case unix.NFTA_SET_ELEM_LIST_ELEMENTS:
			if int(a.Length) != len(a.Data)+4 || a.Length > 60<<10 {
				t.Fatalf("element list of %d bytes, attribute length %d: too close to 64 KiB", len(a.Data), a.Length)
			}
			elems, err := netlink.UnmarshalAttributes(a.Data)
			if err != nil {
				t.Fatalf("element list: %v", err)
			}
			n = len(elems)
		}
	}
	return set, n
}

func addrs(first string, n int) []netip.Addr {
	a := netip.MustParseAddr(first)
	out := make([]netip.Addr, n)
	for i := range out {
		out[i] = a
		a = a.Next()
	}
	return out
}

func TestInstallIsOneBatchOfSmallMessages(t *testing.T) {
	f, k := newFake(t)
	var es []acl.Element
	for _, a := range addrs("10.0.0.0", 2500) {
		es = append(es, acl.Element{Kind: acl.KindBan, Addr: a, Timeout: time.Hour})
	}
	for _, a := range addrs("2001:db8::", 1100) {
		es = append(es, acl.Element{Kind: acl.KindBanPort, Addr: a, Port: 443, Timeout: 365 * 24 * time.Hour})
	}
	es = append(es, es[0]) // a duplicate goes once
	if err := f.Install(context.Background(), acl.Ruleset{Elements: es, BanNets: pfx("192.0.2.0/24")}); err != nil {
		t.Fatalf("Install: %v", err)
	}
	if len(k.batches) != 1 {
		t.Fatalf("%d batches, want 1", len(k.batches))
	}
	got := summary(t, k.batches[0])
	want := []string{"newtable", "deltable", "newtable"}
	for range 16 { // 12, then wgmeter and nogrey of each family
		want = append(want, "newset")
	}
	// The chain (no meter chain without guarded ports), then the anonymous {tcp, udp} sets with their elements.
	want = append(want, "newchain", "newset", "newsetelem __set%d 2", "newset", "newsetelem __set%d 2")
	for range 11 {
		want = append(want, "newrule")
	}
	want = append(want, "newsetelem bannet4 2", "newsetelem ban4 1024", "newsetelem ban4 1024",
		"newsetelem ban4 452", "newsetelem banport6 1024", "newsetelem banport6 76")
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("batch (-want +got):\n%s", diff)
	}
}

func TestApplyRefreshesInOneTransaction(t *testing.T) {
	f, k := newFake(t)
	ctx := context.Background()
	if err := f.Apply(ctx, acl.Delta{}); !errors.Is(err, core.ErrNotFound) {
		t.Fatalf("Apply before Install = %v, want ErrNotFound", err)
	}
	if err := f.Install(ctx, acl.Ruleset{}); err != nil {
		t.Fatalf("Install: %v", err)
	}
	d := acl.Delta{
		Remove: []acl.Element{{Kind: acl.KindGrey, Addr: netip.MustParseAddr("192.0.2.1")}},
		Add:    []acl.Element{{Kind: acl.KindBan, Addr: netip.MustParseAddr("::ffff:192.0.2.2"), Timeout: time.Minute}},
		Nets:   &acl.Nets{Trust: pfx("2001:db8::1/128")},
	}
	if err := f.Apply(ctx, d); err != nil {
		t.Fatalf("Apply: %v", err)
	}
	want := []string{"newsetelem grey4 1", "delsetelem grey4 1", "delsetelem trust4 -1", "delsetelem trust6 -1", "newsetelem trust6 2",
		"delsetelem bannet4 -1", "delsetelem bannet6 -1", "newsetelem ban4 1", "delsetelem ban4 1", "newsetelem ban4 1"}
	if diff := cmp.Diff(want, summary(t, k.batches[1])); diff != "" {
		t.Errorf("batch (-want +got):\n%s", diff)
	}
}

func TestApplySplitsHugeDeltas(t *testing.T) {
	f, k := newFake(t)
	ctx := context.Background()
	if err := f.Install(ctx, acl.Ruleset{}); err != nil {
		t.Fatalf("Install: %v", err)
	}
	var d acl.Delta
	for _, a := range addrs("10.0.0.0", 30000) {
		d.Add = append(d.Add, acl.Element{Kind: acl.KindBan, Addr: a})
	}
	if err := f.Apply(ctx, d); err != nil {
		t.Fatalf("Apply: %v", err)
	}
	// 30,000 elements sent three times each: transactions close once they
	// reach maxTxElements operations, after a whole chunk (added, deleted
	// and added again), so each holds fewer than maxTxElements plus one
	// such chunk.
	ops, most := 3*30000, maxTxElements+3*chunkSize
	lo, hi := (ops+most-1)/most, (ops+maxTxElements-1)/maxTxElements
	if got := len(k.batches) - 1; got < max(lo, 2) || got > hi {
		t.Fatalf("%d transactions, want %d to %d", got, max(lo, 2), hi)
	}
}

func TestErrorsMapToSentinels(t *testing.T) {
	tests := []struct {
		name  string
		errno unix.Errno
		want  error
	}{
		{"no CAP_NET_ADMIN", unix.EPERM, core.ErrPermission},
		{"other errno stays", unix.EINVAL, unix.EINVAL},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			k := &fakeKernel{errno: tt.errno}
			_, err := newFirewall(Options{}, k.dial)
			if !errors.Is(err, tt.want) {
				t.Fatalf("newFirewall = %v, want an error matching %v", err, tt.want)
			}
		})
	}
}

func TestCheckBeforeInstall(t *testing.T) {
	f, _ := newFake(t)
	h, err := f.Check(context.Background())
	want := acl.Health{Drifted: true, Why: "table inet edgeward not installed by this process"}
	if err != nil || h != want {
		t.Fatalf("Check = %+v, %v; want %+v", h, err, want)
	}
}
