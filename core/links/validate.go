package links

import (
	"fmt"
	"net/netip"
	"strings"

	"github.com/edgeward/edgeward/core"
)

// mtuBounds is what the link accepts: the driver's bounds when it reports
// them, else IPv4's 68-65535; 1280 at least when v6 is carried.
func mtuBounds(l *Link, v6 bool) (lo, hi int) {
	lo, hi = 68, 65535
	if l != nil && l.MinMTU > 0 {
		lo = l.MinMTU
	}
	if l != nil && l.MaxMTU > 0 {
		hi = l.MaxMTU
	}
	if v6 && lo < 1280 {
		lo = 1280
	}
	return lo, hi
}

func checkMTU(v *core.ValidationError, field string, mtu int, l *Link, v6 bool) {
	lo, hi := mtuBounds(l, v6)
	if mtu < lo || mtu > hi {
		why := ""
		if v6 && lo == 1280 {
			why = " (IPv6 needs at least 1280)"
		}
		v.Add(field, "%d is out of range for this link: want %d-%d%s", mtu, lo, hi, why)
	}
}

func checkEnum(v *core.ValidationError, field, val string, allowed ...string) {
	for _, a := range allowed {
		if val == a {
			return
		}
	}
	v.Add(field, "%q is not one of %s", val, strings.Join(allowed, ", "))
}

// checkNetwork validates one network on its own; whole-interface rules
// (MTU coupling, DHCP alone) are in checkRecord.
func checkNetwork(v *core.ValidationError, n Network) {
	if n.Name == "" || len(n.Name) > 64 {
		v.Add("name", "must be 1-64 characters")
	}
	checkEnum(v, "assigned_by", n.AssignedBy, AssignedDHCP, AssignedStatic, AssignedLinkLocal)
	if n.VLANID < 0 || n.VLANID > 4094 {
		v.Add("vlan_id", "%d is out of range: want 0 (untagged) or 1-4094", n.VLANID)
	}
	for i, s := range n.DNSServers {
		if a, err := netip.ParseAddr(s); err != nil || a.Zone() != "" {
			v.Add(fmt.Sprintf("dns_servers[%d]", i), "%q is not an IP address", s)
		}
	}
	for i, s := range n.DNSSearchDomains {
		if !isDomain(s) {
			v.Add(fmt.Sprintf("dns_search_domains[%d]", i), "%q is not a domain name", s)
		}
	}
	if n.AssignedBy != AssignedStatic {
		if len(n.IPRanges) > 0 {
			v.Add("ip_ranges", "must be empty unless assigned_by is STATIC")
		}
		if n.VLANID != 0 {
			v.Add("vlan_id", "must be 0 unless assigned_by is STATIC")
		}
	}
	if n.AssignedBy == AssignedStatic && len(n.IPRanges) == 0 {
		v.Add("ip_ranges", "a STATIC network needs at least one address")
	}
	checkAddrs(v, n)
}

// checkAddrs checks the ranges against the netmask: every address must be
// of the netmask's family and in one network.
func checkAddrs(v *core.ValidationError, n Network) {
	if n.Netmask == "" {
		if n.AssignedBy == AssignedStatic || len(n.FloatingIPRanges) > 0 {
			v.Add("netmask", "is required with ip_ranges or floating_ip_ranges")
		}
		return
	}
	m, err := parseMask(n.Netmask)
	if err != nil {
		v.Add("netmask", "%q %s", n.Netmask, err.Error())
		return
	}
	net := m.net
	total := 0
	for _, f := range []struct {
		name   string
		ranges []string
	}{{"ip_ranges", n.IPRanges}, {"floating_ip_ranges", n.FloatingIPRanges}} {
		for i, r := range f.ranges {
			field := fmt.Sprintf("%s[%d]", f.name, i)
			first, last, err := parseRange(r)
			if err != nil {
				// The error names the part of the range that is wrong.
				v.Add(field, "%s", err.Error())
				continue
			}
			if first.Is6() != m.v6 {
				v.Add(field, "%q is not of the netmask's address family", r)
				continue
			}
			if !net.IsValid() {
				net = netip.PrefixFrom(first, m.bits).Masked() // dotted mask: the first address names the network
			}
			if !net.Contains(first) || !net.Contains(last) {
				v.Add(field, "%q is not in the network %s of netmask %q", r, net, n.Netmask)
			}
			if as, err := expand([]string{r}); err == nil {
				total += len(as)
			}
		}
	}
	if total > maxAddrs {
		v.Add("ip_ranges", "the ranges expand to %d addresses, more than %d", total, maxAddrs)
	}
}

func isDomain(s string) bool {
	s = strings.TrimSuffix(s, ".")
	if s == "" || len(s) > 253 {
		return false
	}
	for _, label := range strings.Split(s, ".") {
		if label == "" || len(label) > 63 || label[0] == '-' || label[len(label)-1] == '-' {
			return false
		}
		for _, c := range label {
			if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
				return false
			}
		}
	}
	return true
}

// checkRecord applies the rules that span the interface's networks. It
// assumes each network passed checkNetwork. l is the kernel link, nil
// when it is gone.
func checkRecord(v *core.ValidationError, r *record, l *Link) {
	if len(r.Networks) == 0 {
		v.Add("networks", "an interface needs at least one network")
	}
	untaggedV6 := false
	for _, n := range r.Networks {
		if n.VLANID == 0 && n.hasV6() {
			untaggedV6 = true
		}
		if n.AssignedBy == AssignedDHCP && len(r.Networks) > 1 {
			v.Add("assigned_by", "a DHCP network must be the interface's only network")
		}
	}
	checkMTU(v, "mtu", r.Iface.MTU, l, untaggedV6)
	for _, n := range r.Networks {
		if n.VLANID == 0 {
			continue
		}
		checkMTU(v, "mtu", n.MTU, l, n.hasV6())
		if n.MTU > r.Iface.MTU {
			v.Add("mtu", "network %d (VLAN %d) has MTU %d, above the untagged MTU %d; the untagged MTU must be at least every tagged network's",
				n.ID, n.VLANID, n.MTU, r.Iface.MTU)
		}
	}
	if g := r.Iface.DefaultGateway; g.IsValid() && !g.Is4() {
		v.Add("default_gateway", "must be an IPv4 address")
	}
	if g := r.Iface.DefaultGatewayV6; g.IsValid() && g.Is4() {
		v.Add("default_gateway_ipv6", "must be an IPv6 address")
	}
	checkEnum(v, "bonding_mode", r.Iface.BondingMode, BondActiveBackup, BondLACP, BondUnspecified)
}

// parseGateway reads a gateway field; "" clears it.
func parseGateway(v *core.ValidationError, field, s string, v6 bool) netip.Addr {
	if s == "" {
		return netip.Addr{}
	}
	a, err := netip.ParseAddr(s)
	if err != nil || a.Zone() != "" || a.Is6() != v6 || a.Is4In6() {
		fam := "IPv4"
		if v6 {
			fam = "IPv6"
		}
		v.Add(field, "%q is not an %s address", s, fam)
		return netip.Addr{}
	}
	// The kernel takes no route through these: the config would stay
	// pending for ever.
	if a.IsUnspecified() || a.IsMulticast() || a.IsLoopback() {
		v.Add(field, "%q is not a unicast address a route can go through", s)
		return netip.Addr{}
	}
	return a
}
