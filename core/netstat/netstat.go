// Package netstat keeps the router's traffic totals and current rates,
// sampled from the kernel's interface counters.
package netstat

import (
	"context"
	"sync"
	"time"

	"github.com/edgeward/edgeward/core"
)

// Counters reads the summed byte counters of the router's interfaces.
type Counters func(ctx context.Context) (rx, tx uint64, err error)

// Stat is the P2P dialect's p2p_stat.
type Stat struct {
	TotalSent, TotalRecv uint64
	// Inflow and Outflow are bytes per second over the last sample.
	Inflow, Outflow int
}

// Sampler samples counters. Safe for concurrent use.
type Sampler struct {
	read Counters
	now  func() time.Time

	mu     sync.Mutex
	last   Stat
	lastAt time.Time
}

// New returns a sampler; now nil means time.Now.
func New(read Counters, now func() time.Time) *Sampler {
	if now == nil {
		now = time.Now
	}
	return &Sampler{read: read, now: now}
}

// Sample reads the counters and updates the rates from the previous sample.
func (s *Sampler) Sample(ctx context.Context) error {
	rx, tx, err := s.read(ctx)
	if err != nil {
		return err
	}
	now := s.now()
	s.mu.Lock()
	defer s.mu.Unlock()
	if dt := now.Sub(s.lastAt).Seconds(); !s.lastAt.IsZero() && dt > 0 {
		s.last.Inflow = rate(s.last.TotalRecv, rx, dt)
		s.last.Outflow = rate(s.last.TotalSent, tx, dt)
	}
	s.last.TotalRecv, s.last.TotalSent, s.lastAt = rx, tx, now
	return nil
}

// rate is the per-second change, zero when a counter went back (a link
// disappeared), capped to the dialect's 31-bit field.
func rate(prev, cur uint64, dt float64) int {
	if cur < prev {
		return 0
	}
	return int(min(float64(cur-prev)/dt, 1<<30-1))
}

// Stat returns the latest sample.
func (s *Sampler) Stat() Stat {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.last
}

// Run samples every interval until ctx is done.
func (s *Sampler) Run(ctx context.Context, every time.Duration) {
	_ = s.Sample(ctx)
	core.Every(ctx, every, func() bool {
		_ = s.Sample(ctx)
		return true
	})
}
