package overlay

import (
	"iter"
	"math/bits"
	"strconv"
	"strings"
)

// accessCache memoises accessible-peer sets by a peer's rule signature:
// peers that sit on the same sides of the same rules reach the same peers,
// so with group-based policies a whole list needs only a few set unions.
type accessCache struct {
	gen uint64
	// pos is each peer's position in order, its bit in the sets.
	pos map[string]int32
	// sets are bitsets over order: 1.25 KB for 10,000 peers, where a map
	// of ids took about 40 bytes a member.
	sets map[string]bitset
	// counts holds accessibleCount by peer id: a list of 10,000 peers
	// otherwise walks every rule for every peer on each request.
	counts map[string]int
}

// bitset holds one bit per position in state.order.
type bitset []uint64

func newBitset(n int) bitset { return make(bitset, (n+63)/64) }

func (b bitset) set(i int32) { b[i>>6] |= 1 << (uint(i) & 63) }

func (b bitset) has(i int32) bool {
	return i >= 0 && int(i>>6) < len(b) && b[i>>6]&(1<<(uint(i)&63)) != 0
}

func (b bitset) count() int {
	n := 0
	for _, w := range b {
		n += bits.OnesCount64(w)
	}
	return n
}

// cached returns the cache of the current generation, replacing an older
// one. Callers hold cacheMu.
func (st *state) cached() *accessCache {
	if st.cache.gen != st.gen || st.cache.sets == nil {
		pos := make(map[string]int32, len(st.order))
		for i, id := range st.order {
			pos[id] = int32(i)
		}
		st.cache = accessCache{gen: st.gen, pos: pos, sets: map[string]bitset{}}
	}
	return &st.cache
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
// caller removes it), and the position of p. The set is shared: callers
// must not modify it.
func (st *state) accessibleSet(p *Peer) (bitset, int32) {
	sides := st.reach(p)
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
	c := st.cached()
	self, ok := c.pos[p.ID]
	if !ok {
		self = -1
	}
	if len(sides) == 0 {
		return nil, self
	}
	if set, ok := c.sets[k]; ok {
		return set, self
	}
	set := newBitset(len(st.order))
	for _, sd := range sides {
		groups, peer := sd.rule.Destinations, sd.rule.DestinationPeer
		if !sd.toDest {
			groups, peer = sd.rule.Sources, sd.rule.SourcePeer
		}
		st.addSide(c, set, groups, peer)
	}
	c.sets[k] = set
	return set, self
}

func (st *state) addSide(c *accessCache, set bitset, groups []string, peer string) {
	add := func(id string) {
		if q, ok := st.peers[id]; ok && !q.ApprovalRequired {
			set.set(c.pos[id])
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

// reaches says whether p may reach the peer with id to.
func (st *state) reaches(p *Peer, to string) bool {
	set, _ := st.accessibleSet(p)
	st.cacheMu.Lock()
	i, ok := st.cache.pos[to]
	st.cacheMu.Unlock()
	return ok && set.has(i)
}

// accessibleCount is len(accessible peers of p) without building a list.
func (st *state) accessibleCount(p *Peer) int {
	st.cacheMu.Lock()
	n, ok := st.cached().counts[p.ID]
	st.cacheMu.Unlock()
	if ok {
		return n
	}
	set, self := st.accessibleSet(p)
	n = set.count()
	if set.has(self) {
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

// accessible returns the peers p may reach, sorted by name (the order
// the bits follow).
func (st *state) accessible(p *Peer) []*Peer {
	set, self := st.accessibleSet(p)
	out := make([]*Peer, 0, set.count())
	for i, id := range st.order {
		if int32(i) != self && set.has(int32(i)) {
			out = append(out, st.peers[id])
		}
	}
	return out
}
