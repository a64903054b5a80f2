package acl

import (
	"cmp"
	"container/heap"
	"context"
	"fmt"
	"github.com/edgeward/edgeward/core/events"
	"slices"
	"strings"

	"github.com/edgeward/edgeward/core"
)

// Scopes of a listed entry: what its target covers.
const (
	ScopeAddress = "address"      // one address, every port
	ScopeRange   = "range"        // an address range, every port
	ScopePort    = "address:port" // one address, one destination port (bans only)
	ScopePeer    = "peer"         // a P2P peer id
)

// MaxLift is the most targets one Lift takes: one store transaction and
// one kernel delta, in which each bulk record holding some of the targets
// is rewritten once.
const MaxLift = 1_000

// Listed is one ban or trust as the lists show it.
type Listed struct {
	// Target is the entry as ParseTarget reads it and Lift takes it
	// ("203.0.113.7", "198.51.100.0/24", "192.0.2.1:22"), or a peer id.
	Target string
	Scope  string // one of the Scope constants
	Entry  Entry  // Until is zero for good; Chunk is left empty
}

// scope names what t covers.
func (t Target) scope() string {
	switch {
	case t.Port != 0:
		return ScopePort
	case t.Single():
		return ScopeAddress
	}
	return ScopeRange
}

// Bans returns the live bans of addresses, ranges and address:port points
// in address order (a range before the addresses it holds), at most limit
// of them (0: all), and how many there are. Expired bans the sweep has not
// dropped yet are left out.
func (s *Service) Bans(limit int) (list []Listed, total int) {
	now := s.cfg.Now()
	keep := firsts{limit: limit}
	s.mu.RLock()
	for t, e := range s.st.bans {
		if e.live(now) {
			keep.add(t, e)
		}
	}
	s.mu.RUnlock()
	return keep.list(), keep.total
}

// Trusts returns the trusted addresses and ranges in address order, at
// most limit of them (0: all), and how many there are.
func (s *Service) Trusts(limit int) (list []Listed, total int) {
	keep := firsts{limit: limit}
	s.mu.RLock()
	for p, e := range s.st.trusts {
		keep.add(Target{Prefix: p}, e)
	}
	s.mu.RUnlock()
	return keep.list(), keep.total
}

// held is one entry taken out of memory. Entries are replaced, never
// changed in place, so e may be read without the lock.
type held struct {
	t Target
	e *Entry
}

// byTarget is address order; stored prefixes are masked, so comparing
// their addresses first puts a range before the addresses it holds.
func byTarget(a, b held) int {
	return cmp.Or(a.t.Prefix.Addr().Compare(b.t.Prefix.Addr()), cmp.Compare(a.t.Prefix.Bits(), b.t.Prefix.Bits()),
		cmp.Compare(a.t.Port, b.t.Port))
}

// firsts keeps the first limit (0: all) entries in address order of those
// added. The page asks for 200 of maybe 100,000 bans: a heap of the first
// ones costs one comparison for most entries and no copy of them all.
type firsts struct {
	limit int
	h     lastOnTop
	total int
}

func (f *firsts) add(t Target, e *Entry) {
	f.total++
	x := held{t, e}
	switch {
	case f.limit <= 0 || len(f.h) < f.limit:
		f.h = append(f.h, x)
		if len(f.h) == f.limit {
			heap.Init(&f.h)
		}
	case byTarget(x, f.h[0]) < 0:
		f.h[0] = x
		heap.Fix(&f.h, 0)
	}
}

// sorted returns the entries kept, in address order.
func (f *firsts) sorted() []held {
	slices.SortFunc(f.h, byTarget)
	return f.h
}

func (f *firsts) list() []Listed {
	out := make([]Listed, len(f.h))
	for i, h := range f.sorted() {
		out[i] = listed(h.t.String(), h.t.scope(), *h.e)
	}
	return out
}

// lastOnTop is a heap whose root is the last entry in address order.
type lastOnTop []held

func (h lastOnTop) Len() int           { return len(h) }
func (h lastOnTop) Less(i, j int) bool { return byTarget(h[i], h[j]) > 0 }
func (h lastOnTop) Swap(i, j int)      { h[i], h[j] = h[j], h[i] }
func (h *lastOnTop) Push(x any)        { *h = append(*h, x.(held)) }
func (h *lastOnTop) Pop() any {
	old := *h
	x := old[len(old)-1]
	*h = old[:len(old)-1]
	return x
}

// PeerBans returns the banned peer ids in id order, at most limit of them
// (0: all), and how many there are. Lift does not take them: SetPeer
// opens a peer id.
func (s *Service) PeerBans(limit int) (list []Listed, total int) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return listPeers(s.st.peerBans, limit)
}

// PeerTrusts returns the trusted peer ids as PeerBans returns the banned.
func (s *Service) PeerTrusts(limit int) (list []Listed, total int) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return listPeers(s.st.peerTrusts, limit)
}

func listPeers(m map[string]Entry, limit int) ([]Listed, int) {
	all := make([]Listed, 0, len(m))
	for id, e := range m {
		all = append(all, listed(id, ScopePeer, e))
	}
	slices.SortFunc(all, func(a, b Listed) int { return strings.Compare(a.Target, b.Target) })
	return all[:cut(len(all), limit)], len(all)
}

func listed(target, scope string, e Entry) Listed {
	e.Chunk = "" // a store key, of no use outside
	return Listed{Target: target, Scope: scope, Entry: e}
}

// cut is how many of n entries a list of at most limit (0: all) shows.
func cut(n, limit int) int {
	if limit > 0 {
		return min(n, limit)
	}
	return n
}

// Lift lifts the bans and trusts of targets: addresses, ranges and
// address:port points as ParseTarget reads them. Unlike opening a point it
// leaves greylisting alone, and it reaches what a point cannot name. Every
// entry is checked before anything changes; the store gets one
// transaction and the kernel one delta. Targets the ACL holds no live ban
// or trust for are skipped, so lifting twice is harmless.
// It returns how many distinct targets held a live ban or trust.
// Errors: ValidationError naming bad entries (entries[i]); NotFound when
// the ACL holds nothing for any of the targets.
func (s *Service) Lift(ctx context.Context, targets []string, by string) (int, error) {
	ts, err := liftTargets(targets)
	if err != nil {
		return 0, err
	}
	found := s.holding(ts)
	if len(found) == 0 {
		if len(ts) == 1 {
			return 0, core.NotFound("the ACL holds no ban or trust for %s", ts[0])
		}
		return 0, core.NotFound("the ACL holds no ban or trust for any of the %d entries", len(ts))
	}
	// Every target is undone, found or not: an expired entry the sweep has
	// not reached yet goes too.
	steps := make([]change, 0, 2*len(ts))
	for i := range ts {
		t := &ts[i]
		steps = append(steps, change{unban: t})
		if t.Port == 0 {
			steps = append(steps, change{untrust: &t.Prefix})
		}
	}
	if err := s.change(ctx, steps); err != nil {
		return 0, err
	}
	for i, l := range found {
		if i == liftEvents {
			// The journal is a small ring: a long list would push out
			// everything else.
			s.publish(events.ACLLifted, "", fmt.Sprintf("%d more entries lifted", len(found)-i),
				map[string]string{"count": fmt.Sprint(len(found) - i), "by": by})
			break
		}
		s.publish(events.ACLLifted, l.target, l.what+" of "+l.target+" lifted",
			map[string]string{"target": l.target, "lifted": l.what, "by": by})
	}
	return len(found), nil
}

// liftEvents is how many lifts of one call get an event each.
const liftEvents = 20

func liftTargets(targets []string) ([]Target, error) {
	v := &core.ValidationError{}
	if len(targets) == 0 || len(targets) > MaxLift {
		return nil, v.Add("entries", "must hold 1 to %d entries, not %d", MaxLift, len(targets)).Err()
	}
	ts := make([]Target, 0, len(targets))
	seen := newTargetSet(len(targets))
	for i, raw := range targets {
		t, err := ParseTarget(raw)
		switch {
		case err != nil:
			v.Add(fmt.Sprintf("entries[%d]", i), "%s", err.Error())
		case seen.add(t):
			ts = append(ts, t)
		}
		if len(v.Fields) >= 20 {
			break // enough to fix; the rest would only bury them
		}
	}
	return ts, v.Err()
}

// lifted is what the ACL holds for one target: "ban", "trust" or both.
type lifted struct{ target, what string }

// holding returns what the ACL holds live for each target, in their order.
func (s *Service) holding(ts []Target) []lifted {
	now := s.cfg.Now()
	s.mu.RLock()
	defer s.mu.RUnlock()
	var out []lifted
	for _, t := range ts {
		var what []string
		if e, ok := s.st.bans[t]; ok && e.live(now) {
			what = append(what, Ban)
		}
		if e, ok := s.st.trusts[t.Prefix]; ok && t.Port == 0 && e.live(now) {
			what = append(what, Trust)
		}
		if len(what) > 0 {
			out = append(out, lifted{t.String(), strings.Join(what, " and ")})
		}
	}
	return out
}
