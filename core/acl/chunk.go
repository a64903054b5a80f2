package acl

import (
	"encoding/json"
	"fmt"
	"net/netip"
	"slices"
	"time"

	"github.com/edgeward/edgeward/core"
)

// A bulk call is stored as a few records of bulkChunk targets sharing one
// Entry, not as one key per address: 100,000 keys would cost the store
// seconds and hundreds of megabytes of churn on a small router, while a
// few dozen records cost milliseconds.
type chunk struct {
	ACL     string
	Entry   Entry
	Targets []string
}

func (s *Service) loadChunks(tx core.Tx, now time.Time) error {
	return tx.Scan([]byte(bulkPrefix), false, func(k, v []byte) error {
		var c chunk
		if err := json.Unmarshal(v, &c); err != nil {
			return fmt.Errorf("decode %s: %w", k, err)
		}
		if !c.Entry.live(now) {
			return nil
		}
		e := &c.Entry
		e.Chunk = string(k)
		for _, raw := range c.Targets {
			t, err := ParseTarget(raw)
			if err != nil {
				return fmt.Errorf("decode %s: %w", k, err)
			}
			// A target both a record and a single key hold keeps the
			// newer entry: a permanent ban made after a timed bulk ban
			// must not come back as the timed one.
			if c.ACL == Trust {
				if old := s.st.trusts[t.Prefix]; old == nil || !old.Since.After(e.Since) {
					s.st.trusts[t.Prefix] = e
				}
			} else if old := s.st.bans[t]; old == nil || !old.Since.After(e.Since) {
				s.st.setBan(t, e)
			}
		}
		return nil
	})
}

// dropFromChunks removes targets from the bulk records that hold them,
// rewriting each record once. Callers hold wmu; chunks maps record keys to
// the targets to drop.
func dropFromChunks(tx core.Tx, chunks map[string][]string) error {
	for key, targets := range chunks {
		v, err := tx.Get([]byte(key))
		if core.IsNotFound(err) {
			continue // expired
		}
		if err != nil {
			return err
		}
		var c chunk
		if err := json.Unmarshal(v, &c); err != nil {
			return fmt.Errorf("decode %s: %w", key, err)
		}
		// A set: re-banning a whole record's 2,000 targets must not cost
		// 2,000 × 2,000 comparisons.
		drop := make(map[string]bool, len(targets))
		for _, t := range targets {
			drop[t] = true
		}
		c.Targets = slices.DeleteFunc(c.Targets, func(t string) bool { return drop[t] })
		if len(c.Targets) == 0 {
			if err := tx.Delete([]byte(key)); err != nil {
				return err
			}
			continue
		}
		b, err := json.Marshal(c)
		if err != nil {
			return err
		}
		if err := tx.Put([]byte(key), b, left(c.Entry, time.Now())); err != nil {
			return err
		}
	}
	return nil
}

// chunkOf returns the bulk record holding a ban or trust target, if any.
// Callers hold mu.
func (st *state) chunkOf(t Target, trust bool) string {
	e := st.bans[t]
	if trust {
		e = st.trusts[t.Prefix]
	}
	if e == nil {
		return ""
	}
	return e.Chunk
}

func targetText(p netip.Prefix, port uint16) string { return Target{Prefix: p, Port: port}.String() }

// grownBans returns bans with targets[i] set to entries[i/bulkChunk], in
// a map sized for them at once, or nil when the targets are few against
// what bans holds (then setBan one by one costs less than a copy). Growing
// the map entry by entry through a bulk ban of 100,000 cost about 30 ms of
// rehashing under mu; this runs beside the store and kernel writes.
// Callers hold wmu, so bans does not change meanwhile; setBans adopts the
// result.
func (st *state) grownBans(targets []Target, entries []*Entry) map[Target]*Entry {
	if len(targets) < 1024 || len(targets) < len(st.bans)/2 {
		return nil
	}
	m := make(map[Target]*Entry, len(st.bans)+len(targets))
	for t, e := range st.bans {
		m[t] = e
	}
	for i, t := range targets {
		m[t] = entries[i/bulkChunk]
	}
	return m
}

// setBan, setBans and delBan keep bans, rangeBans and bansLive in step.
// Callers hold mu.
func (st *state) setBan(t Target, e *Entry) {
	st.bans[t] = e
	st.bansLive.add(e.Until)
	if !t.Single() {
		st.rangeBans[t] = e
	}
}

// setBans sets targets[i] to entries[i/bulkChunk]: into grown, made by
// grownBans for them, when it is not nil, else one by one.
func (st *state) setBans(grown map[Target]*Entry, targets []Target, entries []*Entry) {
	if grown == nil {
		for i, t := range targets {
			st.setBan(t, entries[i/bulkChunk])
		}
		return
	}
	st.bans = grown
	for i, t := range targets {
		e := entries[i/bulkChunk]
		st.bansLive.add(e.Until)
		if !t.Single() {
			st.rangeBans[t] = e
		}
	}
}

func (st *state) delBan(t Target) {
	delete(st.bans, t)
	delete(st.rangeBans, t)
}
