package acl

import (
	"context"
	"encoding/json"
	"fmt"
	"github.com/edgeward/edgeward/core/events"
	"net/netip"
	"slices"
	"time"

	"github.com/edgeward/edgeward/core"
)

// ACL values of a point or peer.
const (
	Ban   = "ban"
	Trust = "trust"
	Open  = "open"
)

// SetPoint applies an ACL to a point's address (the port is kept only as a
// name): ban = untrust and ban (and cut its connections), trust = unban,
// ungreylist and trust, open = unban, ungreylist and untrust.
// A ban that would lock the admin out (see Guard) is refused unless
// g.Force.
// Errors: ValidationError for an unknown acl, or for a refused ban (field
// "point").
func (s *Service) SetPoint(ctx context.Context, p netip.AddrPort, acl, by string, g Guard) error {
	addr := p.Addr().Unmap()
	t := Target{Prefix: netip.PrefixFrom(addr, addr.BitLen())}
	if why := s.lockout(t, g); acl == Ban && why != "" {
		return core.Invalid("point", "%s%s", why, lockoutHint)
	}
	e := Entry{Since: s.cfg.Now().UTC(), By: by, Point: p.String()}
	var steps []change
	switch acl {
	case Ban:
		e.Reason = "banned by an admin"
		steps = []change{{ban: &t, entry: e}, {untrust: &t.Prefix}}
	case Trust:
		e.Reason = "trusted by an admin"
		steps = []change{{unban: &t}, {ungrey: addr}, {trust: &t.Prefix, entry: e}}
	case Open:
		steps = []change{{unban: &t}, {ungrey: addr}, {untrust: &t.Prefix}}
	default:
		return core.Invalid("acl", "must be ban, trust or open, not %q", acl)
	}
	if err := s.change(ctx, steps); err != nil {
		return err
	}
	past := map[string]string{Ban: "banned", Trust: "trusted", Open: "opened"}[acl]
	s.publish(map[string]events.Kind{Ban: events.PointBanned, Trust: events.PointTrusted, Open: events.PointOpened}[acl], addr.String(), "point "+p.String()+" "+past, map[string]string{"point": p.String(), "by": by})
	return nil
}

// change is one step of an ACL change; exactly one pointer field is set.
type change struct {
	ban     *Target
	unban   *Target
	trust   *netip.Prefix
	untrust *netip.Prefix
	ungrey  netip.Addr
	entry   Entry
}

// change stores the steps in one transaction, then updates memory and the
// kernel, then starts cutting banned sources' connections.
func (s *Service) change(ctx context.Context, steps []change) error {
	s.wmu.Lock()
	defer s.wmu.Unlock()
	// drops maps the bulk records holding undone targets to those
	// targets: each record is rewritten once, however many of its targets
	// the steps undo (a lift of 1,000 would otherwise rewrite one record up
	// to 1,000 times).
	drops := map[string][]string{}
	drop := func(chunk string, t Target) {
		if chunk != "" {
			drops[chunk] = append(drops[chunk], t.String())
		}
	}
	s.mu.RLock()
	for i := range steps {
		c := &steps[i]
		switch {
		case c.unban != nil:
			drop(s.st.chunkOf(*c.unban, false), *c.unban)
		case c.untrust != nil:
			t := Target{Prefix: *c.untrust}
			drop(s.st.chunkOf(t, true), t)
		case c.ban != nil:
			// A single-key ban of a target a bulk record also holds keeps
			// the record's key, so undoing it later cleans both.
			c.entry.Chunk = s.st.chunkOf(*c.ban, false)
		case c.trust != nil:
			c.entry.Chunk = s.st.chunkOf(Target{Prefix: *c.trust}, true)
		}
	}
	s.mu.RUnlock()
	err := s.kv.Update(ctx, func(tx core.Tx) error {
		if err := dropFromChunks(tx, drops); err != nil {
			return err
		}
		for _, c := range steps {
			if err := c.store(tx); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("store acl change: %w", err)
	}
	now := s.cfg.Now()
	var d Delta
	var cut []netip.Prefix
	s.mu.Lock()
	netsChanged := false
	for _, c := range steps {
		netsChanged = s.st.applyStep(c, now, &d) || netsChanged
		if c.ban != nil && c.ban.Port == 0 {
			cut = append(cut, c.ban.Prefix)
		}
	}
	if netsChanged {
		d.Nets = s.st.nets(now)
	}
	s.mu.Unlock()
	s.enforce(ctx, d)
	if len(cut) > 0 && s.fw != nil {
		s.cutLater(ctx, cut)
	}
	return nil
}

// cutLater ends the banned sources' tracked connections once the answer is
// on its way: the ban is stored and enforced already, and finding a
// source's flows walks the whole conntrack table (5 ms with 262,144
// buckets), which would more than double a ban's latency.
// When maxCuts are already running, the cut runs before the answer: a
// flood of bans is slowed down rather than piling up walks of the table.
func (s *Service) cutLater(ctx context.Context, cut []netip.Prefix) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), cutTimeout)
	select {
	case s.cutSlots <- struct{}{}:
	default:
		defer cancel()
		s.cut(ctx, cut)
		return
	}
	s.cuts.Add(1)
	go func() {
		defer s.cuts.Done()
		defer func() { <-s.cutSlots }()
		defer cancel()
		s.cut(ctx, cut)
	}()
}

// cut ends the tracked connections of each prefix.
func (s *Service) cut(ctx context.Context, cut []netip.Prefix) {
	for _, p := range cut {
		if n, err := s.fw.Cut(ctx, p); err != nil {
			s.cfg.Log.Warn("cut connections of banned source", "prefix", p, "err", err)
		} else if n > 0 {
			s.publish(events.ConnectionsCut, p.String(), fmt.Sprintf("%d connections of %s ended", n, p), nil)
		}
	}
}

// cutTimeout bounds the cuts of one change; maxCuts bounds the changes
// whose cuts run after their answer at once.
const (
	cutTimeout = 30 * time.Second
	maxCuts    = 4
)

func (c change) store(tx core.Tx) error {
	put := func(key string, e Entry) error {
		e.Chunk = "" // the single key is its own record
		b, err := json.Marshal(e)
		if err != nil {
			return err
		}
		return tx.Put([]byte(key), b, left(e, e.Since))
	}
	switch {
	case c.ban != nil:
		return put(banPrefix+c.ban.key(), c.entry)
	case c.unban != nil:
		return tx.Delete([]byte(banPrefix + c.unban.key()))
	case c.trust != nil:
		return put(trustPrefix+c.trust.String(), c.entry)
	case c.untrust != nil:
		return tx.Delete([]byte(trustPrefix + c.untrust.String()))
	case c.ungrey.IsValid():
		return tx.Delete([]byte(greyPrefix + c.ungrey.String()))
	}
	return nil
}

// applyStep updates memory and the kernel delta; it reports whether the
// interval sets changed. Callers hold mu.
func (st *state) applyStep(c change, now time.Time, d *Delta) bool {
	switch {
	case c.ban != nil:
		e := c.entry
		_, had := st.bans[*c.ban]
		st.setBan(*c.ban, &e)
		if !c.ban.Single() {
			return true
		}
		if had {
			d.Add = append(d.Add, banElement(*c.ban, c.entry, now))
		} else {
			d.Fresh = append(d.Fresh, banElement(*c.ban, c.entry, now))
		}
	case c.unban != nil:
		e, ok := st.bans[*c.unban]
		if !ok {
			return false
		}
		st.delBan(*c.unban)
		if !c.unban.Single() {
			return true
		}
		d.Remove = append(d.Remove, banElement(*c.unban, *e, now))
	case c.trust != nil:
		_, had := st.trusts[*c.trust]
		e := c.entry
		st.trusts[*c.trust] = &e
		return !had
	case c.untrust != nil:
		_, had := st.trusts[*c.untrust]
		delete(st.trusts, *c.untrust)
		return had
	case c.ungrey.IsValid():
		if e, ok := st.greys[c.ungrey]; ok {
			delete(st.greys, c.ungrey)
			d.Remove = append(d.Remove, greyElement(c.ungrey, e, now))
		}
	}
	return false
}

// Trusted reports whether addr lies in a trusted range.
func (s *Service) Trusted(addr netip.Addr) bool {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.st.trusted(addr.Unmap())
}

func (st *state) trusted(a netip.Addr) bool {
	if len(st.trusts) <= a.BitLen() {
		for p := range st.trusts {
			if p.Contains(a) {
				return true
			}
		}
		return false
	}
	// A bulk call may trust 100,000 addresses: looking up each prefix
	// that holds a costs every request 33 (IPv6: 129) lookups instead.
	for bits := a.BitLen(); bits >= 0; bits-- {
		if p, _ := a.Prefix(bits); st.trusts[p] != nil {
			return true
		}
	}
	return false
}

// inBannedRange reports whether a lies in a live range ban. Callers hold mu.
func (st *state) inBannedRange(a netip.Addr, now time.Time) bool {
	if len(st.rangeBans) <= a.BitLen() {
		for t, e := range st.rangeBans {
			if e.live(now) && t.Prefix.Contains(a) {
				return true
			}
		}
		return false
	}
	// As for trusts: many ranges are looked up, not walked.
	for bits := a.BitLen() - 1; bits >= 0; bits-- {
		p, _ := a.Prefix(bits)
		if e, ok := st.rangeBans[Target{Prefix: p}]; ok && e.live(now) {
			return true
		}
	}
	return false
}

// Banned reports whether addr is blacklisted (an address or range ban; a
// per-port ban does not count) or greylisted, and not trusted.
func (s *Service) Banned(addr netip.Addr) bool {
	a := addr.Unmap()
	now := s.cfg.Now()
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.st.trusted(a) {
		return false
	}
	if e, ok := s.st.greys[a]; ok && e.live(now) {
		return true
	}
	return s.st.bannedAll(a, now) || s.st.inBannedRange(a, now)
}

// PointState is what the ACL knows of one address.
type PointState struct {
	Addr netip.Addr
	// Points are the points named for it: at most one, as only SetPoint
	// names one and its ban lifts a trust, its trust a ban. Port bans,
	// greylistings and bulk entries name none.
	Points         []string
	Trusted        bool
	Banned         bool
	GreylistedTill time.Time
}

// Points returns the addresses the ACL holds a live entry of their own for
// (a ban of every port or of one port, a trust, a greylisting; a range
// names no address) in address order, at most limit of them (0: all), and
// how many there are. The network page asks for 200 of maybe 100,000: only
// those are built.
func (s *Service) Points(limit int) (list []PointState, total int) {
	now := s.cfg.Now()
	keep := firsts{limit: limit}
	add := func(a netip.Addr) { keep.add(Target{Prefix: netip.PrefixFrom(a, a.BitLen())}, nil) }
	s.mu.RLock()
	defer s.mu.RUnlock()
	st := &s.st
	// Each address is offered once, by the first of its entries in this
	// order: a ban of every port, a trust, a greylisting, a port ban.
	var portOnly map[netip.Addr]bool // addresses with port bans alone
	for t, e := range st.bans {
		a := t.Prefix.Addr()
		switch {
		case !t.Single() || !e.live(now):
		case t.Port == 0:
			add(a)
		case !portOnly[a]:
			if _, known := st.point(a, now); !known {
				if portOnly == nil {
					portOnly = map[netip.Addr]bool{}
				}
				portOnly[a] = true
				add(a)
			}
		}
	}
	for p := range st.trusts {
		if p.IsSingleIP() && !st.bannedAll(p.Addr(), now) {
			add(p.Addr())
		}
	}
	for a, e := range st.greys {
		if e.live(now) && !st.bannedAll(a, now) && st.trusts[netip.PrefixFrom(a, a.BitLen())] == nil {
			add(a)
		}
	}
	held := keep.sorted()
	list = make([]PointState, len(held))
	for i, h := range held {
		list[i], _ = st.point(h.t.Prefix.Addr(), now)
	}
	return list, keep.total
}

// Point returns what the ACL holds for one address, without walking every
// entry (Points does that). known is false when it holds nothing but port
// bans, or nothing at all.
func (s *Service) Point(addr netip.Addr) (ps PointState, known bool) {
	now := s.cfg.Now()
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.st.point(addr.Unmap(), now)
}

// point is Point. Callers hold mu.
func (st *state) point(a netip.Addr, now time.Time) (ps PointState, known bool) {
	ps.Addr = a
	name := func(e *Entry) {
		if e.Point != "" && !slices.Contains(ps.Points, e.Point) {
			ps.Points = append(ps.Points, e.Point)
		}
		known = true
	}
	single := netip.PrefixFrom(a, a.BitLen())
	if e, ok := st.bans[Target{Prefix: single}]; ok && e.live(now) {
		ps.Banned = true
		name(e)
	}
	if e, ok := st.trusts[single]; ok {
		ps.Trusted = true
		name(e)
	}
	if e, ok := st.greys[a]; ok && e.live(now) {
		ps.GreylistedTill = e.Until
		name(&e)
	}
	return ps, known
}

// bannedAll reports whether a has a live ban of every port. Callers hold mu.
func (st *state) bannedAll(a netip.Addr, now time.Time) bool {
	e, ok := st.bans[Target{Prefix: netip.PrefixFrom(a, a.BitLen())}]
	return ok && e.live(now)
}
