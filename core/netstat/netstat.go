// Package netstat keeps the router's traffic: totals, the current rates of
// every link and of the whole box, and an hour of history for the
// dashboard's graph, sampled from the kernel's interface counters.
package netstat

import (
	"context"
	"slices"
	"sync"
	"time"

	"github.com/edgeward/edgeward/core"
)

// Link is one link as the counters reader sees it.
type Link struct {
	Name string
	// Up is the link's operational state: up and with a carrier.
	Up bool
	// SpeedMbps is 0 where the driver does not say (virtual links).
	SpeedMbps int
	// Loopback links are listed but left out of the totals.
	Loopback         bool
	RxBytes, TxBytes uint64
}

// Read reads every link's counters.
type Read func(ctx context.Context) ([]Link, error)

// Stat is the P2P dialect's p2p_stat: every link but loopback.
type Stat struct {
	TotalSent, TotalRecv uint64
	// Inflow and Outflow are bytes per second over the last sample.
	Inflow, Outflow int
}

// LinkRate is a link with its rates over the last sample, in bytes per
// second.
type LinkRate struct {
	Link
	RxRate, TxRate int
}

// Point is the box's mean rates, in bytes per second, over the Step that
// ends at At.
type Point struct {
	At     time.Time
	Rx, Tx int
}

// Step is the history's resolution and Span how far back it reaches.
const (
	Step = 10 * time.Second
	Span = time.Hour
)

// Sampler samples counters. Safe for concurrent use.
type Sampler struct {
	read Read
	now  func() time.Time

	mu     sync.Mutex
	last   Stat
	lastAt time.Time
	links  []LinkRate
	// The bucket being filled: bytes received and sent since bucketAt.
	bucketAt           time.Time
	bucketRx, bucketTx float64
	// history is a ring of Span/Step points; next is where the next goes.
	history []Point
	next    int
	full    bool
}

// New returns a sampler; now nil means time.Now.
func New(read Read, now func() time.Time) *Sampler {
	if now == nil {
		now = time.Now
	}
	return &Sampler{read: read, now: now, history: make([]Point, Span/Step)}
}

// Sample reads the counters and updates the rates from the previous sample.
func (s *Sampler) Sample(ctx context.Context) error {
	ls, err := s.read(ctx)
	if err != nil {
		return err
	}
	now := s.now()
	s.mu.Lock()
	defer s.mu.Unlock()
	dt := now.Sub(s.lastAt).Seconds()
	first := s.lastAt.IsZero() || dt <= 0
	prev := make(map[string]LinkRate, len(s.links))
	for _, l := range s.links {
		prev[l.Name] = l
	}
	var total Stat
	var drx, dtx uint64
	rates := make([]LinkRate, len(ls))
	for i, l := range ls {
		r := LinkRate{Link: l}
		// A link that is new, or whose counters went back (re-created),
		// has no rate yet.
		if p, ok := prev[l.Name]; ok && !first && l.RxBytes >= p.RxBytes && l.TxBytes >= p.TxBytes {
			r.RxRate, r.TxRate = rate(l.RxBytes-p.RxBytes, dt), rate(l.TxBytes-p.TxBytes, dt)
			if !l.Loopback {
				drx += l.RxBytes - p.RxBytes
				dtx += l.TxBytes - p.TxBytes
			}
		}
		if !l.Loopback {
			total.TotalRecv += l.RxBytes
			total.TotalSent += l.TxBytes
		}
		rates[i] = r
	}
	if !first {
		total.Inflow, total.Outflow = rate(drx, dt), rate(dtx, dt)
		s.fill(s.lastAt, now, drx, dtx)
	} else {
		s.bucketAt = now.Truncate(Step)
	}
	s.last, s.lastAt, s.links = total, now, rates
	return nil
}

// fill spreads a sample's bytes, received between from and to, over the
// buckets that interval covers, and closes every bucket it leaves. A late
// sample (the box stalled) is averaged out rather than drawn as a spike.
func (s *Sampler) fill(from, to time.Time, drx, dtx uint64) {
	if to.Sub(from) > Span {
		// Hours without a sample: the bytes say nothing about the last
		// hour's shape; start over.
		clear(s.history)
		s.next, s.full = 0, false
		s.bucketAt, s.bucketRx, s.bucketTx = to.Truncate(Step), 0, 0
		return
	}
	span := to.Sub(from).Seconds()
	for from.Before(to) {
		end := s.bucketAt.Add(Step)
		if to.Before(end) {
			end = to
		}
		frac := end.Sub(from).Seconds() / span
		s.bucketRx += float64(drx) * frac
		s.bucketTx += float64(dtx) * frac
		if end.Equal(s.bucketAt.Add(Step)) {
			secs := Step.Seconds()
			s.push(Point{At: end, Rx: int(min(s.bucketRx/secs, 1<<30-1)), Tx: int(min(s.bucketTx/secs, 1<<30-1))})
			s.bucketAt, s.bucketRx, s.bucketTx = end, 0, 0
		}
		from = end
	}
}

func (s *Sampler) push(p Point) {
	s.history[s.next] = p
	s.next = (s.next + 1) % len(s.history)
	if s.next == 0 {
		s.full = true
	}
}

// rate is bytes per second, capped to the dialect's 31-bit field.
func rate(bytes uint64, dt float64) int {
	return int(min(float64(bytes)/dt, 1<<30-1))
}

// Stat returns the latest sample.
func (s *Sampler) Stat() Stat {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.last
}

// Links returns every link of the latest sample with its rates, in the
// reader's order.
func (s *Sampler) Links() []LinkRate {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.links)
}

// History returns the last hour's points, oldest first; fewer right after
// start.
func (s *Sampler) History() []Point {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.full {
		return slices.Clone(s.history[:s.next])
	}
	return append(slices.Clone(s.history[s.next:]), s.history[:s.next]...)
}

// Run samples every interval until ctx is done.
func (s *Sampler) Run(ctx context.Context, every time.Duration) {
	_ = s.Sample(ctx)
	core.Every(ctx, every, func() bool {
		_ = s.Sample(ctx)
		return true
	})
}
