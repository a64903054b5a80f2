package overlay

import (
	"context"
	"net/netip"
	"time"

	"github.com/edgeward/edgeward/core"
)

// SetConnected records one peer as connected (a recent handshake, from
// endpoint) or gone, as one Observe does; its counters are kept. A
// temporary peer that disconnects after having connected is deleted with
// its policy. Errors: ErrNotFound for an unknown key.
func (s *Service) SetConnected(ctx context.Context, publicKey string, connected bool, endpoint netip.AddrPort) error {
	o := Observation{PublicKey: publicKey, Connected: connected, Endpoint: endpoint, LastSeen: s.cfg.Now()}
	s.mu.RLock()
	id, ok := s.st.byKey[publicKey]
	if stat := s.st.status[id]; ok && stat != nil {
		o.LastHandshake, o.RxBytes, o.TxBytes = stat.LastHandshake, stat.RxBytes, stat.TxBytes
	}
	s.mu.RUnlock()
	if !ok {
		return core.NotFound("no peer has key %s", publicKey)
	}
	return s.Observe(ctx, []Observation{o})
}

// tempDeadline is when a temporary peer that never connected is removed.
// The clock starts at creation, or at this process's start for peers
// created before it, so a restart gives them a fresh window.
func (s *Service) tempDeadline(p *Peer) time.Time {
	start := p.CreatedAt
	if s.started.After(start) {
		start = s.started
	}
	return start.Add(s.cfg.TempAccessTimeout)
}

// Sweep deletes temporary peers that never connected before their deadline.
// It returns how many it deleted.
func (s *Service) Sweep(ctx context.Context) (int, error) {
	now := s.cfg.Now()
	var due []string
	s.mu.RLock()
	for id, p := range s.st.peers {
		stat := s.st.status[id]
		if p.Ephemeral && (stat == nil || !stat.everConnected) && !now.Before(s.tempDeadline(p)) {
			due = append(due, id)
		}
	}
	s.mu.RUnlock()
	n := 0
	for _, id := range due {
		if err := s.expire(ctx, id, "expired: never connected"); err != nil && !core.IsNotFound(err) {
			return n, err
		}
		n++
	}
	return n, nil
}

func (s *Service) expire(ctx context.Context, id, why string) error {
	s.wmu.Lock()
	err := s.deleteLocked(ctx, id, why)
	s.wmu.Unlock()
	if err != nil {
		return err
	}
	s.runHooks(ctx, id)
	return nil
}

// Run sweeps expired temporary peers every interval until ctx is done.
func (s *Service) Run(ctx context.Context, every time.Duration) {
	core.Every(ctx, every, func() bool {
		if n, err := s.Sweep(ctx); err != nil {
			s.cfg.Log.Error("sweep temporary peers", "err", err)
		} else if n > 0 {
			s.cfg.Log.Info("temporary peers expired", "count", n)
		}
		return true
	})
}
