package acl

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/edgeward/edgeward/core"
)

// MaxBulk is the most entries one bulk call takes.
const MaxBulk = 100_000

// bulkChunk is how many entries go into one store transaction: a Badger
// transaction is capped at a share of its memtable.
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
	val, err := json.Marshal(e)
	if err != nil {
		return err
	}
	s.wmu.Lock()
	defer s.wmu.Unlock()
	for start := 0; start < len(targets); start += bulkChunk {
		chunk := targets[start:min(start+bulkChunk, len(targets))]
		err := s.kv.Update(ctx, func(tx core.Tx) error {
			for _, t := range chunk {
				key := banPrefix + t.key()
				if acl == Trust {
					key = trustPrefix + t.Prefix.String()
				}
				if err := tx.Put([]byte(key), val, left(e, e.Since)); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			return fmt.Errorf("store bulk %s: %w", acl, err)
		}
	}
	now := s.cfg.Now()
	d := Delta{}
	s.mu.Lock()
	nets := false
	for _, t := range targets {
		if acl == Trust {
			s.st.trusts[t.Prefix] = e
			nets = true
			continue
		}
		s.st.bans[t] = e
		if t.Single() {
			d.Add = append(d.Add, banElement(t, e, now))
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
