package nft

import (
	"cmp"
	"fmt"
	"net/netip"
	"slices"

	"github.com/edgeward/edgeward/core"
)

// addrRange is an inclusive range of addresses of one family.
type addrRange struct {
	From, To netip.Addr
}

// normalPrefix returns p masked, with an IPv4-mapped IPv6 prefix turned
// into the IPv4 prefix it stands for, so that one address never appears in
// both families' sets.
func normalPrefix(p netip.Prefix) (netip.Prefix, error) {
	if !p.IsValid() {
		return netip.Prefix{}, fmt.Errorf("prefix %q: %w", p, core.ErrInvalid)
	}
	a := p.Addr().WithZone("")
	if a.Is4In6() && p.Bits() >= 96 {
		return netip.PrefixFrom(a.Unmap(), p.Bits()-96).Masked(), nil
	}
	return netip.PrefixFrom(a, p.Bits()).Masked(), nil
}

// lastAddr returns the highest address of the masked prefix p.
func lastAddr(p netip.Prefix) netip.Addr {
	b := p.Addr().As16()
	bits := p.Bits()
	if p.Addr().Is4() {
		bits += 96
	}
	for i := bits; i < 128; i++ {
		b[i/8] |= 1 << (7 - i%8)
	}
	if p.Addr().Is4() {
		return netip.AddrFrom4([4]byte(b[12:]))
	}
	return netip.AddrFrom16(b)
}

// mergePrefixes turns ps into sorted, disjoint, non-adjacent ranges per
// family. The kernel refuses overlapping intervals in one set, and adjacent
// ones would need an end and a start element with the same key, so both
// are merged here.
func mergePrefixes(ps []netip.Prefix) (v4, v6 []addrRange, err error) {
	for _, p := range ps {
		n, err := normalPrefix(p)
		if err != nil {
			return nil, nil, err
		}
		r := addrRange{From: n.Addr(), To: lastAddr(n)}
		if n.Addr().Is4() {
			v4 = append(v4, r)
		} else {
			v6 = append(v6, r)
		}
	}
	return mergeRanges(v4), mergeRanges(v6), nil
}

// mergeRanges sorts rs and joins the ranges that overlap or touch.
func mergeRanges(rs []addrRange) []addrRange {
	if len(rs) == 0 {
		return nil
	}
	slices.SortFunc(rs, func(a, b addrRange) int {
		return cmp.Or(a.From.Compare(b.From), a.To.Compare(b.To))
	})
	out := []addrRange{rs[0]}
	for _, r := range rs[1:] {
		last := &out[len(out)-1]
		next := last.To.Next() // invalid when last.To is the family's highest address
		if !next.IsValid() || r.From.Compare(next) <= 0 {
			if r.To.Compare(last.To) > 0 {
				last.To = r.To
			}
			continue
		}
		out = append(out, r)
	}
	return out
}

// chunked splits s into consecutive pieces of at most size elements. The
// pieces share s's backing array.
func chunked[T any](s []T, size int) [][]T {
	if size <= 0 {
		panic("nft: chunk size must be positive")
	}
	var out [][]T
	for len(s) > size {
		out = append(out, s[:size:size])
		s = s[size:]
	}
	if len(s) > 0 {
		out = append(out, s)
	}
	return out
}
