package overlay

import (
	"context"
	"fmt"
	"github.com/edgeward/edgeward/core/events"
	"slices"

	"github.com/edgeward/edgeward/core"
	"github.com/rs/xid"
)

// Policies returns every policy sorted by name.
func (s *Service) Policies() []PolicyInfo {
	s.mu.RLock()
	defer s.mu.RUnlock()
	out := make([]PolicyInfo, 0, len(s.st.policies))
	for _, id := range s.st.polOrder {
		out = append(out, s.policyInfo(s.st.policies[id]))
	}
	slices.SortFunc(out, func(a, b PolicyInfo) int { return compareNameID(a.Name, a.ID, b.Name, b.ID) })
	return out
}

// Policy returns one policy. Errors: ErrNotFound.
func (s *Service) Policy(id string) (PolicyInfo, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	p, ok := s.st.policies[id]
	if !ok {
		return PolicyInfo{}, core.NotFound("policy not found: %s", id)
	}
	return s.policyInfo(p), nil
}

func (s *Service) policyInfo(p *Policy) PolicyInfo {
	pi := PolicyInfo{Policy: *p, Groups: map[string]GroupRef{}}
	for _, r := range p.Rules {
		for _, gid := range append(slices.Clone(r.Sources), r.Destinations...) {
			if g, ok := s.st.groups[gid]; ok {
				pi.Groups[gid] = s.st.groupRef(g)
			}
		}
	}
	return pi
}

// SavePolicy creates a policy (id empty) or replaces one. Every rule must
// name known groups or peers on both sides. Errors: ValidationError,
// ErrNotFound.
func (s *Service) SavePolicy(ctx context.Context, id string, p Policy) (PolicyInfo, error) {
	s.wmu.Lock()
	defer s.wmu.Unlock()
	st := s.st
	if id == "" {
		id = xid.New().String()
	} else if _, ok := st.policies[id]; !ok {
		return PolicyInfo{}, core.NotFound("policy not found: %s", id)
	}
	p.ID = id
	v := &core.ValidationError{}
	checkName(v, "name", p.Name)
	checkDescription(v, "description", p.Description)
	if !checkRuleCount(v, len(p.Rules)) {
		return PolicyInfo{}, v.Err()
	}
	p.Rules = slices.Clone(p.Rules)
	for i := range p.Rules {
		r := &p.Rules[i]
		field := fmt.Sprintf("rules[%d]", i)
		if r.Name == "" {
			r.Name = p.Name
		}
		r.ID = fmt.Sprintf("%s-%d", id, i)
		checkRule(v, field, r)
		st.checkSide(v, field+".sources", field+".sourceResource", r.Sources, r.SourcePeer)
		st.checkSide(v, field+".destinations", field+".destinationResource", r.Destinations, r.DestinationPeer)
	}
	if err := v.Err(); err != nil {
		return PolicyInfo{}, err
	}
	err := s.commit(ctx, map[string]any{policyPrefix + id: &p}, nil, func(st *state) {
		st.policies[id] = &p
		st.reindexGroups()
	})
	if err != nil {
		return PolicyInfo{}, err
	}
	s.publish(events.PolicySaved, id, "policy "+p.Name+" saved", nil)
	return s.Policy(id)
}

func (st *state) checkSide(v *core.ValidationError, gField, pField string, groups []string, peer string) {
	if len(groups) == 0 && peer == "" {
		v.Add(gField, "must name at least one group")
	}
	if len(groups) > maxSide {
		v.Add(gField, "at most %d groups, got %d", maxSide, len(groups))
		return
	}
	for i, gid := range groups {
		if _, ok := st.groups[gid]; !ok {
			v.Add(fmt.Sprintf("%s[%d]", gField, i), "unknown group id %q", gid)
		}
	}
	if _, ok := st.peers[peer]; peer != "" && !ok {
		v.Add(pField+".id", "unknown peer id %q", peer)
	}
}

// DeletePolicy deletes a policy. Errors: ErrNotFound.
func (s *Service) DeletePolicy(ctx context.Context, id string) error {
	s.wmu.Lock()
	defer s.wmu.Unlock()
	p, ok := s.st.policies[id]
	if !ok {
		return core.NotFound("policy not found: %s", id)
	}
	err := s.commit(ctx, nil, []string{policyPrefix + id}, func(st *state) {
		delete(st.policies, id)
		st.reindexGroups()
	})
	if err != nil {
		return err
	}
	s.publish(events.PolicyDeleted, id, "policy "+p.Name+" deleted", nil)
	return nil
}
