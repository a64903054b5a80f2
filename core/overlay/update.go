package overlay

import (
	"context"
	"github.com/edgeward/edgeward/core/events"
	"net/netip"

	"github.com/edgeward/edgeward/core"
)

// PeerUpdate is the PUT body of a peer. Nil pointers keep the current value.
type PeerUpdate struct {
	Name       string
	SSHEnabled bool
	// LoginExpirationEnabled and InactivityExpirationEnabled can only be
	// turned off: peers here never log in, so nothing could expire them.
	LoginExpirationEnabled      *bool
	InactivityExpirationEnabled *bool
	ApprovalRequired            *bool
	IP                          *string
	// IPv6 is refused unless empty: the overlay has no IPv6 network.
	IPv6 *string
}

// The refusals of what this overlay cannot do, in the original's words (it
// answers them 412 Precondition Failed).
const (
	msgNoIPv6             = "IPv6 is not configured for this account"
	msgNoLoginExpiry      = "this peer hasn't been added with the SSO login, therefore the login expiration can't be updated"
	msgNoInactivityExpiry = "this peer hasn't been added with the SSO login, therefore the inactivity expiration can't be updated"
)

// unsupported refuses a field this overlay cannot honour. It is checked
// after the shape of the request, before anything is written.
func (u PeerUpdate) unsupported(old *Peer) error {
	enables := func(want *bool, have bool) bool { return want != nil && *want && !have }
	switch {
	case u.IPv6 != nil && *u.IPv6 != "":
		return &core.Error{Kind: core.ErrUnsupported, Field: "ipv6", Msg: msgNoIPv6}
	case enables(u.LoginExpirationEnabled, old.LoginExpirationEnabled):
		return &core.Error{Kind: core.ErrUnsupported, Field: "login_expiration_enabled", Msg: msgNoLoginExpiry}
	case enables(u.InactivityExpirationEnabled, old.InactivityExpirationEnabled):
		return &core.Error{Kind: core.ErrUnsupported, Field: "inactivity_expiration_enabled", Msg: msgNoInactivityExpiry}
	}
	return nil
}

// UpdatePeer replaces a peer's settings. A new name gives a new DNS label;
// a new IP must lie in the overlay and be free. Errors: ErrNotFound,
// ValidationError, ErrConflict (name or IP taken), ErrUnsupported (an IPv6
// address, or turning on login or inactivity expiration).
func (s *Service) UpdatePeer(ctx context.Context, id string, u PeerUpdate) (PeerInfo, error) {
	s.wmu.Lock()
	defer s.wmu.Unlock()
	st := s.st
	old, ok := st.peers[id]
	if !ok {
		return PeerInfo{}, core.NotFound("peer not found: %s", id)
	}
	p := *old
	v := &core.ValidationError{}
	checkName(v, "name", u.Name)
	if u.IP != nil {
		ip, err := netip.ParseAddr(*u.IP)
		switch {
		case err != nil || !ip.Is4():
			v.Add("ip", "must be an IPv4 address")
		case !s.usable(ip):
			v.Add("ip", "IP %s is not a usable address of the overlay network %s", ip, s.cfg.Network)
		default:
			p.IP = ip
		}
	}
	if err := v.Err(); err != nil {
		return PeerInfo{}, err
	}
	if err := u.unsupported(old); err != nil {
		return PeerInfo{}, err
	}
	if err := st.checkFree(u.Name, "", id); err != nil {
		return PeerInfo{}, err
	}
	if other, taken := st.byIP[p.IP]; taken && other != id {
		return PeerInfo{}, core.ConflictOn("ip", "IP %s is already assigned to peer %s", p.IP, other)
	}
	p.Name = u.Name
	p.SSHEnabled = u.SSHEnabled
	if u.LoginExpirationEnabled != nil {
		p.LoginExpirationEnabled = *u.LoginExpirationEnabled
	}
	if u.InactivityExpirationEnabled != nil {
		p.InactivityExpirationEnabled = *u.InactivityExpirationEnabled
	}
	if u.ApprovalRequired != nil {
		p.ApprovalRequired = *u.ApprovalRequired
	}
	if p.Name != old.Name || p.IP != old.IP {
		p.DNSLabel = st.uniqueLabel(p.Name, p.IP, id)
	}
	err := s.commit(ctx, map[string]any{peerPrefix + id: &p}, nil, func(st *state) { st.putPeer(&p) })
	if err != nil {
		return PeerInfo{}, err
	}
	s.publish(events.PeerUpdated, id, "peer "+p.Name+" updated", nil)
	return s.Peer(id)
}

// DeletePeer removes a peer, takes it out of every group and deletes every
// policy that names it directly (its temporary access). Errors: ErrNotFound.
func (s *Service) DeletePeer(ctx context.Context, id string) error {
	s.wmu.Lock()
	err := s.deleteLocked(ctx, id, "deleted")
	s.wmu.Unlock()
	if err != nil {
		return err
	}
	s.runHooks(ctx, id)
	return nil
}

func (s *Service) runHooks(ctx context.Context, id string) {
	s.hooksMu.Lock()
	hooks := append([]func(context.Context, string){}, s.onDelete...)
	s.hooksMu.Unlock()
	for _, h := range hooks {
		h(ctx, id)
	}
}

func (s *Service) deleteLocked(ctx context.Context, id, why string) error {
	st := s.st
	p, ok := st.peers[id]
	if !ok {
		return core.NotFound("peer not found: %s", id)
	}
	puts := map[string]any{}
	var groups []*Group
	for _, gid := range st.memberOf[id] {
		g := *st.groups[gid]
		g.Peers = without(g.Peers, id)
		groups = append(groups, &g)
		puts[groupPrefix+g.ID] = &g
	}
	dels := []string{peerPrefix + id, endpointPrefix + id, keyPrefix + id, pskPrefix + id}
	var policies []string
	for pid, pol := range st.policies {
		if pol.namesPeer(id) {
			policies = append(policies, pid)
			dels = append(dels, policyPrefix+pid)
		}
	}
	err := s.commit(ctx, puts, dels, func(st *state) {
		st.removePeer(id)
		for _, g := range groups {
			st.groups[g.ID] = g
		}
		for _, pid := range policies {
			delete(st.policies, pid)
		}
		st.reindexGroups()
	})
	if err != nil {
		return err
	}
	s.publish(events.PeerDeleted, id, "peer "+p.Name+" "+why, nil)
	return nil
}

func (pol *Policy) namesPeer(id string) bool {
	for _, r := range pol.Rules {
		if r.SourcePeer == id || r.DestinationPeer == id {
			return true
		}
	}
	return false
}

func without(ids []string, id string) []string {
	out := make([]string, 0, len(ids))
	for _, x := range ids {
		if x != id {
			out = append(out, x)
		}
	}
	return out
}
