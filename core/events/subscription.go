package events

import (
	"slices"
	"sync/atomic"
)

// Subscription receives the events published after Subscribe returned, in
// Seq order, on a buffered channel.
//
// A subscriber that falls behind is cut off rather than allowed to slow the
// gateway: when its buffer is full at Publish time the subscription is marked
// dropped and its channel is closed. A consumer that sees the channel close
// without having called Close should check Dropped and, if it needs
// continuity, resubscribe and catch up with Journal.Since.
//
// Its methods are safe for concurrent use, including with Publish.
type Subscription struct {
	j       *Journal
	ch      chan Event
	closed  bool // guarded by j.mu; ch has been closed
	dropped atomic.Bool
}

// Subscribe registers a subscriber whose channel buffers up to buffer
// events; a buffer below 1 is raised to 1. The caller must drain C and call
// Close when done, or the subscription lives until it is cut off.
func (j *Journal) Subscribe(buffer int) *Subscription {
	s := &Subscription{j: j, ch: make(chan Event, max(buffer, 1))}
	j.mu.Lock()
	j.subs = append(j.subs, s)
	j.mu.Unlock()
	return s
}

// C returns the channel events arrive on. It is closed by Close or when the
// subscriber is cut off for falling behind.
func (s *Subscription) C() <-chan Event { return s.ch }

// Close unsubscribes and closes the channel. Events still buffered can be
// read after Close. Close is idempotent and may be called concurrently with
// Publish and with itself.
func (s *Subscription) Close() {
	j := s.j
	j.mu.Lock()
	defer j.mu.Unlock()
	if s.closed {
		return
	}
	s.closed = true
	close(s.ch)
	for i, o := range j.subs {
		if o == s {
			// slices.Delete zeroes the vacated slot, so the
			// journal does not keep the subscription alive.
			j.subs = slices.Delete(j.subs, i, i+1)
			break
		}
	}
}

// Dropped reports whether the subscription was cut off because its buffer
// was full when an event was published. It stays false after a plain Close.
func (s *Subscription) Dropped() bool { return s.dropped.Load() }

// Subscribers returns how many subscriptions are live (neither closed nor
// cut off), so a caller can check that streams end their subscriptions.
func (j *Journal) Subscribers() int {
	j.mu.Lock()
	defer j.mu.Unlock()
	return len(j.subs)
}
