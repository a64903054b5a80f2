package acl

import (
	"container/list"
	"context"
	"fmt"
	"github.com/edgeward/edgeward/core/events"
	"net/netip"
	"slices"
	"sync"
	"time"
)

// maxAuthSources bounds the sources whose failed authentications are
// counted. A flood from spoofed addresses evicts the sources that failed
// longest ago instead of growing the count without end.
const maxAuthSources = 4096

// authQueueSize bounds the sources over the limit that wait for Run to
// greylist them.
const authQueueSize = 256

// authGreyTimeout bounds one greylisting for failed authentications, so
// that a stuck store or kernel cannot hold Run's loop for good.
const authGreyTimeout = 10 * time.Second

// authFailures counts failed authentications per source within the
// window. Sources are kept in the order of their last failure, so that
// sweeping the stale ones and evicting the oldest cost no walk of all.
type authFailures struct {
	mu      sync.Mutex
	by      map[netip.Addr]*list.Element // Value: *authSource
	order   list.List                    // oldest last failure at the front
	pending map[netip.Addr]bool          // queued, not greylisted yet
	queue   chan netip.Addr
}

type authSource struct {
	addr  netip.Addr
	fails []time.Time // within the window, oldest first
}

func newAuthFailures() *authFailures {
	return &authFailures{by: map[netip.Addr]*list.Element{}, pending: map[netip.Addr]bool{},
		queue: make(chan netip.Addr, authQueueSize)}
}

// AuthFailed counts a refused API token from addr. The limit's worth of
// failures within the window queue the source, and Run greylists it.
// AuthFailed never waits for the store or the kernel (a bulk ban may hold
// both for seconds), so the refused request is answered at once. When the
// queue is full the failures stay counted, and the next one queues again.
// Safe for concurrent use.
func (s *Service) AuthFailed(addr netip.Addr) {
	a := addr.Unmap()
	s.auth.fail(a, s.cfg.Now(), s.cfg.AuthWindow, s.cfg.AuthLimit)
	s.publish(events.AuthenticationFailed, a.String(), "API token refused from "+a.String(), nil)
}

// fail counts one failure of a at now and queues a when it reaches limit
// within window.
func (f *authFailures) fail(a netip.Addr, now time.Time, window time.Duration, limit int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.sweepLocked(now, window)
	el := f.by[a]
	if el == nil {
		if len(f.by) >= maxAuthSources {
			f.removeLocked(f.order.Front())
		}
		el = f.order.PushBack(&authSource{addr: a})
		f.by[a] = el
	}
	src := el.Value.(*authSource)
	src.fails = append(slices.DeleteFunc(src.fails, func(t time.Time) bool { return now.Sub(t) > window }), now)
	f.order.MoveToBack(el)
	if len(src.fails) < limit {
		return
	}
	if f.pending[a] {
		f.removeLocked(el) // greylisted soon: these failures are covered
		return
	}
	select {
	case f.queue <- a:
		f.pending[a] = true
		f.removeLocked(el)
	default:
	}
}

// sweep forgets the sources whose last failure is older than window.
func (f *authFailures) sweep(now time.Time, window time.Duration) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.sweepLocked(now, window)
}

func (f *authFailures) sweepLocked(now time.Time, window time.Duration) {
	for el := f.order.Front(); el != nil; el = f.order.Front() {
		src := el.Value.(*authSource)
		if now.Sub(src.fails[len(src.fails)-1]) <= window {
			return
		}
		f.removeLocked(el)
	}
}

func (f *authFailures) removeLocked(el *list.Element) {
	delete(f.by, el.Value.(*authSource).addr)
	f.order.Remove(el)
}

// done ends a's wait in the queue.
func (f *authFailures) done(a netip.Addr) {
	f.mu.Lock()
	defer f.mu.Unlock()
	delete(f.pending, a)
}

// greylistFailed greylists a source AuthFailed queued, within its own
// time limit.
func (s *Service) greylistFailed(ctx context.Context, a netip.Addr) {
	defer s.auth.done(a)
	gctx, cancel := context.WithTimeout(ctx, authGreyTimeout)
	defer cancel()
	reason := fmt.Sprintf("%d failed API authentications within %s", s.cfg.AuthLimit, s.cfg.AuthWindow)
	if _, err := s.Greylist(gctx, a, reason); err != nil && ctx.Err() == nil {
		s.cfg.Log.Error("greylist after failed authentications", "addr", a, "err", err)
	}
}
