package nic

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"os"
	"time"

	"github.com/edgeward/edgeward/core/links"
	"github.com/jsimonetti/rtnetlink/v2"
	"github.com/jsimonetti/rtnetlink/v2/driver"
	"github.com/mdlayher/ethtool"
	"github.com/mdlayher/netlink"
	"golang.org/x/sys/unix"
)

// Links reads every link of the namespace. State, MTU and counters come
// from one rtnetlink dump, answered at SampledAt; addresses, default routes
// (main table) and ethtool's speed, duplex and link detection are read
// right after it. A link that appears in between is left out until the
// next call. Reads need no privileges.
//
// Kind is "loopback" for lo, which the kernel gives no kind. MinMTU and
// MaxMTU are IFLA_MIN_MTU and IFLA_MAX_MTU (lo reports none). Speed,
// duplex and LinkDetected stay unknown for links ethtool has no answer
// for; a driver without a link check reads as not detected. GatewayV4 and
// GatewayV6 are those of the lowest-metric default route through the
// link, whoever installed it. Addresses are STATIC when the kernel holds
// them forever (IFA_F_PERMANENT), DHCP when they have a finite lifetime (a
// DHCP client's or SLAAC's), and LINK_LOCAL in fe80::/10 and 169.254/16.
func (n *NIC) Links(ctx context.Context) ([]links.Link, error) { return n.read(ctx, true) }

// read is Links; without full it leaves out the addresses, the default
// routes and ethtool's link detection. The traffic sampler, which reads
// every second, needs none of them: that saves three of six dumps.
func (n *NIC) read(ctx context.Context, full bool) ([]links.Link, error) {
	var out []links.Link
	err := n.call(ctx, func(c *rtnetlink.Conn) error {
		kls, err := getLinks(c, &rtnetlink.LinkMessage{}, netlink.Dump)
		if err != nil {
			return fmt.Errorf("list links: %w", KernelErr(err))
		}
		sampled := time.Now()
		var byIndex map[int][]links.Addr
		var routes []defaultRoute
		if full {
			addrs, err := listAddrs(c, 0)
			if err != nil {
				return fmt.Errorf("list addresses: %w", KernelErr(err))
			}
			byIndex = groupAddrs(addrs)
			if routes, err = defaultRoutes(c, 0); err != nil {
				return fmt.Errorf("list default routes: %w", KernelErr(err))
			}
		}
		eth, err := readEthtool(n.eth, full)
		if err != nil {
			return err
		}
		out = make([]links.Link, len(kls))
		for i := range kls {
			l := toLink(&kls[i])
			l.SampledAt = sampled
			l.Addrs = byIndex[l.Index]
			l.GatewayV4, l.GatewayV6 = gateways(routes, kls[i].Index)
			eth.fill(&l)
			out[i] = l
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// toLink converts what rtnetlink says about a link.
func toLink(kl *kernelLink) links.Link {
	a := kl.Attributes
	l := links.Link{
		Index:     int(kl.Index),
		Name:      a.Name,
		MTU:       int(a.MTU),
		MinMTU:    int(kl.MinMTU),
		MaxMTU:    int(kl.MaxMTU),
		AdminUp:   kl.Flags&unix.IFF_UP != 0,
		OperState: operState(a.OperationalState),
	}
	if len(a.Address) > 0 {
		l.MAC = a.Address.String()
	}
	if a.Carrier != nil {
		up := *a.Carrier != 0
		l.Carrier = &up
	}
	switch {
	case a.Stats64 != nil:
		l.RxBytes, l.TxBytes = a.Stats64.RXBytes, a.Stats64.TXBytes
	case a.Stats != nil:
		l.RxBytes, l.TxBytes = uint64(a.Stats.RXBytes), uint64(a.Stats.TXBytes)
	}
	switch {
	case a.Info != nil:
		l.Kind = a.Info.Kind
	case kl.Flags&unix.IFF_LOOPBACK != 0:
		l.Kind = "loopback"
	}
	switch l.Kind {
	case "vlan":
		l.VLANID = vlanID(a.Info.Data)
		l.ParentIndex = int(a.Type) // IFLA_LINK, which the library calls Type
	case "bond":
		l.BondMode = bondMode(a.Info.Data)
	}
	return l
}

func operState(s rtnetlink.OperationalState) string {
	switch s {
	case rtnetlink.OperStateNotPresent:
		return links.OperNotPresent
	case rtnetlink.OperStateDown:
		return links.OperDown
	case rtnetlink.OperStateLowerLayerDown:
		return links.OperLowerLayerDown
	case rtnetlink.OperStateTesting:
		return links.OperTesting
	case rtnetlink.OperStateDormant:
		return links.OperDormant
	case rtnetlink.OperStateUp:
		return links.OperUp
	}
	return links.OperUnknown
}

// vlanID reads IFLA_VLAN_ID from a VLAN link's info data, which
// rtnetlink/v2 has no driver for and hands over raw (0: not found).
func vlanID(data rtnetlink.LinkDriver) int {
	raw, ok := data.(*rtnetlink.LinkData)
	if !ok || len(raw.Data) == 0 {
		return 0
	}
	ad, err := netlink.NewAttributeDecoder(raw.Data)
	if err != nil {
		return 0
	}
	id := 0
	for ad.Next() {
		if ad.Type() == unix.IFLA_VLAN_ID {
			id = int(ad.Uint16())
		}
	}
	if ad.Err() != nil {
		return 0
	}
	return id
}

// bondModes names the kernel's bonding modes as the API does.
var bondModes = map[driver.BondMode]string{
	driver.BondModeBalanceRR:    "BALANCE_RR",
	driver.BondModeActiveBackup: "ACTIVE_BACKUP",
	driver.BondModeBalanceXOR:   "BALANCE_XOR",
	driver.BondModeBroadcast:    "BROADCAST",
	driver.BondMode802_3AD:      "IEEE_8023AD",
	driver.BondModeBalanceTLB:   "BALANCE_TLB",
	driver.BondModeBalanceALB:   "BALANCE_ALB",
}

// bondMode names a bond's mode ("" when the kernel did not say). Importing
// rtnetlink/v2/driver registers its bond decoder.
func bondMode(data rtnetlink.LinkDriver) string {
	if b, ok := data.(*driver.Bond); ok {
		return bondModes[b.Mode]
	}
	return ""
}

// toAddr converts an address message; ok is false for one without an IP.
func toAddr(m *rtnetlink.AddressMessage) (a links.Addr, ok bool) {
	// IFA_LOCAL is the address itself; IFA_ADDRESS is the peer on
	// point-to-point links and equals IFA_LOCAL elsewhere (IPv6 often
	// sends only IFA_ADDRESS).
	ip := m.Attributes.Local
	if ip == nil {
		ip = m.Attributes.Address
	}
	addr := ipAddr(ip)
	if !addr.IsValid() {
		return links.Addr{}, false
	}
	a.Prefix = netip.PrefixFrom(addr, int(m.PrefixLength))
	flags := uint32(m.Flags) | m.Attributes.Flags // IFA_FLAGS extends the header's 8 bits
	switch {
	case addr.IsLinkLocalUnicast():
		a.AssignedBy = links.AssignedLinkLocal
	case flags&unix.IFA_F_PERMANENT != 0:
		a.AssignedBy = links.AssignedStatic
	default:
		a.AssignedBy = links.AssignedDHCP
	}
	return a, true
}

func groupAddrs(msgs []rtnetlink.AddressMessage) map[int][]links.Addr {
	out := make(map[int][]links.Addr)
	for i := range msgs {
		if a, ok := toAddr(&msgs[i]); ok {
			out[int(msgs[i].Index)] = append(out[int(msgs[i].Index)], a)
		}
	}
	return out
}

// gateways picks, per family, the gateway of the lowest-metric default
// route through link index: the one the kernel uses.
func gateways(routes []defaultRoute, index uint32) (v4, v6 netip.Addr) {
	var m4, m6 uint32
	for _, r := range routes {
		if r.index != index || !r.gw.IsValid() {
			continue
		}
		if r.gw.Is4() && (!v4.IsValid() || r.metric < m4) {
			v4, m4 = r.gw, r.metric
		}
		if r.gw.Is6() && (!v6.IsValid() || r.metric < m6) {
			v6, m6 = r.gw, r.metric
		}
	}
	return v4, v6
}

// ethtoolState is what ethtool says, by link index. Links ethtool does not
// support (lo has no link modes) are missing: unknown.
type ethtoolState struct {
	modes  map[int]*ethtool.LinkMode
	detect map[int]bool
}

// readEthtool dumps link modes and, with detect, link states; one request
// each for all links. A nil client knows nothing.
func readEthtool(c *ethtool.Client, detect bool) (ethtoolState, error) {
	var s ethtoolState
	if c == nil {
		return s, nil
	}
	modes, err := c.LinkModes()
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return s, fmt.Errorf("read ethtool link modes: %w", KernelErr(err))
	}
	s.modes = make(map[int]*ethtool.LinkMode, len(modes))
	for _, m := range modes {
		s.modes[m.Interface.Index] = m
	}
	if !detect {
		return s, nil
	}
	states, err := c.LinkStates()
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return s, fmt.Errorf("read ethtool link states: %w", KernelErr(err))
	}
	s.detect = make(map[int]bool, len(states))
	for _, st := range states {
		s.detect[st.Interface.Index] = st.Link
	}
	return s, nil
}

func (s ethtoolState) fill(l *links.Link) {
	if m := s.modes[l.Index]; m != nil {
		l.SpeedMbps = speed(m.SpeedMegabits)
		l.Duplex = duplex(m.Duplex)
	}
	if d, ok := s.detect[l.Index]; ok {
		l.LinkDetected = &d
	}
}

// speed turns SPEED_UNKNOWN (0xFFFFFFFF, or -1 where int has 32 bits) and
// other nonsense into 0.
func speed(mbps int) int {
	if mbps <= 0 || int64(mbps) >= 0xFFFFFFFF {
		return 0
	}
	return mbps
}

func duplex(d ethtool.Duplex) string {
	switch d {
	case ethtool.Full:
		return "full"
	case ethtool.Half:
		return "half"
	}
	return ""
}
