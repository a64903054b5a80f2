package acl

import (
	"context"
	"net/netip"
	"time"
)

// element turns a single-address ban into a hash-set element.
func banElement(t Target, e Entry, now time.Time) Element {
	el := Element{Kind: KindBan, Addr: t.Prefix.Addr(), Timeout: left(e, now)}
	if t.Port != 0 {
		el.Kind, el.Port = KindBanPort, t.Port
	}
	return el
}

func greyElement(a netip.Addr, e Entry, now time.Time) Element {
	return Element{Kind: KindGrey, Addr: a, Timeout: left(e, now)}
}

// left is the timeout an entry still has; zero means for good. An entry
// about to expire keeps at least a second so the kernel never gets zero.
func left(e Entry, now time.Time) time.Duration {
	if e.Until.IsZero() {
		return 0
	}
	return max(e.Until.Sub(now), time.Second)
}

// nets returns the interval sets' content. Callers hold mu.
func (st *state) nets(now time.Time) *Nets {
	n := &Nets{}
	for p := range st.trusts {
		n.Trust = append(n.Trust, p)
	}
	for t, e := range st.rangeBans {
		if e.live(now) {
			n.BanNets = append(n.BanNets, t.Prefix)
		}
	}
	return n
}

// ruleset builds the whole table from memory, expired entries left out.
func (s *Service) ruleset() Ruleset {
	now := s.cfg.Now()
	s.mu.RLock()
	defer s.mu.RUnlock()
	n := s.st.nets(now)
	rs := Ruleset{GuardPorts: s.cfg.GuardPorts, Rate: s.cfg.Rate, Burst: s.cfg.Burst,
		GreyTimeout: s.cfg.GreyBase, GreySize: s.cfg.GreySize, Trust: n.Trust, BanNets: n.BanNets, NeverGrey: s.cfg.NeverGrey,
		Elements: make([]Element, 0, len(s.st.bans)+len(s.st.greys))}
	for t, e := range s.st.bans {
		if t.Single() && e.live(now) {
			rs.Elements = append(rs.Elements, banElement(t, *e, now))
		}
	}
	for a, e := range s.st.greys {
		if e.live(now) {
			rs.Elements = append(rs.Elements, greyElement(a, e, now))
		}
	}
	return rs
}

// Install writes the whole table from the store's state. It is what start
// and repair do.
func (s *Service) Install(ctx context.Context) error {
	if s.fw == nil {
		return nil
	}
	s.wmu.Lock()
	defer s.wmu.Unlock()
	err := s.fw.Install(ctx, s.ruleset())
	s.setEnforcement(err)
	return err
}

// enforce sends a change to the kernel. A failure leaves the store right
// and the kernel behind; the reconcile loop reinstalls. Callers hold wmu.
func (s *Service) enforce(ctx context.Context, d Delta) {
	if s.fw == nil || (len(d.Add) == 0 && len(d.Fresh) == 0 && len(d.Remove) == 0 && d.Nets == nil) {
		return
	}
	err := s.fw.Apply(ctx, d)
	s.setEnforcement(err)
}
