package nft

import (
	"net/netip"
	"testing"

	"github.com/edgeward/edgeward/core"
	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

func r(from, to string) addrRange {
	return addrRange{From: netip.MustParseAddr(from), To: netip.MustParseAddr(to)}
}

func pfx(ss ...string) []netip.Prefix {
	out := make([]netip.Prefix, len(ss))
	for i, s := range ss {
		out[i] = netip.MustParsePrefix(s)
	}
	return out
}

func TestMergePrefixes(t *testing.T) {
	tests := []struct {
		name    string
		in      []netip.Prefix
		wantV4  []addrRange
		wantV6  []addrRange
		wantErr error
	}{
		{name: "empty"},
		{name: "one host", in: pfx("192.0.2.7/32"), wantV4: []addrRange{r("192.0.2.7", "192.0.2.7")}},
		{name: "unmasked prefix", in: pfx("192.0.2.7/24"), wantV4: []addrRange{r("192.0.2.0", "192.0.2.255")}},
		{name: "contained", in: pfx("10.0.0.0/8", "10.1.2.0/24", "10.1.2.3/32"),
			wantV4: []addrRange{r("10.0.0.0", "10.255.255.255")}},
		{name: "overlap in any order", in: pfx("10.1.2.3/32", "10.1.0.0/16", "10.0.0.0/15"),
			wantV4: []addrRange{r("10.0.0.0", "10.1.255.255")}},
		{name: "adjacent halves join", in: pfx("192.0.2.128/25", "192.0.2.0/25"),
			wantV4: []addrRange{r("192.0.2.0", "192.0.2.255")}},
		{name: "gap of one address stays", in: pfx("192.0.2.0/31", "192.0.2.3/32"),
			wantV4: []addrRange{r("192.0.2.0", "192.0.2.1"), r("192.0.2.3", "192.0.2.3")}},
		{name: "whole space and top", in: pfx("255.255.255.255/32", "0.0.0.0/0"),
			wantV4: []addrRange{r("0.0.0.0", "255.255.255.255")}},
		{name: "top of space after a lower range", in: pfx("255.255.255.254/31", "255.255.255.0/24"),
			wantV4: []addrRange{r("255.255.255.0", "255.255.255.255")}},
		{name: "families apart", in: pfx("2001:db8::/32", "192.0.2.0/24", "2001:db8:1::/48"),
			wantV4: []addrRange{r("192.0.2.0", "192.0.2.255")},
			wantV6: []addrRange{r("2001:db8::", "2001:db8:ffff:ffff:ffff:ffff:ffff:ffff")}},
		{name: "IPv4-mapped goes to IPv4", in: pfx("::ffff:192.0.2.0/120", "192.0.3.0/24"),
			wantV4: []addrRange{r("192.0.2.0", "192.0.3.255")}},
		{name: "invalid", in: []netip.Prefix{{}}, wantErr: core.ErrInvalid},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v4, v6, err := mergePrefixes(tt.in)
			if diff := cmp.Diff(tt.wantErr, err, cmpopts.EquateErrors()); diff != "" {
				t.Fatalf("error (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tt.wantV4, v4, cmp.Comparer(func(a, b netip.Addr) bool { return a == b })); diff != "" {
				t.Errorf("IPv4 (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tt.wantV6, v6, cmp.Comparer(func(a, b netip.Addr) bool { return a == b })); diff != "" {
				t.Errorf("IPv6 (-want +got):\n%s", diff)
			}
		})
	}
}

func TestChunked(t *testing.T) {
	tests := []struct {
		name string
		n    int
		size int
		want []int // lengths of the chunks
	}{
		{"empty", 0, 3, nil},
		{"less than one", 2, 3, []int{2}},
		{"exactly one", 3, 3, []int{3}},
		{"one more", 4, 3, []int{3, 1}},
		{"many", 2500, 1024, []int{1024, 1024, 452}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := make([]int, tt.n)
			for i := range in {
				in[i] = i
			}
			var got []int
			next := 0
			for _, c := range chunked(in, tt.size) {
				got = append(got, len(c))
				for _, v := range c {
					if v != next {
						t.Fatalf("element %d out of order (want %d)", v, next)
					}
					next++
				}
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("chunk lengths (-want +got):\n%s", diff)
			}
		})
	}
}
