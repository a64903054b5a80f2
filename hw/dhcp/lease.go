package dhcp

import (
	"fmt"
	"net"
	"net/netip"
	"slices"
	"strings"
	"time"

	"github.com/edgeward/edgeward/core"
	"github.com/insomniacslk/dhcp/dhcpv4"
)

// Lease is one DHCPv4 lease as the server granted it. The zero Lease means
// no lease.
type Lease struct {
	// Addr is the leased address with the subnet's prefix length (from the
	// subnet mask option, or the address's class when the server sent none).
	Addr netip.Prefix
	// Router is the first router the server named; zero when it named none.
	Router netip.Addr
	// DNS lists the name servers in the server's order.
	DNS []netip.Addr
	// Search lists the domain name (option 15) and then the domain search
	// list (option 119), without duplicates.
	Search []string
	// Server is the server identifier: renewals and the release go to it.
	Server netip.Addr
	// Obtained is when the ACK arrived; Duration, Renew and Rebind count
	// from it.
	Obtained time.Time
	// Duration is the lease time.
	Duration time.Duration
	// Renew (T1) and Rebind (T2) are when the client asks its server, and
	// then any server, to extend the lease: the server's values when they
	// are sane, else 50% and 87.5% of Duration.
	Renew, Rebind time.Duration
}

// requested are the options the client asks for. Servers such as dnsmasq
// send the domain search list only when it is asked for.
var requested = []dhcpv4.OptionCode{
	dhcpv4.OptionSubnetMask,
	dhcpv4.OptionRouter,
	dhcpv4.OptionDomainNameServer,
	dhcpv4.OptionDomainName,
	dhcpv4.OptionDNSDomainSearchList,
	dhcpv4.OptionIPAddressLeaseTime,
	dhcpv4.OptionRenewTimeValue,
	dhcpv4.OptionRebindingTimeValue,
}

// leaseFromACK reads the lease an ACK grants, received at now. It returns
// an error matching core.ErrInvalid when ack is not an ACK or lacks what a
// lease needs: an IPv4 address, a valid netmask and a lease time.
func leaseFromACK(ack *dhcpv4.DHCPv4, now time.Time) (Lease, error) {
	if ack == nil || ack.MessageType() != dhcpv4.MessageTypeAck {
		return Lease{}, fmt.Errorf("read lease: not an ACK: %w", core.ErrInvalid)
	}
	ip, ok := addr4(ack.YourIPAddr)
	if !ok || ip.IsUnspecified() || ip.IsMulticast() || ip.IsLoopback() {
		return Lease{}, fmt.Errorf("read lease: bad address %v: %w", ack.YourIPAddr, core.ErrInvalid)
	}
	mask := ack.SubnetMask()
	if mask == nil {
		mask = ack.YourIPAddr.DefaultMask()
	}
	ones, bits := mask.Size()
	if bits != 32 || ones == 0 {
		return Lease{}, fmt.Errorf("read lease: bad netmask %v: %w", mask, core.ErrInvalid)
	}
	d := ack.IPAddressLeaseTime(0)
	if d <= 0 {
		return Lease{}, fmt.Errorf("read lease: no lease time: %w", core.ErrInvalid)
	}
	l := Lease{
		Addr:     netip.PrefixFrom(ip, ones),
		DNS:      addrs4(ack.DNS()),
		Search:   search(ack),
		Obtained: now,
		Duration: d,
	}
	if r := addrs4(ack.Router()); len(r) > 0 {
		l.Router = r[0]
	}
	l.Server, _ = addr4(ack.ServerIdentifier())
	l.Renew, l.Rebind = timers(d, ack.IPAddressRenewalTime(0), ack.IPAddressRebindingTime(0))
	return l, nil
}

// timers returns T1 and T2 for a lease of d given the server's t1 and t2
// (0 when it sent none). RFC 2131 §4.4.5 defaults them to 50% and 87.5% of
// the lease; values that break 0 < T1 < T2 < d are replaced the same way,
// and a T1 that would still not come before T2 becomes half of T2.
func timers(d, t1, t2 time.Duration) (renew, rebind time.Duration) {
	rebind = t2
	if rebind <= 0 || rebind >= d {
		rebind = d / 8 * 7
	}
	renew = t1
	if renew <= 0 || renew >= rebind {
		renew = d / 2
	}
	if renew >= rebind {
		renew = rebind / 2
	}
	return renew, rebind
}

// search returns the domain name and the search list, deduplicated,
// without trailing dots.
func search(ack *dhcpv4.DHCPv4) []string {
	var out []string
	add := func(s string) {
		s = strings.TrimSuffix(strings.TrimSpace(s), ".")
		if s != "" && !slices.Contains(out, s) {
			out = append(out, s)
		}
	}
	add(ack.DomainName())
	if labels := ack.DomainSearch(); labels != nil {
		for _, s := range labels.Labels {
			add(s)
		}
	}
	return out
}

func addr4(ip net.IP) (netip.Addr, bool) {
	ip4 := ip.To4()
	if ip4 == nil {
		return netip.Addr{}, false
	}
	return netip.AddrFrom4([4]byte(ip4)), true
}

func addrs4(ips []net.IP) []netip.Addr {
	var out []netip.Addr
	for _, ip := range ips {
		if a, ok := addr4(ip); ok && !a.IsUnspecified() {
			out = append(out, a)
		}
	}
	return out
}
