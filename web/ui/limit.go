package ui

import (
	"strconv"
	"sync"
	"time"

	"github.com/gofiber/fiber/v2"
)

// refusals counts refused credentials per source address over a sliding
// window. Only refusals count: a source turned away while over the limit
// adds nothing, so it gets in again once its old refusals age out, however
// busy it keeps; an admin who logs in and out is no guesser either.
// Safe for concurrent use.
type refusals struct {
	max    int
	window time.Duration
	now    func() time.Time

	mu sync.Mutex
	// seen holds each source's refusals inside the window, oldest first.
	seen map[string][]time.Time
}

// maxSources bounds the table: past it, sources whose refusals have all
// aged out are dropped, then arbitrary ones.
const maxSources = 10_000

func newRefusals(max int, window time.Duration) *refusals {
	return &refusals{max: max, window: window, now: time.Now, seen: map[string][]time.Time{}}
}

// wait is how long src must wait before its next attempt; 0 lets it try.
func (r *refusals) wait(src string) time.Duration {
	r.mu.Lock()
	defer r.mu.Unlock()
	now := r.now()
	ts := r.live(src, now)
	if len(ts) < r.max {
		return 0
	}
	return ts[len(ts)-r.max].Add(r.window).Sub(now)
}

// refuse counts one refused credential from src.
func (r *refusals) refuse(src string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	now := r.now()
	ts := r.live(src, now)
	if len(ts) == 0 && len(r.seen) >= maxSources {
		r.prune(now)
	}
	if len(ts) >= r.max {
		ts = ts[1:]
	}
	r.seen[src] = append(ts, now)
}

// live is src's refusals inside the window; r.mu is held.
func (r *refusals) live(src string, now time.Time) []time.Time {
	ts := r.seen[src]
	i := 0
	for i < len(ts) && now.Sub(ts[i]) >= r.window {
		i++
	}
	if i == len(ts) {
		delete(r.seen, src)
		return nil
	}
	return ts[i:]
}

// prune makes room for one more source; r.mu is held.
func (r *refusals) prune(now time.Time) {
	for src := range r.seen {
		r.live(src, now)
	}
	for src := range r.seen {
		if len(r.seen) < maxSources {
			return
		}
		delete(r.seen, src)
	}
}

// limit turns away a source with too many recent refusals before its
// credentials are looked at.
func (u *ui) limit(c *fiber.Ctx) error {
	if d := u.refused.wait(c.IP()); d > 0 {
		c.Set(fiber.HeaderRetryAfter, strconv.Itoa(int((d+time.Second-1)/time.Second)))
		return u.errorPage(c, fiber.StatusTooManyRequests, "Too many attempts. Wait a minute and try again.")
	}
	return c.Next()
}
