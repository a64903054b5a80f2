package nic

import (
	"context"
	"fmt"
	"net"
	"strings"

	"github.com/jsimonetti/rtnetlink/v2"
	"github.com/mdlayher/netlink"
	"golang.org/x/sys/unix"
)

// Counters is a link's traffic counters as the kernel keeps them.
type Counters struct {
	RxBytes, TxBytes, RxPackets, TxPackets, RxErrors, TxErrors, RxDropped, TxDropped uint64
}

// LinkSnapshot is one link at one moment, as a debug bundle records it.
type LinkSnapshot struct {
	Index     int      `json:"index"`
	Name      string   `json:"name"`
	MAC       string   `json:"mac"`
	MTU       int      `json:"mtu"`
	Flags     string   `json:"flags"`
	OperState string   `json:"operstate"`
	Carrier   string   `json:"carrier"`
	Addresses []string `json:"addresses"`
	Counters  Counters `json:"counters"`
}

// Snapshot reads every link of n's network namespace with one rtnetlink
// dump of links and one of addresses. The strings are those of sysfs and
// net.Interface: operstate in lower case, carrier "1", "0" or "unknown"
// (for a link that is down), flags as net.Flags prints them.
func (n *NIC) Snapshot(ctx context.Context) ([]LinkSnapshot, error) {
	var out []LinkSnapshot
	err := n.call(ctx, func(c *rtnetlink.Conn) error {
		kls, err := getLinks(c, &rtnetlink.LinkMessage{}, netlink.Dump)
		if err != nil {
			return fmt.Errorf("list links: %w", KernelErr(err))
		}
		msgs, err := listAddrs(c, 0)
		if err != nil {
			return fmt.Errorf("list addresses: %w", KernelErr(err))
		}
		addrs := groupAddrs(msgs)
		out = make([]LinkSnapshot, 0, len(kls))
		for i := range kls {
			s := snapshotOf(&kls[i])
			for _, a := range addrs[s.Index] {
				s.Addresses = append(s.Addresses, a.Prefix.String())
			}
			out = append(out, s)
		}
		return nil
	})
	return out, err
}

func snapshotOf(kl *kernelLink) LinkSnapshot {
	l := toLink(kl)
	s := LinkSnapshot{Index: l.Index, Name: l.Name, MAC: l.MAC, MTU: l.MTU, Flags: netFlags(kl.Flags).String(),
		OperState: strings.ToLower(l.OperState), Carrier: "unknown", Addresses: []string{}}
	// sysfs refuses to read the carrier of a link that is down.
	if l.AdminUp && l.Carrier != nil {
		s.Carrier = map[bool]string{true: "1", false: "0"}[*l.Carrier]
	}
	if st := kl.Attributes.Stats64; st != nil {
		s.Counters = Counters{RxBytes: st.RXBytes, TxBytes: st.TXBytes, RxPackets: st.RXPackets,
			TxPackets: st.TXPackets, RxErrors: st.RXErrors, TxErrors: st.TXErrors,
			RxDropped: st.RXDropped, TxDropped: st.TXDropped}
	}
	return s
}

// netFlags converts IFF_* flags the way net.Interface does.
func netFlags(raw uint32) net.Flags {
	var f net.Flags
	for _, m := range []struct {
		iff  uint32
		flag net.Flags
	}{
		{unix.IFF_UP, net.FlagUp}, {unix.IFF_BROADCAST, net.FlagBroadcast},
		{unix.IFF_LOOPBACK, net.FlagLoopback}, {unix.IFF_POINTOPOINT, net.FlagPointToPoint},
		{unix.IFF_MULTICAST, net.FlagMulticast}, {unix.IFF_RUNNING, net.FlagRunning},
	} {
		if raw&m.iff != 0 {
			f |= m.flag
		}
	}
	return f
}
