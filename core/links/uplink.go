package links

import (
	"context"
	"fmt"
	"net/netip"
)

// Uplink is the link the box reaches the internet through: the one that
// holds the IPv4 default route, else the IPv6 one.
type Uplink struct {
	Name    string
	Gateway netip.Addr
	// Addrs are the link's global addresses (link-local ones left out),
	// IPv4 first, as the kernel lists them.
	Addrs []netip.Addr
}

// Uplink reads the kernel now and returns the link with the default
// route. ok is false when no link has one (a box behind a router that
// gives it none, or a kernel that cannot be read). Safe for concurrent
// use; it changes nothing.
func (s *Service) Uplink(ctx context.Context) (u Uplink, ok bool) {
	all := s.readLinks(ctx)
	for _, v6 := range []bool{false, true} {
		for _, l := range all {
			gw := l.GatewayV4
			if v6 {
				gw = l.GatewayV6
			}
			if !gw.IsValid() {
				continue
			}
			u = Uplink{Name: l.Name, Gateway: gw}
			for _, want4 := range []bool{true, false} {
				for _, a := range l.Addrs {
					ip := a.Prefix.Addr()
					if ip.Is4() == want4 && !ip.IsLinkLocalUnicast() {
						u.Addrs = append(u.Addrs, ip)
					}
				}
			}
			return u, true
		}
	}
	return Uplink{}, false
}

// String is "203.0.113.5 on eth0", the addresses joined by commas, or
// "eth0" for a link without a global address.
func (u Uplink) String() string {
	if len(u.Addrs) == 0 {
		return u.Name
	}
	out := ""
	for i, a := range u.Addrs {
		if i > 0 {
			out += ", "
		}
		out += a.String()
	}
	return fmt.Sprintf("%s on %s", out, u.Name)
}
