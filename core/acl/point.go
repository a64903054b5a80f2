package acl

import (
	"fmt"
	"net/netip"
	"strconv"
	"strings"
)

// ParsePoint parses a network point, "ipv4:port" or "[ipv6]:port"; the port
// is required. An IPv4-mapped IPv6 address is taken as the IPv4 address.
func ParsePoint(s string) (netip.AddrPort, error) {
	host, port, err := splitPoint(s)
	if err != nil {
		return netip.AddrPort{}, err
	}
	addr, err := netip.ParseAddr(host)
	if err != nil || addr.Zone() != "" {
		return netip.AddrPort{}, fmt.Errorf("%q is not an IP address", host)
	}
	n, err := strconv.ParseUint(port, 10, 16)
	if err != nil {
		return netip.AddrPort{}, fmt.Errorf("port %q must be a number from 0 to 65535", port)
	}
	return netip.AddrPortFrom(addr.Unmap(), uint16(n)), nil
}

func splitPoint(s string) (host, port string, err error) {
	if strings.HasPrefix(s, "[") {
		end := strings.Index(s, "]")
		if end < 0 || !strings.HasPrefix(s[end+1:], ":") {
			return "", "", fmt.Errorf("an IPv6 point is written [address]:port")
		}
		return s[1:end], s[end+2:], nil
	}
	i := strings.LastIndex(s, ":")
	if i < 0 {
		return "", "", fmt.Errorf("a point is ipv4:port or [ipv6]:port")
	}
	if strings.Contains(s[:i], ":") {
		return "", "", fmt.Errorf("an IPv6 point is written [address]:port")
	}
	return s[:i], s[i+1:], nil
}

// FormatPoint writes a point the way ParsePoint reads it.
func FormatPoint(p netip.AddrPort) string {
	return p.String()
}

// ParseTarget parses one bulk entry: an address ("192.0.2.7"), a range
// ("192.0.2.0/24", "2001:db8::/48") or an address and one port
// ("192.0.2.7:22", "[2001:db8::7]:22") for a per-port ban.
func ParseTarget(s string) (Target, error) {
	s = strings.TrimSpace(s)
	if strings.Contains(s, "/") {
		p, err := netip.ParsePrefix(s)
		if err != nil {
			return Target{}, fmt.Errorf("%q is not an address range", s)
		}
		p = netip.PrefixFrom(p.Addr().Unmap(), p.Bits()-unmapBits(p.Addr()))
		if p.Masked() != p {
			return Target{}, fmt.Errorf("%q has host bits set; did you mean %s?", s, p.Masked())
		}
		return Target{Prefix: p}, nil
	}
	if a, err := netip.ParseAddr(s); err == nil && a.Zone() == "" {
		a = a.Unmap()
		return Target{Prefix: netip.PrefixFrom(a, a.BitLen())}, nil
	}
	ap, err := ParsePoint(s)
	if err != nil {
		return Target{}, fmt.Errorf("%q is not an address, range or point: %w", s, err)
	}
	if ap.Port() == 0 {
		return Target{}, fmt.Errorf("%q: port 0 cannot be banned on its own", s)
	}
	return Target{Prefix: netip.PrefixFrom(ap.Addr(), ap.Addr().BitLen()), Port: ap.Port()}, nil
}

func unmapBits(a netip.Addr) int {
	if a.Is4In6() {
		return 96
	}
	return 0
}

// Target is what an ACL entry covers: an address or range, and for
// per-port bans one destination port.
type Target struct {
	Prefix netip.Prefix
	Port   uint16
}

// targetSet holds distinct targets. Single IPv4 addresses, the bulk of any
// list, are keyed by a uint64: hashing the Target struct cost about 270 ns
// a target, a third of a bulk ban's validation.
type targetSet struct {
	v4    map[uint64]struct{}
	other map[Target]struct{}
}

// newTargetSet returns a set sized for n targets.
func newTargetSet(n int) targetSet {
	return targetSet{v4: make(map[uint64]struct{}, n), other: map[Target]struct{}{}}
}

// add adds t and reports whether it was not there yet.
func (s targetSet) add(t Target) bool {
	if a := t.Prefix.Addr(); a.Is4() && t.Single() {
		b := a.As4()
		k := uint64(b[0])<<40 | uint64(b[1])<<32 | uint64(b[2])<<24 | uint64(b[3])<<16 | uint64(t.Port)
		if _, had := s.v4[k]; had {
			return false
		}
		s.v4[k] = struct{}{}
		return true
	}
	if _, had := s.other[t]; had {
		return false
	}
	s.other[t] = struct{}{}
	return true
}

// Single reports whether the target is one address.
func (t Target) Single() bool { return t.Prefix.IsSingleIP() }

func (t Target) String() string {
	s := t.Prefix.String()
	if t.Single() {
		s = t.Prefix.Addr().String()
	}
	if t.Port != 0 {
		return netip.AddrPortFrom(t.Prefix.Addr(), t.Port).String()
	}
	return s
}

// key is the store key suffix of a target.
func (t Target) key() string {
	return t.Prefix.String() + "#" + strconv.Itoa(int(t.Port))
}
