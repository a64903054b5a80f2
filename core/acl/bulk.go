package acl

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/rs/xid"

	"github.com/edgeward/edgeward/core"
	"github.com/edgeward/edgeward/core/events"
)

// MaxBulk is the most entries one bulk call takes.
const MaxBulk = 100_000

// bulkChunk is how many targets one bulk record holds.
const bulkChunk = 2_000

// Bulk bans or trusts many addresses, ranges and (for bans) address:port
// points at once. Every entry is checked before anything is written; the
// kernel gets the whole change in one Apply. ttl > 0 makes bans expire.
// Bans that would lock the admin out (see Guard) are refused unless
// g.Force.
// Errors: ValidationError naming the first bad entries.
func (s *Service) Bulk(ctx context.Context, acl string, entries []string, ttl time.Duration, by string, g Guard) (int, error) {
	v := &core.ValidationError{}
	if acl != Ban && acl != Trust {
		v.Add("acl", "must be ban or trust, not %q", acl)
	}
	if len(entries) == 0 || len(entries) > MaxBulk {
		v.Add("entries", "must hold 1 to %d entries, not %d", MaxBulk, len(entries))
	}
	if ttl < 0 || (ttl > 0 && acl == Trust) {
		v.Add("ttl", "must be positive, and only bans expire")
	} else if ttl > MaxTTL {
		v.Add("ttl", "must be at most %d days", MaxTTL/(24*time.Hour))
	}
	targets := make([]Target, 0, len(entries))
	seen := newTargetSet(len(entries))
	for i, raw := range entries {
		t, err := ParseTarget(raw)
		switch {
		case err != nil:
			v.Add(fmt.Sprintf("entries[%d]", i), "%s", err.Error())
		case acl == Trust && t.Port != 0:
			v.Add(fmt.Sprintf("entries[%d]", i), "a trust covers every port; drop the port of %q", raw)
		case acl == Ban && s.lockout(t, g) != "":
			v.Add(fmt.Sprintf("entries[%d]", i), "%s%s", s.lockout(t, g), lockoutHint)
		case seen.add(t):
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
	s.publish(map[string]events.Kind{Ban: events.BulkBan, Trust: events.BulkTrust}[acl], "", fmt.Sprintf("%d entries %s in one call", len(targets), map[string]string{Ban: "banned", Trust: "trusted"}[acl]),
		map[string]string{"count": fmt.Sprint(len(targets)), "by": by})
	return len(targets), nil
}

func (s *Service) bulkStore(ctx context.Context, acl string, targets []Target, e Entry) error {
	s.wmu.Lock()
	defer s.wmu.Unlock()
	id := xid.New().String()
	keys := make([]string, 0, len(targets)/bulkChunk+1)
	for n := 0; n*bulkChunk < len(targets); n++ {
		keys = append(keys, fmt.Sprintf("%s%s/%04d", bulkPrefix, id, n))
	}
	old, d := s.bulkPlan(acl, targets, e)
	// One Entry per record, shared by its targets: 100,000 copies would
	// cost the router megabytes.
	shared := make([]*Entry, len(keys))
	for i, k := range keys {
		te := e
		te.Chunk = k
		shared[i] = &te
	}
	// The kernel and the store are written at once, and the new ban map is
	// built beside them: the answer waits for all three, and a failed store
	// write puts the kernel back as it was and drops the map.
	var bans map[Target]*Entry
	built := make(chan struct{})
	go func() {
		defer close(built)
		if acl == Ban {
			bans = s.st.grownBans(targets, shared)
		}
	}()
	kernel := make(chan struct{})
	go func() {
		defer close(kernel)
		s.enforce(ctx, d)
	}()
	err := s.kv.Update(ctx, func(tx core.Tx) error {
		if err := dropFromChunks(tx, old); err != nil {
			return err
		}
		for n, key := range keys {
			part := targets[n*bulkChunk : min((n+1)*bulkChunk, len(targets))]
			c := chunk{ACL: acl, Entry: e, Targets: make([]string, len(part))}
			for i, t := range part {
				c.Targets[i] = t.String()
			}
			b, err := json.Marshal(c)
			if err != nil {
				return err
			}
			if err := tx.Put([]byte(key), b, left(e, e.Since)); err != nil {
				return err
			}
		}
		return nil
	})
	<-kernel
	<-built
	if err != nil {
		if s.fw != nil {
			s.setEnforcement(s.fw.Install(ctx, s.ruleset()))
		}
		return fmt.Errorf("store bulk %s: %w", acl, err)
	}
	s.mu.Lock()
	if acl == Trust {
		for i, t := range targets {
			s.st.trusts[t.Prefix] = shared[i/bulkChunk]
		}
	} else {
		s.st.setBans(bans, targets, shared)
	}
	s.mu.Unlock()
	return nil
}

// bulkPlan returns the older bulk records to take the targets out of, and
// the kernel's delta for the call. Callers hold wmu, so memory cannot
// change before the plan is carried out.
func (s *Service) bulkPlan(acl string, targets []Target, e Entry) (map[string][]string, Delta) {
	now := s.cfg.Now()
	old := map[string][]string{}
	d := Delta{Fresh: make([]Element, 0, len(targets))}
	s.mu.RLock()
	defer s.mu.RUnlock()
	nets := false
	for _, t := range targets {
		if k := s.st.chunkOf(t, acl == Trust); k != "" {
			old[k] = append(old[k], t.String())
		}
		if acl == Trust || !t.Single() {
			nets = true
			continue
		}
		if _, had := s.st.bans[t]; had {
			d.Add = append(d.Add, banElement(t, e, now))
		} else {
			d.Fresh = append(d.Fresh, banElement(t, e, now))
		}
	}
	if nets {
		d.Nets = s.st.nets(now)
		for _, t := range targets {
			if acl == Trust {
				d.Nets.Trust = append(d.Nets.Trust, t.Prefix)
			} else if !t.Single() {
				d.Nets.BanNets = append(d.Nets.BanNets, t.Prefix)
			}
		}
	}
	return old, d
}
