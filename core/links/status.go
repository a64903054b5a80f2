package links

import (
	"context"
	"net/netip"
	"slices"

	"github.com/edgeward/edgeward/core"
)

// Status returns the interface's status on every node: this appliance is
// the only one. Errors: ErrNotFound.
func (s *Service) Status(ctx context.Context, id int) ([]NodeStatus, error) {
	st, err := s.StatusOf(ctx, id, s.cfg.NodeID)
	if err != nil {
		return nil, err
	}
	return []NodeStatus{st}, nil
}

// StatusOf returns the interface's status on one node, sampling the
// kernel now. A kernel that cannot be read, or a link that is gone,
// reports UNAVAILABLE. Errors: ErrNotFound for an unknown interface or
// node.
func (s *Service) StatusOf(ctx context.Context, id, nodeID int) (NodeStatus, error) {
	r, err := s.get(id)
	if err != nil {
		return NodeStatus{}, err
	}
	if nodeID != s.cfg.NodeID {
		return NodeStatus{}, core.NotFound("node %d not found", nodeID)
	}
	servers, search := readResolv(s.cfg.ResolvConf)
	return s.status(r, s.readLinks(ctx), servers, search), nil
}

// Statuses returns every interface's status on this node, by id, as
// StatusOf does, from one read of the kernel for all of them.
func (s *Service) Statuses(ctx context.Context) []NodeStatus {
	all := s.readLinks(ctx)
	servers, search := readResolv(s.cfg.ResolvConf)
	var out []NodeStatus
	for _, id := range s.ids() {
		if r, err := s.get(id); err == nil {
			out = append(out, s.status(r, all, servers, search))
		}
	}
	return out
}

// readLinks reads the kernel's links for a status; a kernel that cannot
// be read has none, so that every interface reports UNAVAILABLE.
func (s *Service) readLinks(ctx context.Context) []Link {
	all, err := s.kernel.Links(ctx)
	if err != nil {
		return nil
	}
	return all
}

// status is r against the kernel's links all and the resolver settings.
func (s *Service) status(r *record, all []Link, servers, search []string) NodeStatus {
	st := NodeStatus{NodeID: s.cfg.NodeID, NodeName: s.cfg.NodeName, Interface: r.Iface, UpdateStatus: Unavailable,
		Details: Details{CableStatus: CableUnknown, OperState: OperMissing, State: StateMissing, SampledAt: s.cfg.Now()}}
	l := keyed(all)[r.Key]
	if l != nil {
		st.Details = details(l)
		st.UpdateStatus = ChangesApplied
		// A read-only service applies nothing: whether the kernel runs the
		// stored config is all there is to tell.
		if !s.cfg.ReadOnly && s.appliedGen(r.Iface.ID) < r.Gen || !runs(r, l, all) {
			st.UpdateStatus = ChangesPending
		}
	}
	for _, n := range r.Networks {
		st.Networks = append(st.Networks, networkStatus(n, l, all, servers, search))
	}
	return st
}

// runs reports whether the kernel matches every target of r.
func runs(r *record, l *Link, all []Link) bool {
	ts, missing := targets(r, l, all)
	if len(missing) > 0 {
		return false
	}
	byName := map[string]*Link{}
	for i := range all {
		byName[all[i].Name] = &all[i]
	}
	for _, t := range ts {
		if k := byName[t.link]; k == nil || !matches(k, t.d) {
			return false
		}
	}
	return true
}

func details(l *Link) Details {
	d := Details{SpeedMbps: l.SpeedMbps, BytesSent: l.TxBytes, BytesReceived: l.RxBytes, CableStatus: CableUnknown,
		OperState: l.OperState, MAC: l.MAC, SampledAt: l.SampledAt}
	switch {
	case l.LinkDetected != nil && *l.LinkDetected, l.LinkDetected == nil && l.Carrier != nil && *l.Carrier:
		d.CableStatus = CableConnected
	case l.LinkDetected != nil, l.Carrier != nil:
		d.CableStatus = CableDisconnected
	}
	if d.OperState == "" {
		d.OperState = OperUnknown
	}
	d.State = State(d.OperState, l.Carrier)
	return d
}

// State maps a link's kernel operstate and carrier onto the API's
// interface_status, which has only UP, DOWN and MISSING. UNKNOWN is what
// links without operstate tracking report (WireGuard, TUN, loopback): up
// when they have a carrier. Every state that cannot pass traffic
// (LOWERLAYERDOWN, DORMANT, NOTPRESENT, TESTING) is DOWN; MISSING, the
// link being gone, stays MISSING.
func State(oper string, carrier *bool) string {
	switch oper {
	case OperUp:
		return StateUp
	case OperMissing:
		return StateMissing
	case OperUnknown, "":
		if carrier != nil && *carrier {
			return StateUp
		}
	}
	return StateDown
}

// networkStatus reports what the node runs of n: its first address that
// the link carries, the floating ones it carries, and the DNS settings of
// the resolver file.
func networkStatus(n Network, l *Link, all []Link, servers, search []string) NetworkStatus {
	ns := NetworkStatus{Name: n.Name, AssignedBy: n.AssignedBy, Netmask: n.Netmask, MTU: n.MTU, VLANID: n.VLANID,
		DNSServers: slices.Clone(servers), DNSSearchDomains: slices.Clone(search), FloatingAddresses: []string{}}
	if l == nil {
		return ns
	}
	on := l
	if n.VLANID != 0 {
		if on = vlanLink(all, l.Index, n.VLANID); on == nil {
			return ns
		}
	}
	have := map[netip.Addr]Addr{}
	for _, a := range on.Addrs {
		have[a.Prefix.Addr()] = a
	}
	if n.AssignedBy != AssignedStatic {
		for _, a := range on.Addrs {
			if a.AssignedBy == n.AssignedBy || n.AssignedBy == AssignedLinkLocal && a.Prefix.Addr().IsLinkLocalUnicast() {
				ns.Address, ns.Netmask = a.Prefix.Addr().String(), dotted(a.Prefix)
				break
			}
		}
	} else if as, err := expand(n.IPRanges); err == nil {
		for _, a := range as {
			if _, ok := have[a]; ok {
				ns.Address = a.String()
				break
			}
		}
	}
	if fs, err := expand(n.FloatingIPRanges); err == nil {
		for _, a := range fs {
			if _, ok := have[a]; ok {
				ns.FloatingAddresses = append(ns.FloatingAddresses, a.String())
			}
		}
	}
	return ns
}
