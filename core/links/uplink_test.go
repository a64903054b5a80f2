package links

import (
	"net/netip"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// TestUplink: the link with the IPv4 default route wins over one with
// only an IPv6 default; link-local addresses are left out; no default
// route, no uplink.
func TestUplink(t *testing.T) {
	v6gw := netip.MustParseAddr("fe80::1")
	tests := []struct {
		name   string
		edit   func(k *fakeKernel)
		want   Uplink
		wantOK bool
		text   string
	}{
		{"IPv4 default", func(*fakeKernel) {}, Uplink{Name: "eth0", Gateway: netip.MustParseAddr("192.168.1.254"),
			Addrs: []netip.Addr{netip.MustParseAddr("192.168.1.1"), netip.MustParseAddr("192.168.1.2"), netip.MustParseAddr("2001:db8::1")}},
			true, "192.168.1.1, 192.168.1.2, 2001:db8::1 on eth0"},
		{"IPv6 default only", func(k *fakeKernel) {
			k.edit("eth0", func(l *Link) { l.GatewayV4 = netip.Addr{} })
			k.edit("eth1", func(l *Link) {
				l.GatewayV6 = v6gw
				l.Addrs = append(l.Addrs, static("fe80::2/64"))
			})
		}, Uplink{Name: "eth1", Gateway: v6gw, Addrs: []netip.Addr{netip.MustParseAddr("10.0.0.7")}}, true, "10.0.0.7 on eth1"},
		{"no default route", func(k *fakeKernel) {
			k.edit("eth0", func(l *Link) { l.GatewayV4 = netip.Addr{} })
		}, Uplink{}, false, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			k := lab()
			tt.edit(k)
			f := newFixture(t, k)
			got, ok := f.svc.Uplink(t.Context())
			if ok != tt.wantOK {
				t.Errorf("ok %v, want %v", ok, tt.wantOK)
			}
			if diff := cmp.Diff(tt.want, got, cmp.Comparer(func(a, b netip.Addr) bool { return a == b })); diff != "" {
				t.Errorf("uplink (-want +got):\n%s", diff)
			}
			if ok && got.String() != tt.text {
				t.Errorf("String() %q, want %q", got.String(), tt.text)
			}
		})
	}
}
