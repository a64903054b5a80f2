package acl

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/edgeward/edgeward/core"
	"github.com/rs/xid"
)

// MaxBulk is the most entries one bulk call takes.
const MaxBulk = 100_000

// bulkChunk is how many targets one bulk record holds.
const bulkChunk = 2_000

// Bulk bans or trusts many addresses, ranges and (for bans) address:port
// points at once. Every entry is checked before anything is written; the
// kernel gets the whole change in one Apply. ttl > 0 makes bans expire.
// Errors: ValidationError naming the first bad entries.
func (s *Service) Bulk(ctx context.Context, acl string, entries []string, ttl time.Duration, by string) (int, error) {
	v := &core.ValidationError{}
	if acl != Ban && acl != Trust {
		v.Add("acl", "must be ban or trust, not %q", acl)
	}
	if len(entries) == 0 || len(entries) > MaxBulk {
		v.Add("entries", "must hold 1 to %d entries, not %d", MaxBulk, len(entries))
	}
	if ttl < 0 || (ttl > 0 && acl == Trust) {
		v.Add("ttl", "must be positive, and only bans expire")
	}
	targets := make([]Target, 0, len(entries))
	seen := make(map[Target]bool, len(entries))
	for i, raw := range entries {
		t, err := ParseTarget(raw)
		switch {
		case err != nil:
			v.Add(fmt.Sprintf("entries[%d]", i), "%s", err.Error())
		case acl == Trust && t.Port != 0:
			v.Add(fmt.Sprintf("entries[%d]", i), "a trust covers every port; drop the port of %q", raw)
		case !seen[t]:
			seen[t] = true
			targets = append(targets, t)
		}
		if len(v.Fields) >= 20 {
			break // enough to fix; the rest would only bury them
		}
	}
	if err := v.Err(); err != nil {
		return 0, err
	}
	now := s.cfg.Now().UTC()
	e := Entry{Since: now, By: by, Reason: "bulk " + acl}
	if ttl > 0 {
		e.Until = now.Add(ttl)
	}
	if err := s.bulkStore(ctx, acl, targets, e); err != nil {
		return 0, err
	}
	s.publish("bulk_"+acl, "", fmt.Sprintf("%d entries %s in one call", len(targets), map[string]string{Ban: "banned", Trust: "trusted"}[acl]),
		map[string]string{"count": fmt.Sprint(len(targets)), "by": by})
	return len(targets), nil
}

func (s *Service) bulkStore(ctx context.Context, acl string, targets []Target, e Entry) error {
	s.wmu.Lock()
	defer s.wmu.Unlock()
	// Targets already held by older bulk records leave them, so that one
	// record holds each target and undoing it cleans the store.
	old := map[string][]string{}
	s.mu.RLock()
	for _, t := range targets {
		if k := s.st.chunkOf(t, acl == Trust); k != "" {
			old[k] = append(old[k], t.String())
		}
	}
	s.mu.RUnlock()
	id := xid.New().String()
	keys := make([]string, 0, len(targets)/bulkChunk+1)
	err := s.kv.Update(ctx, func(tx core.Tx) error {
		if err := dropFromChunks(tx, old); err != nil {
			return err
		}
		for n, start := 0, 0; start < len(targets); n, start = n+1, start+bulkChunk {
			part := targets[start:min(start+bulkChunk, len(targets))]
			c := chunk{ACL: acl, Entry: e, Targets: make([]string, len(part))}
			for i, t := range part {
				c.Targets[i] = t.String()
			}
			b, err := json.Marshal(c)
			if err != nil {
				return err
			}
			key := fmt.Sprintf("%s%s/%04d", bulkPrefix, id, n)
			keys = append(keys, key)
			if err := tx.Put([]byte(key), b, left(e, e.Since)); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("store bulk %s: %w", acl, err)
	}
	now := s.cfg.Now()
	d := Delta{Add: make([]Element, 0, len(targets))}
	s.mu.Lock()
	nets := false
	// One Entry per record, shared by its targets: 100,000 copies would
	// cost the router megabytes.
	shared := make([]*Entry, len(keys))
	for i, k := range keys {
		te := e
		te.Chunk = k
		shared[i] = &te
	}
	for i, t := range targets {
		te := shared[i/bulkChunk]
		if acl == Trust {
			s.st.trusts[t.Prefix] = te
			nets = true
			continue
		}
		s.st.bans[t] = te
		if t.Single() {
			d.Add = append(d.Add, banElement(t, *te, now))
		} else {
			nets = true
		}
	}
	if nets {
		d.Nets = s.st.nets(now)
	}
	s.mu.Unlock()
	s.enforce(ctx, d)
	return nil
}

// Counts says how many entries the ACL holds, from memory: the kernel's
// large sets are never read back to count them.
type Counts struct {
	Bans, Trusts, Greylisted, PeerBans, PeerTrusts int
}

// Counts returns the live entry counts.
func (s *Service) Counts() Counts {
	now := s.cfg.Now()
	s.mu.RLock()
	defer s.mu.RUnlock()
	c := Counts{Trusts: len(s.st.trusts), PeerBans: len(s.st.peerBans), PeerTrusts: len(s.st.peerTrusts)}
	for _, e := range s.st.bans {
		if e.live(now) {
			c.Bans++
		}
	}
	for _, e := range s.st.greys {
		if e.live(now) {
			c.Greylisted++
		}
	}
	return c
}
