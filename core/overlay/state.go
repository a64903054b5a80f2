package overlay

import (
	"net/netip"
	"slices"
	"strings"
	"sync"

	"github.com/edgeward/edgeward/core/p2pid"
)

// state is the overlay in memory with the indexes the API needs. It is
// guarded by Service.mu; the accessible-peers cache has its own lock
// because readers fill it.
type state struct {
	peers    map[string]*Peer
	groups   map[string]*Group
	policies map[string]*Policy
	status   map[string]*Status
	// psk holds the preshared keys of peers that have one, by peer id.
	psk map[string]string

	byName  map[string]string
	byKey   map[string]string
	byIP    map[netip.Addr]string
	byLabel map[string]string
	// byP2P maps the P2P id of each peer's key to the peer, so the
	// network dialect's lookups by id need not hash every key.
	byP2P map[p2pid.ID]string
	// order is every peer id sorted by name then id: the list order.
	order []string
	// memberOf maps a peer id to the ids of the explicit groups holding it.
	memberOf map[string][]string
	// polOrder is every policy id, sorted, so evaluation order is stable.
	polOrder []string
	// regular counts peers that are not ephemeral: the size of All.
	regular int

	gen     uint64
	cacheMu sync.Mutex
	cache   accessCache
}

func newState() *state {
	return &state{
		peers:    map[string]*Peer{},
		groups:   map[string]*Group{},
		policies: map[string]*Policy{},
		status:   map[string]*Status{},
		psk:      map[string]string{},
	}
}

// reindex rebuilds every index from the records.
func (st *state) reindex() {
	st.byName = make(map[string]string, len(st.peers))
	st.byKey = make(map[string]string, len(st.peers))
	st.byIP = make(map[netip.Addr]string, len(st.peers))
	st.byLabel = make(map[string]string, len(st.peers))
	st.byP2P = make(map[p2pid.ID]string, len(st.peers))
	st.order = st.order[:0]
	st.regular = 0
	for id, p := range st.peers {
		st.indexPeer(p)
		st.order = append(st.order, id)
	}
	slices.SortFunc(st.order, st.comparePeers)
	st.reindexGroups()
}

func (st *state) reindexGroups() {
	st.memberOf = map[string][]string{}
	for _, g := range st.groups {
		for _, pid := range g.Peers {
			st.memberOf[pid] = append(st.memberOf[pid], g.ID)
		}
	}
	for _, gs := range st.memberOf {
		slices.Sort(gs)
	}
	st.polOrder = st.polOrder[:0]
	for id := range st.policies {
		st.polOrder = append(st.polOrder, id)
	}
	slices.Sort(st.polOrder)
}

func (st *state) comparePeers(a, b string) int {
	if c := strings.Compare(st.peers[a].Name, st.peers[b].Name); c != 0 {
		return c
	}
	return strings.Compare(a, b)
}

func (st *state) indexPeer(p *Peer) {
	if !p.Ephemeral {
		st.regular++
	}
	st.byName[p.Name] = p.ID
	st.byKey[p.PublicKey] = p.ID
	st.byIP[p.IP] = p.ID
	st.byLabel[p.DNSLabel] = p.ID
	if id, ok := p2pID(p.PublicKey); ok {
		st.byP2P[id] = p.ID
	}
}

func (st *state) unindexPeer(p *Peer) {
	if !p.Ephemeral {
		st.regular--
	}
	delete(st.byName, p.Name)
	delete(st.byKey, p.PublicKey)
	delete(st.byIP, p.IP)
	delete(st.byLabel, p.DNSLabel)
	if id, ok := p2pID(p.PublicKey); ok {
		delete(st.byP2P, id)
	}
}

// putPeer inserts or replaces p, keeping the indexes and order in step.
func (st *state) putPeer(p *Peer) {
	if old, ok := st.peers[p.ID]; ok {
		st.unindexPeer(old)
		st.removeOrder(p.ID)
	}
	st.peers[p.ID] = p
	st.indexPeer(p)
	i, _ := slices.BinarySearchFunc(st.order, p.ID, st.comparePeers)
	st.order = slices.Insert(st.order, i, p.ID)
}

func (st *state) removePeer(id string) {
	p, ok := st.peers[id]
	if !ok {
		return
	}
	st.unindexPeer(p)
	st.removeOrder(id)
	delete(st.peers, id)
	delete(st.status, id)
	delete(st.psk, id)
}

func (st *state) removeOrder(id string) {
	i, found := slices.BinarySearchFunc(st.order, id, st.comparePeers)
	if found {
		st.order = slices.Delete(st.order, i, i+1)
	}
}

func (st *state) allGroup() *Group {
	for _, g := range st.groups {
		if g.All {
			return g
		}
	}
	return nil
}

// inGroup reports whether peer p is a member of group g.
func (st *state) inGroup(p *Peer, g *Group) bool {
	if g.All {
		return !p.Ephemeral
	}
	_, ok := slices.BinarySearch(st.memberOf[p.ID], g.ID)
	return ok
}

// members returns the ids of a group's peers, in list order for All.
func (st *state) members(g *Group) []string {
	if !g.All {
		return g.Peers
	}
	out := make([]string, 0, len(st.order))
	for _, id := range st.order {
		if !st.peers[id].Ephemeral {
			out = append(out, id)
		}
	}
	return out
}

func (st *state) groupRef(g *Group) GroupRef {
	n := len(g.Peers)
	if g.All {
		n = st.regular
	}
	return GroupRef{ID: g.ID, Name: g.Name, PeersCount: n, ResourcesCount: len(g.Resources), Issued: g.Issued}
}
