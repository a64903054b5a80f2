package overlay

import (
	"iter"
	"slices"
	"strconv"
	"strings"
)

// accessCache memoises accessible-peer sets by a peer's rule signature:
// peers that sit on the same sides of the same rules reach the same peers,
// so with group-based policies a whole list needs only a few set unions.
type accessCache struct {
	gen  uint64
	sets map[string]map[string]struct{}
	// counts holds accessibleCount by peer id: a list of 10,000 peers
	// otherwise walks every rule for every peer on each request.
	counts map[string]int
}

// side is one rule side matched by a peer: which peers it may reach.
type side struct {
	rule   *Rule
	toDest bool // the peer is a source and reaches the destinations
}

// reach returns the rule sides that let p reach other peers. A source
// reaches the destinations; a destination reaches the sources only when the
// rule is bidirectional, because that is what the firewall lets through.
func (st *state) reach(p *Peer) []side {
	if p.ApprovalRequired {
		return nil
	}
	var out []side
	for r := range st.enforced() {
		if st.onSide(p, r.Sources, r.SourcePeer) {
			out = append(out, side{rule: r, toDest: true})
		}
		if r.Bidirectional && st.onSide(p, r.Destinations, r.DestinationPeer) {
			out = append(out, side{rule: r, toDest: false})
		}
	}
	return out
}

// enforced yields the rules in force, in a stable order: the enabled
// rules of enabled policies. accessible-peers and the kernel's policy
// both read them here, so they cannot disagree on which rules count.
func (st *state) enforced() iter.Seq[*Rule] {
	return func(yield func(*Rule) bool) {
		for _, pid := range st.polOrder {
			pol := st.policies[pid]
			if !pol.Enabled {
				continue
			}
			for i := range pol.Rules {
				if r := &pol.Rules[i]; r.Enabled && r.Action == "accept" && !yield(r) {
					return
				}
			}
		}
	}
}

func (st *state) onSide(p *Peer, groups []string, peer string) bool {
	if peer == p.ID {
		return true
	}
	for _, gid := range groups {
		if g, ok := st.groups[gid]; ok && st.inGroup(p, g) {
			return true
		}
	}
	return false
}

// accessibleSet returns the peers p may reach, p possibly included (the
// caller removes it). The set is shared: callers must not modify it.
func (st *state) accessibleSet(p *Peer) map[string]struct{} {
	sides := st.reach(p)
	if len(sides) == 0 {
		return nil
	}
	var key strings.Builder
	for _, sd := range sides {
		key.WriteString(sd.rule.ID)
		key.WriteString(strconv.FormatBool(sd.toDest))
		key.WriteByte(';')
	}
	// Rules that name a peer directly give each peer its own signature.
	for _, sd := range sides {
		if sd.rule.SourcePeer != "" || sd.rule.DestinationPeer != "" {
			key.WriteString(p.ID)
			break
		}
	}
	k := key.String()
	st.cacheMu.Lock()
	defer st.cacheMu.Unlock()
	if st.cache.gen != st.gen || st.cache.sets == nil {
		st.cache = accessCache{gen: st.gen, sets: map[string]map[string]struct{}{}}
	}
	if set, ok := st.cache.sets[k]; ok {
		return set
	}
	set := map[string]struct{}{}
	for _, sd := range sides {
		groups, peer := sd.rule.Destinations, sd.rule.DestinationPeer
		if !sd.toDest {
			groups, peer = sd.rule.Sources, sd.rule.SourcePeer
		}
		st.addSide(set, groups, peer)
	}
	st.cache.sets[k] = set
	return set
}

func (st *state) addSide(set map[string]struct{}, groups []string, peer string) {
	add := func(id string) {
		if q, ok := st.peers[id]; ok && !q.ApprovalRequired {
			set[id] = struct{}{}
		}
	}
	if peer != "" {
		add(peer)
	}
	for _, gid := range groups {
		g, ok := st.groups[gid]
		if !ok {
			continue
		}
		for _, id := range st.members(g) {
			add(id)
		}
	}
}

// accessibleCount is len(accessible peers of p) without building a list.
func (st *state) accessibleCount(p *Peer) int {
	st.cacheMu.Lock()
	if st.cache.gen != st.gen || st.cache.sets == nil {
		st.cache = accessCache{gen: st.gen, sets: map[string]map[string]struct{}{}}
	}
	n, ok := st.cache.counts[p.ID]
	st.cacheMu.Unlock()
	if ok {
		return n
	}
	set := st.accessibleSet(p)
	n = len(set)
	if _, self := set[p.ID]; self {
		n--
	}
	st.cacheMu.Lock()
	if st.cache.gen == st.gen {
		if st.cache.counts == nil {
			st.cache.counts = make(map[string]int, len(st.peers))
		}
		st.cache.counts[p.ID] = n
	}
	st.cacheMu.Unlock()
	return n
}

// accessible returns the peers p may reach, sorted by name.
func (st *state) accessible(p *Peer) []*Peer {
	set := st.accessibleSet(p)
	out := make([]*Peer, 0, len(set))
	for id := range set {
		if id != p.ID {
			out = append(out, st.peers[id])
		}
	}
	slices.SortFunc(out, func(a, b *Peer) int {
		if c := strings.Compare(a.Name, b.Name); c != 0 {
			return c
		}
		return strings.Compare(a.ID, b.ID)
	})
	return out
}
