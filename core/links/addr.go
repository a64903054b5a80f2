package links

import (
	"errors"
	"fmt"
	"math/bits"
	"net/netip"
	"strconv"
	"strings"
)

// maxAddrs bounds how many addresses one network's ranges may expand to:
// each becomes a kernel address.
const maxAddrs = 1024

// mask is a parsed netmask: its length, its family and, for the CIDR
// form, the network it names.
type mask struct {
	bits int
	v6   bool
	net  netip.Prefix // zero for the dotted form
}

// parseMask reads a dotted ("255.255.255.0", "ffff:ffff::") or CIDR
// ("10.1.1.0/24", "2001:db8::/32") netmask.
func parseMask(s string) (mask, error) {
	if strings.Contains(s, "/") {
		p, err := netip.ParsePrefix(s)
		if err != nil || p.Addr().Zone() != "" {
			return mask{}, errors.New("is neither a dotted netmask nor a CIDR prefix")
		}
		return mask{bits: p.Bits(), v6: !p.Addr().Is4(), net: p.Masked()}, nil
	}
	a, err := netip.ParseAddr(s)
	if err != nil || a.Zone() != "" || a.Is4In6() {
		return mask{}, errors.New("is neither a dotted netmask nor a CIDR prefix")
	}
	b := a.AsSlice()
	n := 0
	for _, x := range b {
		n += bits.OnesCount8(x)
	}
	// Contiguous: the first n bits are ones, so the mask equals /n.
	if want := netip.PrefixFrom(a, n).Masked(); want.Addr() != a || !allOnes(b, n) {
		return mask{}, errors.New("is not a contiguous netmask")
	}
	return mask{bits: n, v6: a.Is6()}, nil
}

// ParseNetmask reads a netmask as a Network keeps it, dotted
// ("255.255.255.0", "ffff:ffff::") or CIDR ("10.1.1.0/24"), and returns
// its prefix length and whether it is an IPv6 one. The error is
// public-safe and meant to follow the netmask in a message.
func ParseNetmask(s string) (bits int, v6 bool, err error) {
	m, err := parseMask(s)
	return m.bits, m.v6, err
}

func allOnes(b []byte, n int) bool {
	for i := range n {
		if b[i/8]&(0x80>>(i%8)) == 0 {
			return false
		}
	}
	return true
}

// dotted writes a prefix length as the family's mask: "255.255.255.0" for
// IPv4, "2001:db8::/64"-style CIDR for IPv6 (of the given network).
func dotted(p netip.Prefix) string {
	if !p.Addr().Is4() {
		return p.Masked().String()
	}
	m := ^uint32(0) << (32 - p.Bits())
	if p.Bits() == 0 {
		m = 0
	}
	return netip.AddrFrom4([4]byte{byte(m >> 24), byte(m >> 16), byte(m >> 8), byte(m)}).String()
}

// parseRange reads "10.1.1.20", "10.1.1.20-21" (the last octet, or for
// IPv6 the last hex group) or "10.1.1.20-10.1.1.25".
func parseRange(s string) (first, last netip.Addr, err error) {
	lo, hi, isRange := strings.Cut(strings.TrimSpace(s), "-")
	first, err = parseHost(lo)
	if err != nil {
		return first, last, err
	}
	if !isRange {
		return first, first, nil
	}
	if strings.ContainsAny(hi, ".:") {
		last, err = parseHost(hi)
		if err != nil {
			return first, last, err
		}
	} else {
		last, err = shorthand(first, hi)
		if err != nil {
			return first, last, err
		}
	}
	if first.Is4() != last.Is4() {
		return first, last, fmt.Errorf("%q mixes IPv4 and IPv6", s)
	}
	if last.Less(first) {
		return first, last, fmt.Errorf("%q ends before it starts", s)
	}
	return first, last, nil
}

func parseHost(s string) (netip.Addr, error) {
	a, err := netip.ParseAddr(s)
	switch {
	case err != nil:
		return a, fmt.Errorf("%q is not an IP address", s)
	case a.Zone() != "" || a.Is4In6():
		return a, fmt.Errorf("%q: zones and IPv4-mapped addresses are not allowed", s)
	case !a.IsGlobalUnicast() && !a.IsPrivate():
		return a, fmt.Errorf("%q is not a unicast host address", s)
	}
	return a, nil
}

func shorthand(first netip.Addr, s string) (netip.Addr, error) {
	b := first.AsSlice()
	if first.Is4() {
		n, err := strconv.ParseUint(s, 10, 8)
		if err != nil {
			return netip.Addr{}, fmt.Errorf("%q is not a last octet (0-255)", s)
		}
		b[3] = byte(n)
	} else {
		n, err := strconv.ParseUint(s, 16, 16)
		if err != nil {
			return netip.Addr{}, fmt.Errorf("%q is not a last hex group", s)
		}
		b[14], b[15] = byte(n>>8), byte(n)
	}
	a, _ := netip.AddrFromSlice(b)
	return a, nil
}

// expand lists the addresses of ranges, in order, at most maxAddrs.
func expand(ranges []string) ([]netip.Addr, error) {
	var out []netip.Addr
	for _, r := range ranges {
		first, last, err := parseRange(r)
		if err != nil {
			return nil, err
		}
		for a := first; ; a = a.Next() {
			if len(out) == maxAddrs {
				return nil, fmt.Errorf("expand to more than %d addresses", maxAddrs)
			}
			out = append(out, a)
			if a == last {
				break
			}
		}
	}
	return out, nil
}

// prefixes gives each address of n the network's mask. Networks without
// a usable netmask (DHCP, link-local) give none.
func (n Network) prefixes() []netip.Prefix {
	m, err := parseMask(n.Netmask)
	if err != nil {
		return nil
	}
	addrs, err := expand(append(append([]string{}, n.IPRanges...), n.FloatingIPRanges...))
	if err != nil {
		return nil
	}
	out := make([]netip.Prefix, 0, len(addrs))
	for _, a := range addrs {
		out = append(out, netip.PrefixFrom(a, m.bits))
	}
	return out
}

// hasV6 reports whether the network carries IPv6.
func (n Network) hasV6() bool {
	if m, err := parseMask(n.Netmask); err == nil && m.v6 {
		return true
	}
	for _, r := range append(append([]string{}, n.IPRanges...), n.FloatingIPRanges...) {
		if a, _, err := parseRange(r); err == nil && a.Is6() {
			return true
		}
	}
	return false
}
