package acl

import (
	"net/netip"
	"time"
)

// Counts says how many entries the ACL holds, from memory: the kernel's
// large sets are never read back to count them.
type Counts struct {
	Bans, Trusts, Greylisted, PeerBans, PeerTrusts int
}

// Counts returns the live entry counts. The dashboard asks every few
// seconds per open page: while no ban or greylisting has expired since the
// last sweep, which is nearly always, the counts are the maps' lengths and
// no entry is walked.
func (s *Service) Counts() Counts {
	now := s.cfg.Now()
	s.mu.RLock()
	defer s.mu.RUnlock()
	c := Counts{Bans: len(s.st.bans), Trusts: len(s.st.trusts), Greylisted: len(s.st.greys),
		PeerBans: len(s.st.peerBans), PeerTrusts: len(s.st.peerTrusts)}
	if !s.st.bansLive.allLive(now) {
		c.Bans = 0
		for _, e := range s.st.bans {
			if e.live(now) {
				c.Bans++
			}
		}
	}
	if !s.st.greysLive.allLive(now) {
		c.Greylisted = 0
		for _, e := range s.st.greys {
			if e.live(now) {
				c.Greylisted++
			}
		}
	}
	return c
}

// horizon is a time before which no entry of a map expires: no later than
// the earliest Until of its entries (zero: none expires). Adding an entry
// may bring it forward; removing one leaves it early, which costs a walk
// until the sweep sets it exactly again.
type horizon struct{ t time.Time }

func (h *horizon) add(until time.Time) {
	if !until.IsZero() && (h.t.IsZero() || until.Before(h.t)) {
		h.t = until
	}
}

// allLive reports whether every entry of the map is live at now.
func (h horizon) allLive(now time.Time) bool { return h.t.IsZero() || now.Before(h.t) }

// setGrey keeps greys and greysLive in step. Callers hold mu.
func (st *state) setGrey(a netip.Addr, e Entry) {
	st.greys[a] = e
	st.greysLive.add(e.Until)
}
