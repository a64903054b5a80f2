package overlay

import (
	"context"
	"fmt"
	"github.com/edgeward/edgeward/core/events"
	"net/netip"
	"slices"

	"github.com/edgeward/edgeward/core"
	"github.com/rs/xid"
)

// GroupSpec is the body of a group create or replace.
type GroupSpec struct {
	Name  string
	Peers []string
	// Resources are networks behind the gateway the group stands for as
	// a policy destination (see Group.Resources).
	Resources []netip.Prefix
}

// maxResources bounds a group's networks: each is a set element and a
// route in every client config that reaches it.
const maxResources = 64

// Groups returns every group sorted by name; name, when set, must match exactly.
func (s *Service) Groups(name string) []GroupInfo {
	s.mu.RLock()
	defer s.mu.RUnlock()
	out := []GroupInfo{}
	for _, g := range s.st.groups {
		if name == "" || g.Name == name {
			out = append(out, s.groupInfo(g))
		}
	}
	slices.SortFunc(out, func(a, b GroupInfo) int { return compareNameID(a.Name, a.ID, b.Name, b.ID) })
	return out
}

// Group returns one group. Errors: ErrNotFound.
func (s *Service) Group(id string) (GroupInfo, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	g, ok := s.st.groups[id]
	if !ok {
		return GroupInfo{}, core.NotFound("group not found: %s", id)
	}
	return s.groupInfo(g), nil
}

func (s *Service) groupInfo(g *Group) GroupInfo {
	gi := GroupInfo{Group: *g}
	for _, id := range s.st.members(g) {
		gi.Members = append(gi.Members, PeerRef{ID: id, Name: s.st.peers[id].Name})
	}
	gi.Peers = nil
	for _, m := range gi.Members {
		gi.Peers = append(gi.Peers, m.ID)
	}
	return gi
}

// SaveGroup creates a group (id empty) or replaces one. All cannot change.
// Errors: ValidationError, ErrNotFound, ErrConflict (name taken).
func (s *Service) SaveGroup(ctx context.Context, id string, spec GroupSpec) (GroupInfo, error) {
	s.wmu.Lock()
	defer s.wmu.Unlock()
	st := s.st
	g := &Group{ID: id, Name: spec.Name, Issued: "api"}
	if id == "" {
		g.ID = xid.New().String()
	} else if old, ok := st.groups[id]; !ok {
		return GroupInfo{}, core.NotFound("group not found: %s", id)
	} else if old.All {
		return GroupInfo{}, core.Invalid("name", "group All holds every peer and cannot be changed")
	}
	v := &core.ValidationError{}
	checkName(v, "name", spec.Name)
	seen := map[string]bool{}
	for i, pid := range spec.Peers {
		p, ok := st.peers[pid]
		switch {
		case !ok:
			v.Add(fmt.Sprintf("peers[%d]", i), "unknown peer id %q", pid)
		case p.Ephemeral:
			v.Add(fmt.Sprintf("peers[%d]", i), "temporary access peer %s cannot join groups", pid)
		case !seen[pid]:
			seen[pid] = true
			g.Peers = append(g.Peers, pid)
		}
	}
	g.Resources = s.checkResources(v, spec.Resources)
	if err := v.Err(); err != nil {
		return GroupInfo{}, err
	}
	for _, other := range st.groups {
		if other.Name == spec.Name && other.ID != g.ID {
			return GroupInfo{}, core.ConflictOn("name", "group with name %q already exists", spec.Name)
		}
	}
	err := s.commit(ctx, map[string]any{groupPrefix + g.ID: g}, nil, func(st *state) {
		st.groups[g.ID] = g
		st.reindexGroups()
	})
	if err != nil {
		return GroupInfo{}, err
	}
	s.publish(events.GroupSaved, g.ID, "group "+g.Name+" saved", nil)
	return s.Group(g.ID)
}

// DeleteGroup deletes a group no policy uses. Errors: ErrNotFound,
// ValidationError (All, or still used by a policy).
func (s *Service) DeleteGroup(ctx context.Context, id string) error {
	s.wmu.Lock()
	defer s.wmu.Unlock()
	st := s.st
	g, ok := st.groups[id]
	if !ok {
		return core.NotFound("group not found: %s", id)
	}
	if g.All {
		return core.Invalid("id", "group All holds every peer and cannot be deleted")
	}
	for _, pid := range st.polOrder {
		pol := st.policies[pid]
		for _, r := range pol.Rules {
			if slices.Contains(r.Sources, id) || slices.Contains(r.Destinations, id) {
				return core.ConflictOn("id", "group is used by policy %q; change that policy first", pol.Name)
			}
		}
	}
	err := s.commit(ctx, nil, []string{groupPrefix + id}, func(st *state) {
		delete(st.groups, id)
		st.reindexGroups()
	})
	if err != nil {
		return err
	}
	s.publish(events.GroupDeleted, id, "group "+g.Name+" deleted", nil)
	return nil
}

// checkResources validates a group's networks: IPv4 (the overlay is
// IPv4), written as the network itself, not inside the overlay, each once.
func (s *Service) checkResources(v *core.ValidationError, in []netip.Prefix) []netip.Prefix {
	if len(in) > maxResources {
		v.Add("resources", "at most %d networks per group, got %d", maxResources, len(in))
		return nil
	}
	var out []netip.Prefix
	for i, p := range in {
		field := fmt.Sprintf("resources[%d]", i)
		switch {
		case !p.IsValid() || !p.Addr().Unmap().Is4():
			v.Add(field, "must be an IPv4 network such as 192.168.1.0/24")
		case p.Masked() != p:
			v.Add(field, "%s is not a network address; did you mean %s?", p, p.Masked())
		case s.cfg.Network.Bits() <= p.Bits() && s.cfg.Network.Contains(p.Addr()):
			v.Add(field, "%s lies inside the overlay %s: its peers are reached as peers", p, s.cfg.Network)
		case slices.Contains(out, p):
			v.Add(field, "%s is listed twice", p)
		default:
			out = append(out, p)
		}
	}
	return out
}

// Routes returns the networks behind the gateway that peer id may reach
// (its client config routes them through the tunnel), sorted.
// Errors: ErrNotFound.
func (s *Service) Routes(id string) ([]netip.Prefix, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	p, ok := s.st.peers[id]
	if !ok {
		return nil, core.NotFound("peer not found: %s", id)
	}
	var out []netip.Prefix
	for _, sd := range s.st.reach(p) {
		groups := sd.rule.Destinations
		if !sd.toDest {
			groups = sd.rule.Sources
		}
		for _, gid := range groups {
			if g, ok := s.st.groups[gid]; ok {
				for _, r := range g.Resources {
					if !slices.Contains(out, r) {
						out = append(out, r)
					}
				}
			}
		}
	}
	slices.SortFunc(out, func(a, b netip.Prefix) int {
		if c := a.Addr().Compare(b.Addr()); c != 0 {
			return c
		}
		return a.Bits() - b.Bits()
	})
	return out, nil
}

func compareNameID(an, aid, bn, bid string) int {
	if an != bn {
		if an < bn {
			return -1
		}
		return 1
	}
	switch {
	case aid < bid:
		return -1
	case aid > bid:
		return 1
	}
	return 0
}
