package acl

import (
	"context"
	"fmt"
	"github.com/edgeward/edgeward/core/events"
	"time"
)

// Run installs the table from the store, then until ctx is done reads back
// the kernel's greylist, repairs drift, drops expired entries and
// greylists the sources AuthFailed queued. Without a firewall it does the
// rest, so that expired entries do not stay in memory (and in every
// count) until a restart. It returns once ctx is done and its work ended.
func (s *Service) Run(ctx context.Context) {
	// Cuts that follow their answers end before Run does, so they never
	// use the kernel handles after serve closes them.
	defer s.cuts.Wait()
	// The caller may have installed already, before serving.
	if !s.Enforcement().Applied {
		if err := s.Install(ctx); err != nil {
			s.cfg.Log.Error("install firewall table", "err", err)
		}
	}
	poll := time.NewTicker(s.cfg.PollEvery)
	check := time.NewTicker(s.cfg.CheckEvery)
	defer poll.Stop()
	defer check.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-poll.C:
			if err := s.PollKernel(ctx); err != nil && ctx.Err() == nil {
				s.cfg.Log.Warn("read kernel greylist", "err", err)
			}
		case a := <-s.auth.queue:
			s.greylistFailed(ctx, a)
		case <-check.C:
			s.auth.sweep(s.cfg.Now(), s.cfg.AuthWindow)
			s.sweep(ctx)
			if _, err := s.Reconcile(ctx); err != nil && ctx.Err() == nil {
				s.cfg.Log.Warn("reconcile firewall", "err", err)
			}
		}
	}
}

// Reconcile repairs the kernel table when it drifted from the store (or
// was never installed). It reports whether it repaired anything.
func (s *Service) Reconcile(ctx context.Context) (bool, error) {
	if s.fw == nil {
		return false, nil
	}
	why := ""
	if !s.Enforcement().Applied {
		why = "table not installed"
	} else {
		h, err := s.fw.Check(ctx)
		if err != nil {
			s.setEnforcement(err)
			return false, err
		}
		if !h.Drifted {
			return false, nil
		}
		why = h.Why
	}
	// Greylist entries the kernel added since the last poll would be lost
	// by a rebuild: take them in first.
	if err := s.PollKernel(ctx); err != nil {
		s.cfg.Log.Warn("read kernel greylist before repair", "err", err)
	}
	if err := s.Install(ctx); err != nil {
		return false, fmt.Errorf("repair firewall table: %w", err)
	}
	s.cfg.Log.Warn("firewall table repaired", "why", why)
	s.publish(events.ReconcileRepaired, "", "firewall table rebuilt from the store: "+why, map[string]string{"why": why})
	return true, nil
}

// PollKernel turns greylistings the kernel made by itself into entries
// and events, and notices a full greylist.
func (s *Service) PollKernel(ctx context.Context) error {
	if s.fw == nil {
		return nil
	}
	greys, err := s.fw.KernelGreylist(ctx)
	if err != nil {
		return err
	}
	now := s.cfg.Now()
	var fresh []Grey
	s.mu.RLock()
	for _, g := range greys {
		if e, ok := s.st.greys[g.Addr]; !ok || !e.live(now) {
			fresh = append(fresh, g)
		}
	}
	s.mu.RUnlock()
	for i, g := range fresh {
		if err := s.kernelGreylisted(ctx, g, now, i < maxGreyEvents); err != nil {
			return err
		}
	}
	if over := len(fresh) - maxGreyEvents; over > 0 {
		// A flood of sources gives one summary, not an event each: the
		// journal and its subscribers must not drown with the box.
		s.cfg.Log.Warn("kernel greylisted many sources", "count", len(fresh))
		s.publish(events.Greylisted, "", fmt.Sprintf("%d more sources greylisted by the kernel (%d in all since the last read)", over, len(fresh)),
			map[string]string{"count": fmt.Sprint(len(fresh)), "unreported": fmt.Sprint(over)})
	}
	if uint32(len(greys)) >= s.cfg.GreySize {
		s.overflow(now)
	}
	if len(fresh) > 0 {
		s.warnFill(len(greys))
	}
	return nil
}

// maxGreyEvents bounds the events one read of the kernel greylist
// publishes one by one; the rest are summed up in one.
const maxGreyEvents = 16

// kernelGreylisted records a source the kernel greylisted for flooding a
// guarded port; a repeat offender's entry is lengthened in the kernel too.
// announce says whether it gets an event of its own.
func (s *Service) kernelGreylisted(ctx context.Context, g Grey, now time.Time, announce bool) error {
	s.wmu.Lock()
	defer s.wmu.Unlock()
	s.mu.RLock()
	off := s.st.offences[g.Addr]
	s.mu.RUnlock()
	off.N++
	off.Last = now
	d := max(s.duration(off.N), g.Expires)
	reason := "new connections to a guarded port above the rate limit"
	e := Entry{Since: now.UTC(), Until: now.Add(d).UTC(), Reason: reason, By: "kernel"}
	if err := s.storeGrey(ctx, g.Addr, e, off); err != nil {
		return err
	}
	s.mu.Lock()
	s.st.setGrey(g.Addr, e)
	s.st.offences[g.Addr] = off
	s.greyPeersLocked(g.Addr)
	s.mu.Unlock()
	if d > g.Expires+time.Second {
		s.enforce(ctx, Delta{Add: []Element{greyElement(g.Addr, e, now)}})
	}
	if !announce {
		return nil
	}
	s.publish(events.Greylisted, g.Addr.String(), fmt.Sprintf("%s greylisted by the kernel until %s: %s", g.Addr, e.Until.Format(time.RFC3339), reason),
		map[string]string{"until": e.Until.Format(time.RFC3339), "reason": reason, "offences": fmt.Sprint(off.N)})
	return nil
}

// sweep drops expired entries from memory (the store's TTLs drop them
// there); an expired range ban also leaves the kernel's interval set,
// which has no timeouts of its own. A map none of whose entries can have
// expired yet is not walked: most sweeps walk nothing.
func (s *Service) sweep(ctx context.Context) {
	now := s.cfg.Now()
	s.wmu.Lock()
	defer s.wmu.Unlock()
	s.mu.Lock()
	nets := false
	if !s.st.bansLive.allLive(now) {
		s.st.bansLive = horizon{}
		for t, e := range s.st.bans {
			if e.live(now) {
				s.st.bansLive.add(e.Until)
				continue
			}
			s.st.delBan(t)
			nets = nets || !t.Single()
		}
	}
	if !s.st.greysLive.allLive(now) {
		s.st.greysLive = horizon{}
		for a, e := range s.st.greys {
			if e.live(now) {
				s.st.greysLive.add(e.Until)
				continue
			}
			delete(s.st.greys, a)
		}
	}
	var d Delta
	if nets {
		d.Nets = s.st.nets(now)
	}
	s.mu.Unlock()
	s.enforce(ctx, d)
}
