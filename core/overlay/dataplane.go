package overlay

import (
	"context"
	"github.com/edgeward/edgeward/core/events"
	"maps"
	"net/netip"
	"slices"
	"time"

	"github.com/edgeward/edgeward/core"
	"github.com/edgeward/edgeward/core/tunnel"
)

// Enforcement is what the data plane must hold for the overlay as it is
// now: the peers allowed on the WireGuard device and the policy the kernel
// filter enforces between them.
type Enforcement struct {
	// Peers maps each public key allowed on the device to what the device
	// needs of it. A peer waiting for approval is left off: it may not
	// send a packet, so it has no business holding a tunnel.
	Peers map[string]DevicePeer
	// Groups and Rules are the policy (Interface, Gateway, Network and
	// Services are the data plane's to fill in).
	Groups []tunnel.Group
	Rules  []tunnel.Rule
}

// DevicePeer is a peer as the device holds it: its overlay address and,
// when known, its last endpoint.
type DevicePeer struct {
	IP       netip.Addr
	Endpoint netip.AddrPort
	// PSK is the preshared key (base64), "" for none.
	PSK string
}

// Enforcement returns what the data plane must enforce now. Rules are the
// enabled rules of enabled policies, one way each (a bidirectional rule
// gives two); a rule side naming a peer is that peer's address. Groups
// hold only peers that may take part, as accessible-peers computes them,
// so the kernel lets through exactly what the API says.
func (s *Service) Enforcement() Enforcement {
	s.mu.RLock()
	defer s.mu.RUnlock()
	st := s.st
	e := Enforcement{Peers: st.devicePeers()}
	addr := func(id string) (netip.Addr, bool) {
		p, ok := st.peers[id]
		if !ok || p.ApprovalRequired {
			return netip.Addr{}, false
		}
		return p.IP, true
	}
	used := map[string]bool{}
	for r := range st.enforced() {
		var ports []tunnel.PortRange
		for _, p := range r.Ports {
			ports = append(ports, tunnel.PortRange{First: p, Last: p})
		}
		for _, pr := range r.PortRanges {
			ports = append(ports, tunnel.PortRange{First: pr.Start, Last: pr.End})
		}
		one := func(fromGroups []string, fromPeer string, toGroups []string, toPeer string) {
			froms, tos := s.ends(fromGroups, fromPeer, addr), s.ends(toGroups, toPeer, addr)
			for _, f := range froms {
				for _, t := range tos {
					tr := tunnel.Rule{FromGroup: f.group, FromAddr: f.addr, ToGroup: t.group, ToAddr: t.addr,
						Protocol: r.Protocol, Ports: ports}
					e.Rules = append(e.Rules, tr)
					used[f.group], used[t.group] = true, true
				}
			}
		}
		one(r.Sources, r.SourcePeer, r.Destinations, r.DestinationPeer)
		if r.Bidirectional {
			one(r.Destinations, r.DestinationPeer, r.Sources, r.SourcePeer)
		}
	}
	delete(used, "") // a rule side naming a peer, not a group
	for _, gid := range slices.Sorted(maps.Keys(used)) {
		g := st.groups[gid]
		tg := tunnel.Group{ID: gid, Resources: slices.Clone(g.Resources)}
		for _, id := range st.members(g) {
			if ip, ok := addr(id); ok {
				tg.Members = append(tg.Members, ip)
			}
		}
		e.Groups = append(e.Groups, tg)
	}
	return e
}

// DevicePeers is Enforcement's Peers alone: what the data plane's poll
// compares the device with, every couple of seconds, without the policy.
func (s *Service) DevicePeers() map[string]DevicePeer {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.st.devicePeers()
}

// devicePeers maps the key of every peer allowed on the device to what
// the device needs of it. Callers hold mu.
func (st *state) devicePeers() map[string]DevicePeer {
	out := make(map[string]DevicePeer, len(st.peers))
	for _, p := range st.peers {
		if !p.ApprovalRequired {
			d := DevicePeer{IP: p.IP, PSK: st.psk[p.ID]}
			if stat := st.status[p.ID]; stat != nil {
				d.Endpoint = stat.Endpoint
			}
			out[p.PublicKey] = d
		}
	}
	return out
}

// end is one side of a kernel rule: a group or one peer's address.
type end struct {
	group string
	addr  netip.Addr
}

// ends lists a rule side's groups (those that exist) and its peer.
// Callers hold mu.
func (s *Service) ends(groups []string, peer string, addr func(string) (netip.Addr, bool)) []end {
	var out []end
	for _, gid := range groups {
		if _, ok := s.st.groups[gid]; ok {
			out = append(out, end{group: gid})
		}
	}
	if peer != "" {
		if ip, ok := addr(peer); ok {
			out = append(out, end{addr: ip})
		}
	}
	return out
}

// Observation is what the data plane saw of one peer in one poll.
type Observation struct {
	PublicKey string
	// Connected is the data plane's verdict (a recent handshake or recent
	// traffic).
	Connected     bool
	Endpoint      netip.AddrPort
	LastHandshake time.Time
	// LastSeen is when the peer last showed life (handshake or traffic).
	LastSeen         time.Time
	RxBytes, TxBytes int64
}

// Observe records one poll of the data plane. Peers whose connection
// began or ended are announced in the event log, as is an endpoint seen
// for the first time; a temporary peer that was connected and is no
// longer is deleted with its policy. Unknown keys are skipped (a peer
// deleted between the poll and now).
func (s *Service) Observe(ctx context.Context, obs []Observation) error {
	type change struct {
		id, name string
		key      string // the public key, whose P2P id the events carry
		up       bool
		newPoint bool // a connected peer now at another endpoint
		newAddr  bool // an address this peer was not seen at before
		endpoint netip.AddrPort
	}
	var changes []change
	var leave []string
	moves := map[string]string{} // peer id -> new endpoint, to store
	now := s.cfg.Now().UTC()
	s.mu.Lock()
	for _, o := range obs {
		id, ok := s.st.byKey[o.PublicKey]
		if !ok {
			continue
		}
		p := s.st.peers[id]
		stat := s.st.status[id]
		if stat == nil {
			stat = &Status{}
			s.st.status[id] = stat
		}
		was := stat.Connected
		moved := o.Endpoint.IsValid() && o.Endpoint != stat.Endpoint
		newAddr := o.Endpoint.IsValid() && o.Endpoint.Addr() != stat.Endpoint.Addr()
		stat.Connected = o.Connected
		stat.LastHandshake, stat.RxBytes, stat.TxBytes = o.LastHandshake, o.RxBytes, o.TxBytes
		if !o.LastSeen.IsZero() {
			stat.LastSeen = o.LastSeen.UTC()
		}
		if moved {
			stat.Endpoint = o.Endpoint
			moves[id] = o.Endpoint.String()
		}
		if o.Connected && !was {
			stat.Since = now
			stat.everConnected = true
		}
		if was != o.Connected || (o.Connected && moved) {
			changes = append(changes, change{id: id, name: p.Name, key: p.PublicKey, up: o.Connected, newPoint: moved && was,
				newAddr: newAddr, endpoint: stat.Endpoint})
		}
		if p.Ephemeral && !o.Connected && stat.everConnected {
			leave = append(leave, id)
		}
	}
	s.mu.Unlock()
	if len(moves) > 0 {
		err := s.kv.Update(ctx, func(tx core.Tx) error {
			for id, ep := range moves {
				if err := tx.Put([]byte(endpointPrefix+id), []byte(ep), 0); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			s.cfg.Log.Warn("store peer endpoints", "err", err)
		}
	}
	for _, c := range changes {
		// peer_id is the P2P id: the /network dialect's events name
		// peers by it, also after the peer is gone.
		fields := map[string]string{}
		pid := PeerID(c.key)
		if pid != "" {
			fields["peer_id"] = pid
		}
		if c.endpoint.IsValid() {
			fields["endpoint"] = c.endpoint.String()
		}
		if c.newAddr {
			// The P2P dialect's point logs are by address.
			s.publish(events.NewPoint, c.endpoint.Addr().String(), "new point "+c.endpoint.String()+" (peer "+c.name+")",
				map[string]string{"point": c.endpoint.String(), "peer": c.id, "peer_id": pid})
		}
		switch {
		case c.newPoint:
			s.publish(events.PeerMoved, c.id, "peer "+c.name+" now connects from "+c.endpoint.String(), fields)
		case c.up:
			s.publish(events.PeerConnected, c.id, "peer "+c.name+" connected", fields)
		default:
			s.publish(events.PeerDisconnected, c.id, "peer "+c.name+" disconnected", fields)
		}
	}
	for _, id := range leave {
		if err := s.expire(ctx, id, "left: temporary access ended"); err != nil && !core.IsNotFound(err) {
			return err
		}
	}
	return nil
}

// Resolve returns the overlay address of the peer with this DNS label
// when the peer at from may reach it (the DNS server answers a name only
// to those that may use it). from may also be the gateway itself.
func (s *Service) Resolve(from netip.Addr, label string) (netip.Addr, bool) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	tid, ok := s.st.byLabel[label]
	if !ok {
		return netip.Addr{}, false
	}
	t := s.st.peers[tid]
	if from == s.Gateway() {
		return t.IP, true
	}
	fid, ok := s.st.byIP[from]
	if !ok {
		return netip.Addr{}, false
	}
	if fid == tid {
		return t.IP, true
	}
	if !s.st.reaches(s.st.peers[fid], tid) {
		return netip.Addr{}, false
	}
	return t.IP, true
}
