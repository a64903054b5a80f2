// Package events keeps a bounded, in-memory journal of what happened on the
// gateway (peers created or connected, jobs failed) and fans new events out
// to live subscribers.
//
// Events are ephemeral by design: they are never written to flash, so a
// reboot forgets them and a busy gateway cannot wear out its storage by
// logging activity. Memory is bounded by the journal's capacity and by each
// subscriber's buffer.
package events

import (
	"maps"
	"sync"
	"time"
)

// Event is one journal entry.
//
// Fields is shared by the journal and every subscriber that receives the
// event: treat it as read-only once published.
type Event struct {
	Seq     uint64            // assigned by Publish, from 1, strictly increasing
	Time    time.Time         // set by Publish when zero
	Kind    Kind              // one of the kinds in kinds.go
	Subject string            // id of what the event is about, e.g. a peer id; may be empty
	Message string            // human-readable summary
	Fields  map[string]string // extra key/value detail; may be nil
}

// Journal is a fixed-capacity ring of the most recent events plus a set of
// subscribers. It is safe for concurrent use. The zero value is not usable;
// create one with New.
type Journal struct {
	now func() time.Time

	mu    sync.Mutex
	ring  []Event // len == capacity; ring[start] is the oldest stored event
	start int
	n     int    // number of stored events, ≤ len(ring)
	seq   uint64 // Seq of the newest event, 0 before the first Publish
	subs  []*Subscription
}

// New returns an empty journal that keeps the capacity most recent events.
// now supplies event times; nil means time.Now. New panics if capacity is
// not positive, which is a programmer error.
func New(capacity int, now func() time.Time) *Journal {
	if capacity < 1 {
		panic("events: capacity must be positive")
	}
	if now == nil {
		now = time.Now
	}
	return &Journal{now: now, ring: make([]Event, capacity)}
}

// Publish stores e, dropping the oldest event when the journal is full, and
// delivers it to every subscriber. It assigns e.Seq, sets e.Time when it is
// zero, copies e.Fields so later changes by the caller do not leak into the
// journal, and returns the event as stored.
//
// Publish never blocks on a subscriber: one whose buffer is full is cut off
// (see Subscription). It is safe to call from any goroutine.
func (j *Journal) Publish(e Event) Event {
	e.Fields = maps.Clone(e.Fields)
	j.mu.Lock()
	defer j.mu.Unlock()
	j.seq++
	e.Seq = j.seq
	if e.Time.IsZero() {
		e.Time = j.now()
	}
	if j.n < len(j.ring) {
		j.ring[(j.start+j.n)%len(j.ring)] = e
		j.n++
	} else {
		j.ring[j.start] = e
		j.start = (j.start + 1) % len(j.ring)
	}
	j.fanOut(e)
	return e
}

// fanOut offers e to every subscriber without blocking and cuts off those
// whose buffer is full. j.mu must be held: holding it is what makes the
// close of a subscriber's channel safe against a concurrent send.
func (j *Journal) fanOut(e Event) {
	kept := j.subs[:0]
	for _, s := range j.subs {
		select {
		case s.ch <- e:
			kept = append(kept, s)
		default:
			s.dropped.Store(true)
			s.closed = true
			close(s.ch)
		}
	}
	clear(j.subs[len(kept):])
	j.subs = kept
}

// at returns the i-th stored event, 0 being the oldest. j.mu must be held.
func (j *Journal) at(i int) Event {
	return j.ring[(j.start+i)%len(j.ring)]
}

// Recent returns up to n of the most recent events for which match returns
// true, oldest first. A nil match selects every event. It returns nil when
// n < 1 or nothing matches.
//
// match runs while the journal is locked: it must be quick and must not call
// back into the Journal.
func (j *Journal) Recent(n int, match func(Event) bool) []Event {
	if n < 1 {
		return nil
	}
	j.mu.Lock()
	defer j.mu.Unlock()
	var out []Event
	for i := j.n - 1; i >= 0 && len(out) < n; i-- {
		if e := j.at(i); match == nil || match(e) {
			out = append(out, e)
		}
	}
	for a, b := 0, len(out)-1; a < b; a, b = a+1, b-1 {
		out[a], out[b] = out[b], out[a]
	}
	return out
}

// Since returns the stored events with Seq greater than seq, oldest first,
// or nil when there are none. Events already dropped from the ring are not
// returned: a caller that sees a gap between seq and the first returned Seq
// has missed events.
func (j *Journal) Since(seq uint64) []Event {
	j.mu.Lock()
	defer j.mu.Unlock()
	if seq >= j.seq {
		return nil
	}
	oldest := j.seq - uint64(j.n) + 1
	skip := 0
	if seq >= oldest {
		skip = int(seq - oldest + 1)
	}
	out := make([]Event, 0, j.n-skip)
	for i := skip; i < j.n; i++ {
		out = append(out, j.at(i))
	}
	return out
}
