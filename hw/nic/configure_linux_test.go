package nic

import (
	"net/netip"
	"testing"

	"github.com/edgeward/edgeward/core"
	"github.com/edgeward/edgeward/core/links"
	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

func TestCheck(t *testing.T) {
	a := netip.MustParseAddr
	tests := []struct {
		name    string
		d       links.Desired
		want    []netip.Prefix
		wantErr error
	}{
		{name: "zero", d: links.Desired{}},
		{name: "duplicates dropped", d: links.Desired{MTU: 1500, Addrs: pfx("192.0.2.1/24", "2001:db8::1/64", "192.0.2.1/24")},
			want: pfx("192.0.2.1/24", "2001:db8::1/64")},
		{name: "negative mtu", d: links.Desired{MTU: -1}, wantErr: core.ErrInvalid},
		{name: "invalid prefix", d: links.Desired{Addrs: []netip.Prefix{{}}}, wantErr: core.ErrInvalid},
		{name: "unspecified address", d: links.Desired{Addrs: pfx("0.0.0.0/0")}, wantErr: core.ErrInvalid},
		{name: "multicast address", d: links.Desired{Addrs: pfx("ff02::1/64")}, wantErr: core.ErrInvalid},
		{name: "ipv4-mapped address", d: links.Desired{Addrs: pfx("::ffff:192.0.2.1/120")}, wantErr: core.ErrInvalid},
		{name: "ipv6 as ipv4 gateway", d: links.Desired{GatewayV4: a("2001:db8::1")}, wantErr: core.ErrInvalid},
		{name: "ipv4 as ipv6 gateway", d: links.Desired{GatewayV6: a("192.0.2.1")}, wantErr: core.ErrInvalid},
		{name: "gateways", d: links.Desired{GatewayV4: a("192.0.2.254"), GatewayV6: a("fe80::1")}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := check(tt.d)
			if diff := cmp.Diff(tt.wantErr, err, cmpopts.EquateErrors()); diff != "" {
				t.Errorf("check error (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tt.want, got, equateIP); diff != "" {
				t.Errorf("check addresses (-want +got):\n%s", diff)
			}
		})
	}
}

func TestBroadcast(t *testing.T) {
	tests := []struct{ prefix, want string }{
		{"192.0.2.1/24", "192.0.2.255"},
		{"10.1.2.3/8", "10.255.255.255"},
		{"172.16.5.4/20", "172.16.15.255"},
		{"192.0.2.9/30", "192.0.2.11"},
		{"0.0.0.1/0", "255.255.255.255"},
	}
	for _, tt := range tests {
		t.Run(tt.prefix, func(t *testing.T) {
			if got := Broadcast(netip.MustParsePrefix(tt.prefix)).String(); got != tt.want {
				t.Errorf("Broadcast(%s) = %s, want %s", tt.prefix, got, tt.want)
			}
		})
	}
}
