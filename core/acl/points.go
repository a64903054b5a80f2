package acl

import (
	"context"
	"encoding/json"
	"fmt"
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
// Errors: ValidationError for an unknown acl.
func (s *Service) SetPoint(ctx context.Context, p netip.AddrPort, acl, by string) error {
	addr := p.Addr().Unmap()
	t := Target{Prefix: netip.PrefixFrom(addr, addr.BitLen())}
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
	s.publish("point_"+past, addr.String(), "point "+p.String()+" "+past, map[string]string{"point": p.String(), "by": by})
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
	chunk   string // bulk record holding the unbanned or untrusted target
}

// change stores the steps in one transaction, then updates memory and the
// kernel, then cuts banned sources' connections and logs events.
func (s *Service) change(ctx context.Context, steps []change) error {
	s.wmu.Lock()
	defer s.wmu.Unlock()
	s.mu.RLock()
	for i := range steps {
		c := &steps[i]
		switch {
		case c.unban != nil:
			c.chunk = s.st.chunkOf(*c.unban, false)
		case c.untrust != nil:
			c.chunk = s.st.chunkOf(Target{Prefix: *c.untrust}, true)
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
	for _, p := range cut {
		if s.fw != nil {
			if n, err := s.fw.Cut(ctx, p); err != nil {
				s.cfg.Log.Warn("cut connections of banned source", "prefix", p, "err", err)
			} else if n > 0 {
				s.publish("connections_cut", p.String(), fmt.Sprintf("%d connections of %s ended", n, p), nil)
			}
		}
	}
	return nil
}

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
		if c.chunk != "" {
			if err := dropFromChunks(tx, map[string][]string{c.chunk: {c.unban.String()}}); err != nil {
				return err
			}
		}
		return tx.Delete([]byte(banPrefix + c.unban.key()))
	case c.trust != nil:
		return put(trustPrefix+c.trust.String(), c.entry)
	case c.untrust != nil:
		if c.chunk != "" {
			t := Target{Prefix: *c.untrust}
			if err := dropFromChunks(tx, map[string][]string{c.chunk: {t.String()}}); err != nil {
				return err
			}
		}
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
	for p := range st.trusts {
		if p.Contains(a) {
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
	if e, ok := s.st.bans[Target{Prefix: netip.PrefixFrom(a, a.BitLen())}]; ok && e.live(now) {
		return true
	}
	for t, e := range s.st.rangeBans {
		if e.live(now) && t.Prefix.Contains(a) {
			return true
		}
	}
	return false
}

// PointState is what the ACL knows of one address.
type PointState struct {
	Addr           netip.Addr
	Points         []string // points named for it
	Trusted        bool
	Banned         bool
	GreylistedTill time.Time
}

// Points returns every address the ACL holds an entry for, sorted.
func (s *Service) Points() []PointState {
	now := s.cfg.Now()
	s.mu.RLock()
	addrs := map[netip.Addr]*PointState{}
	get := func(a netip.Addr, point string) *PointState {
		ps, ok := addrs[a]
		if !ok {
			ps = &PointState{Addr: a}
			addrs[a] = ps
		}
		if point != "" && !slices.Contains(ps.Points, point) {
			ps.Points = append(ps.Points, point)
		}
		return ps
	}
	for t, e := range s.st.bans {
		if t.Single() && e.live(now) {
			// A port ban only names the address: it must not undo a
			// whole-address ban met earlier in the map's order.
			if ps := get(t.Prefix.Addr(), e.Point); t.Port == 0 {
				ps.Banned = true
			}
		}
	}
	for p, e := range s.st.trusts {
		if p.IsSingleIP() {
			get(p.Addr(), e.Point).Trusted = true
		}
	}
	for a, e := range s.st.greys {
		if e.live(now) {
			get(a, e.Point).GreylistedTill = e.Until
		}
	}
	s.mu.RUnlock()
	out := make([]PointState, 0, len(addrs))
	for _, ps := range addrs {
		out = append(out, *ps)
	}
	slices.SortFunc(out, func(a, b PointState) int { return a.Addr.Compare(b.Addr) })
	return out
}

// Point returns what the ACL holds for one address, without walking every
// entry (Points does that). known is false when it holds nothing.
func (s *Service) Point(addr netip.Addr) (ps PointState, known bool) {
	a := addr.Unmap()
	now := s.cfg.Now()
	ps.Addr = a
	s.mu.RLock()
	defer s.mu.RUnlock()
	name := func(e *Entry) {
		if e.Point != "" && !slices.Contains(ps.Points, e.Point) {
			ps.Points = append(ps.Points, e.Point)
		}
		known = true
	}
	single := netip.PrefixFrom(a, a.BitLen())
	if e, ok := s.st.bans[Target{Prefix: single}]; ok && e.live(now) {
		ps.Banned = true
		name(e)
	}
	if e, ok := s.st.trusts[single]; ok {
		ps.Trusted = true
		name(e)
	}
	if e, ok := s.st.greys[a]; ok && e.live(now) {
		ps.GreylistedTill = e.Until
		name(&e)
	}
	return ps, known
}
