package links

import (
	"context"
	"fmt"
	"github.com/edgeward/edgeward/core/events"
	"net/netip"
	"strings"
	"time"

	"github.com/edgeward/edgeward/core"
)

// write runs mutate on a copy of the interface's record, checks the whole
// result before anything changes, refuses a change that would cut the
// admin off without a confirmation deadline, then stores it (with the
// rollback point when one is asked for), applies it and publishes it.
func (s *Service) write(ctx context.Context, id int, opts WriteOpts, what string,
	mutate func(r *record, l *Link, v *core.ValidationError)) error {
	links, kerr := s.kernel.Links(ctx)
	s.wmu.Lock()
	defer s.wmu.Unlock()
	cur, err := s.get(id)
	if err != nil {
		return err
	}
	if s.cfg.ReadOnly {
		return ErrReadOnly
	}
	if !etagMatches(opts.IfMatch, cur.etag()) {
		return fmt.Errorf("interface %d: %w", id, ErrStale)
	}
	var l *Link
	if kerr == nil {
		l = keyed(links)[cur.Key]
	}
	next := cur.clone()
	v := &core.ValidationError{}
	mutate(next, l, v)
	if err := v.Err(); err != nil {
		return err
	}
	checkRecord(v, next, l)
	if err := v.Err(); err != nil {
		return err
	}
	if err := guard(cur, next, l, opts); err != nil {
		return err
	}
	next.Gen = cur.Gen + 1
	var p *pending
	if opts.ConfirmWithin > 0 {
		p = &pending{Prev: *cur, Deadline: s.cfg.Now().Add(opts.ConfirmWithin)}
		s.mu.RLock()
		if old := s.pend[id]; old != nil {
			p.Prev = old.Prev // roll back to before the first unconfirmed change
		}
		s.mu.RUnlock()
	}
	if err := s.commit(ctx, next, p, false); err != nil {
		return err
	}
	fields := map[string]string{"generation": fmt.Sprint(next.Gen)}
	if p != nil {
		fields["confirm_by"] = p.Deadline.UTC().Format("2006-01-02T15:04:05Z")
	}
	s.publish(events.LinkConfigChanged, id, fmt.Sprintf("interface %d: %s", id, what), fields)
	if kerr == nil {
		_ = s.apply(ctx, next, links) // logged and published; status shows it pending
	}
	if err := s.writeResolv(); err != nil {
		s.cfg.Log.Warn("write resolver file", "err", err)
	}
	return nil
}

func etagMatches(ifMatch, etag string) bool {
	ifMatch = strings.TrimSpace(ifMatch)
	if ifMatch == "" || ifMatch == "*" {
		return true
	}
	for _, t := range strings.Split(ifMatch, ",") {
		t = strings.TrimPrefix(strings.TrimSpace(t), "W/")
		if t == etag || `"`+t+`"` == etag {
			return true
		}
	}
	return false
}

// guard refuses, without a confirmation deadline, a change that removes
// the address the request came in on.
func guard(cur, next *record, l *Link, opts WriteOpts) error {
	a := opts.ClientAddr.Unmap()
	if !a.IsValid() || a.IsUnspecified() || a.IsLoopback() || opts.ConfirmWithin > 0 {
		return nil
	}
	curUntagged, curTagged := addrsOf(cur)
	nextUntagged, nextTagged := addrsOf(next)
	if nextUntagged[a] || nextTagged[a] {
		return nil
	}
	onLink := curUntagged[a] || (l != nil && hasStatic(l, a))
	if (onLink && manages(next)) || curTagged[a] {
		return core.Invalid("confirm_within", "this change removes %s, the address this request came in on; "+
			"send it with ?confirm_within=<seconds> and confirm it through the new address in time, or it is rolled back", a)
	}
	return nil
}

func addrsOf(r *record) (untagged, tagged map[netip.Addr]bool) {
	untagged, tagged = map[netip.Addr]bool{}, map[netip.Addr]bool{}
	for _, n := range r.Networks {
		for _, p := range n.prefixes() {
			if n.VLANID == 0 {
				untagged[p.Addr()] = true
			} else {
				tagged[p.Addr()] = true
			}
		}
	}
	return untagged, tagged
}

func manages(r *record) bool {
	for _, n := range r.Networks {
		if n.VLANID == 0 && n.AssignedBy == AssignedStatic {
			return true
		}
	}
	return false
}

func hasStatic(l *Link, a netip.Addr) bool {
	for _, x := range l.Addrs {
		if x.AssignedBy == AssignedStatic && x.Prefix.Addr() == a {
			return true
		}
	}
	return false
}

// Confirm keeps the interface's unconfirmed change. Errors: ErrNotFound
// for an unknown interface, ErrConflict when no change awaits
// confirmation (never asked for, already confirmed, or rolled back),
// ErrReadOnly for a read-only service.
func (s *Service) Confirm(ctx context.Context, id int) error {
	s.wmu.Lock()
	defer s.wmu.Unlock()
	if _, err := s.get(id); err != nil {
		return err
	}
	if s.cfg.ReadOnly {
		return ErrReadOnly
	}
	s.mu.RLock()
	p := s.pend[id]
	s.mu.RUnlock()
	if p == nil {
		return core.Conflict("interface %d has no change awaiting confirmation", id)
	}
	if !s.cfg.Now().Before(p.Deadline) {
		if err := s.rollbackLocked(ctx, id, p); err != nil {
			return err
		}
		return core.Conflict("interface %d: too late, the change was rolled back", id)
	}
	if err := s.kv.Update(ctx, func(tx core.Tx) error { return tx.Delete([]byte(pendingKey(id))) }); err != nil {
		return fmt.Errorf("confirm interface %d: %w", id, err)
	}
	s.mu.Lock()
	delete(s.pend, id)
	s.mu.Unlock()
	s.publish(events.LinkConfigConfirmed, id, fmt.Sprintf("interface %d: change confirmed", id), nil)
	return nil
}

// sweep restores every unconfirmed change whose deadline has passed.
func (s *Service) sweep(ctx context.Context) {
	now := s.cfg.Now()
	s.mu.RLock()
	var due []int
	for id, p := range s.pend {
		if !now.Before(p.Deadline) {
			due = append(due, id)
		}
	}
	s.mu.RUnlock()
	for _, id := range due {
		s.wmu.Lock()
		s.mu.RLock()
		p := s.pend[id]
		s.mu.RUnlock()
		var err error
		if p != nil && !now.Before(p.Deadline) {
			err = s.rollbackLocked(ctx, id, p)
		}
		s.wmu.Unlock()
		if err != nil {
			s.cfg.Log.Error("roll back interface config", "interface_id", id, "err", err)
		}
	}
}

// rollbackLocked stores p.Prev as a new generation and applies it.
// Callers hold wmu.
func (s *Service) rollbackLocked(ctx context.Context, id int, p *pending) error {
	cur, err := s.get(id)
	if err != nil {
		return err
	}
	prev := p.Prev.clone()
	prev.Key, prev.Iface.Name, prev.Gen = cur.Key, cur.Iface.Name, cur.Gen+1
	prev.NextNet = max(prev.NextNet, cur.NextNet)
	if err := s.commit(ctx, prev, nil, true); err != nil {
		return err
	}
	s.cfg.Log.Warn("unconfirmed link config rolled back", "interface_id", id, "generation", prev.Gen)
	s.publish(events.LinkConfigRolledBack, id,
		fmt.Sprintf("interface %d: change not confirmed by %s, previous config restored", id, p.Deadline.UTC().Format("15:04:05Z")),
		map[string]string{"generation": fmt.Sprint(prev.Gen)})
	if links, err := s.kernel.Links(ctx); err == nil {
		_ = s.apply(ctx, prev, links)
	}
	// The rollback is stored: a resolver file that cannot be written is
	// told, as after a write, not returned as if the rollback had failed.
	if err := s.writeResolv(); err != nil {
		s.cfg.Log.Warn("write resolver file", "err", err)
	}
	return nil
}

// Pending returns the deadline of interface id's unconfirmed change: the
// moment it is rolled back unless confirmed. ok is false when nothing
// waits (or id is unknown).
func (s *Service) Pending(id int) (deadline time.Time, ok bool) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	p := s.pend[id]
	if p == nil {
		return time.Time{}, false
	}
	return p.Deadline, true
}
