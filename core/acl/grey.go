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

// peerGreySize bounds the list of greylisted peers, oldest dropped first.
const peerGreySize = 1023

// duration is the greylisting a source earns at its nth offence: the base,
// doubled for each earlier offence, capped.
func (s *Service) duration(n int) time.Duration {
	d := s.cfg.GreyBase
	for i := 1; i < n && d < s.cfg.GreyMax; i++ {
		d *= 2
	}
	return min(d, s.cfg.GreyMax)
}

// Greylist greylists addr for a time that grows with its past offences.
// Trusted, loopback and NeverGrey sources are never greylisted. When the kernel
// greylist is full nobody new is greylisted: that is reported, not hidden.
// It returns how long addr is greylisted (zero when it was not).
func (s *Service) Greylist(ctx context.Context, addr netip.Addr, reason string) (time.Duration, error) {
	a := addr.Unmap()
	if a.IsLoopback() || s.neverGrey(a) || s.Trusted(a) {
		return 0, nil
	}
	s.wmu.Lock()
	defer s.wmu.Unlock()
	now := s.cfg.Now()
	s.mu.RLock()
	off := s.st.offences[a]
	count := len(s.st.greys)
	_, already := s.st.greys[a]
	s.mu.RUnlock()
	if !already && uint32(count) >= s.cfg.GreySize {
		s.overflow(now)
		return 0, nil
	}
	off.N++
	off.Last = now
	d := s.duration(off.N)
	e := Entry{Since: now.UTC(), Until: now.Add(d).UTC(), Reason: reason, By: "edgeward"}
	if err := s.storeGrey(ctx, a, e, off); err != nil {
		return 0, err
	}
	s.mu.Lock()
	s.st.setGrey(a, e)
	s.st.offences[a] = off
	s.greyPeersLocked(a)
	s.mu.Unlock()
	s.enforce(ctx, Delta{Add: []Element{greyElement(a, e, now)}})
	s.publish(events.Greylisted, a.String(), fmt.Sprintf("%s greylisted until %s: %s", a, e.Until.Format(time.RFC3339), reason),
		map[string]string{"until": e.Until.Format(time.RFC3339), "reason": reason, "offences": fmt.Sprint(off.N)})
	s.warnFill(count + 1)
	return d, nil
}

// neverGrey reports whether a lies in Config.NeverGrey.
func (s *Service) neverGrey(a netip.Addr) bool {
	for _, p := range s.cfg.NeverGrey {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

func (s *Service) storeGrey(ctx context.Context, a netip.Addr, e Entry, off offence) error {
	eb, err := json.Marshal(e)
	if err != nil {
		return err
	}
	ob, err := json.Marshal(off)
	if err != nil {
		return err
	}
	err = s.kv.Update(ctx, func(tx core.Tx) error {
		if err := tx.Put([]byte(greyPrefix+a.String()), eb, e.Until.Sub(e.Since)); err != nil {
			return err
		}
		return tx.Put([]byte(offencePrefix+a.String()), ob, offenceMemory)
	})
	if err != nil {
		return fmt.Errorf("store greylist entry: %w", err)
	}
	return nil
}

// greyPeersLocked greylists the peers connected from a. Callers hold mu.
func (s *Service) greyPeersLocked(a netip.Addr) {
	if s.cfg.PeersFrom == nil {
		return
	}
	for _, id := range s.cfg.PeersFrom(a) {
		s.st.peerGrey = append(slices.DeleteFunc(s.st.peerGrey, func(x string) bool { return x == id }), id)
	}
	if over := len(s.st.peerGrey) - peerGreySize; over > 0 {
		s.st.peerGrey = s.st.peerGrey[over:]
	}
}

// overflow records that the kernel greylist is full.
func (s *Service) overflow(now time.Time) {
	s.mu.Lock()
	first := s.st.notReliableSince.IsZero()
	if first {
		s.st.notReliableSince = now.UTC()
	}
	s.mu.Unlock()
	if first {
		s.cfg.Log.Warn("greylist full: new offenders are not greylisted", "size", s.cfg.GreySize)
		s.publish(events.GreylistFull, "", fmt.Sprintf("greylist holds %d entries, its limit: new offenders are not greylisted", s.cfg.GreySize), nil)
	}
}

// warnFill warns once when the greylist passes 80% of its size.
func (s *Service) warnFill(n int) {
	s.mu.Lock()
	warn := !s.st.warned80 && uint64(n)*10 >= uint64(s.cfg.GreySize)*8
	if warn {
		s.st.warned80 = true
	}
	s.mu.Unlock()
	if warn {
		s.cfg.Log.Warn("greylist past 80% full", "entries", n, "size", s.cfg.GreySize)
		s.publish(events.GreylistFilling, "", fmt.Sprintf("greylist holds %d of %d entries", n, s.cfg.GreySize), nil)
	}
}

// GreylistIPs returns the greylisted addresses, and when the greylist
// overflowed (zero when it never did, or since it was last cleared).
func (s *Service) GreylistIPs() ([]netip.Addr, time.Time) {
	now := s.cfg.Now()
	s.mu.RLock()
	defer s.mu.RUnlock()
	out := make([]netip.Addr, 0, len(s.st.greys))
	for a, e := range s.st.greys {
		if e.live(now) {
			out = append(out, a)
		}
	}
	slices.SortFunc(out, netip.Addr.Compare)
	return out, s.st.notReliableSince
}

// Greylisted returns the greylist entry of addr, if it has a live one.
func (s *Service) Greylisted(addr netip.Addr) (Entry, bool) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	e, ok := s.st.greys[addr.Unmap()]
	return e, ok && e.live(s.cfg.Now())
}

// GreylistedPeers returns the peer ids greylisted with their address, the
// most recent last.
func (s *Service) GreylistedPeers() []string {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return append([]string{}, s.st.peerGrey...)
}

// ClearGreylist empties every greylist (kernel-fed ones included) and
// resets not_reliable_since. Deliberate bans and trusts stay.
func (s *Service) ClearGreylist(ctx context.Context) error {
	s.wmu.Lock()
	err := s.kv.Update(ctx, func(tx core.Tx) error {
		var keys [][]byte
		if err := tx.Scan([]byte(greyPrefix), false, func(k, _ []byte) error {
			keys = append(keys, append([]byte(nil), k...))
			return nil
		}); err != nil {
			return err
		}
		for _, k := range keys {
			if err := tx.Delete(k); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		s.wmu.Unlock()
		return fmt.Errorf("clear greylist: %w", err)
	}
	s.mu.Lock()
	n := len(s.st.greys)
	s.st.greys, s.st.greysLive = map[netip.Addr]Entry{}, horizon{}
	s.st.peerGrey = nil
	s.st.notReliableSince = time.Time{}
	s.st.warned80 = false
	s.mu.Unlock()
	s.wmu.Unlock()
	// The kernel may hold entries it added since the last poll: a rebuild
	// of the table is the one exact way to empty its greylist.
	if err := s.Install(ctx); err != nil {
		s.cfg.Log.Warn("rebuild table after clearing the greylist", "err", err)
	}
	s.publish(events.GreylistCleared, "", fmt.Sprintf("greylist cleared (%d entries); bans and trusts kept", n), nil)
	return nil
}
