package nft

import (
	"net/netip"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/nftables"
	"github.com/mdlayher/netlink"
	"golang.org/x/sys/unix"
)

// libraryBody returns the body of the NEWSETELEM message v0.3.0 of the
// library encodes for es.
func libraryBody(t *testing.T, s *nftables.Set, es []nftables.SetElement) []byte {
	t.Helper()
	var got []netlink.Message
	c, err := nftables.New(nftables.WithTestDial(func(req []netlink.Message) ([]netlink.Message, error) {
		if len(req) > 2 {
			got = append(got, req[1:len(req)-1]...)
		}
		return nil, nil
	}))
	if err != nil {
		t.Fatal(err)
	}
	if err := c.SetAddElements(s, es); err != nil {
		t.Fatalf("SetAddElements: %v", err)
	}
	_ = c.Flush() // the fake sends no acks: only the request matters
	if len(got) != 1 {
		t.Fatalf("library sent %d messages, want 1", len(got))
	}
	return got[0].Data
}

func TestElemWriterMatchesLibrary(t *testing.T) {
	lay := newLayout(settings{greyTimeout: time.Minute, greySize: 16})
	a := netip.MustParseAddr
	key := func(addr string, port ...uint16) []byte {
		b := addrKey(a(addr))
		for _, p := range port {
			b = append(b, byte(p>>8), byte(p), 0, 0)
		}
		return b
	}
	tests := []struct {
		name  string
		set   string
		elems []nftables.SetElement
	}{
		{"ipv4 addresses", setBan4, []nftables.SetElement{{Key: key("192.0.2.1")}, {Key: key("192.0.2.2")}}},
		{"ipv4 with timeouts", setBan4, []nftables.SetElement{
			{Key: key("192.0.2.1"), Timeout: time.Hour}, {Key: key("192.0.2.2")},
			{Key: key("192.0.2.3"), Timeout: 1500 * time.Microsecond}}},
		{"ipv6 with timeouts", setBan6, []nftables.SetElement{
			{Key: key("2001:db8::1"), Timeout: 30 * time.Minute}, {Key: key("2001:db8::2")}}},
		{"ipv4 address and port", setBanPort4, []nftables.SetElement{
			{Key: key("192.0.2.3", 22)}, {Key: key("192.0.2.4", 443), Timeout: 2 * time.Hour}}},
		{"ipv6 address and port", setBanPort6, []nftables.SetElement{
			{Key: key("2001:db8::2", 443), Timeout: 2 * time.Hour}, {Key: key("2001:db8::3", 65535)}}},
		{"ipv4 ranges", setBanNet4, intervalElements([]addrRange{
			{From: a("198.51.100.0"), To: a("198.51.100.255")}, {From: a("203.0.113.7"), To: a("203.0.113.7")},
			{From: a("240.0.0.0"), To: a("255.255.255.255")}})},
		{"ipv6 ranges", setTrust6, intervalElements([]addrRange{
			{From: a("2001:db8::"), To: a("2001:db8::ffff")}, {From: a("ffff::"), To: a("ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff")}})},
		{"greylist, set timeout", setGrey4, []nftables.SetElement{{Key: key("203.0.113.5"), Timeout: 90 * time.Second}}},
		{"timeout on a set without timeouts", setBanNet4, []nftables.SetElement{{Key: key("192.0.2.9"), Timeout: time.Hour}}},
		{"one element", setNoGrey4, []nftables.SetElement{{Key: key("10.0.0.1")}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := lay.sets[tt.set]
			w := newElemWriter(s, len(tt.elems))
			for _, e := range tt.elems {
				w.add(e.Key, e.Timeout, e.IntervalEnd)
			}
			want := libraryBody(t, s, tt.elems)
			if diff := cmp.Diff(want, w.bytes()); diff != "" {
				t.Errorf("element message body (-library +ours):\n%s", diff)
			}
		})
	}
}

// A full chunk of the largest element must stay within the size the
// writer reserved, so that building a message never reallocates, and its
// bytes must still be the library's.
func TestElemWriterFullChunk(t *testing.T) {
	lay := newLayout(settings{greyTimeout: time.Minute, greySize: 16})
	s := lay.sets[setBanPort6]
	es := make([]nftables.SetElement, chunkSize)
	for i := range es {
		b := netip.MustParseAddr("2001:db8::").As16()
		b[14], b[15] = byte(i>>8), byte(i)
		es[i] = nftables.SetElement{Key: append(b[:], 0, 22, 0, 0), Timeout: time.Duration(i+1) * time.Second}
	}
	w := newElemWriter(s, len(es))
	reserved := cap(w.b)
	for _, e := range es {
		w.add(e.Key, e.Timeout, false)
	}
	got := w.bytes()
	if cap(got) != reserved {
		t.Errorf("buffer grew from %d to %d bytes", reserved, cap(got))
	}
	if diff := cmp.Diff(libraryBody(t, s, es), got); diff != "" {
		t.Errorf("element message body (-library +ours):\n%s", diff)
	}
	if m := elemMessage(unix.NFT_MSG_DELSETELEM, got); m.Header.Type != nftType(unix.NFT_MSG_DELSETELEM) {
		t.Errorf("message type %#x, want DELSETELEM", m.Header.Type)
	}
}
