package events

import (
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

var t0 = time.Date(2025, 3, 1, 10, 0, 0, 0, time.UTC)

// fakeClock returns t0, t0+1s, t0+2s, … on successive calls.
func fakeClock() func() time.Time {
	var mu sync.Mutex
	n := 0
	return func() time.Time {
		mu.Lock()
		defer mu.Unlock()
		n++
		return t0.Add(time.Duration(n-1) * time.Second)
	}
}

// publishN publishes n events with Subject "p<i>" (i from 1) and Kind
// alternating between "peer.created" (odd i) and "peer.connected" (even i).
func publishN(j *Journal, n int) {
	for i := 1; i <= n; i++ {
		kind := PeerCreated
		if i%2 == 0 {
			kind = PeerConnected
		}
		j.Publish(Event{Kind: kind, Subject: fmt.Sprintf("p%d", i)})
	}
}

func seqs(es []Event) []uint64 {
	if es == nil {
		return nil
	}
	out := make([]uint64, len(es))
	for i, e := range es {
		out[i] = e.Seq
	}
	return out
}

func TestPublishAssignsSeqAndTime(t *testing.T) {
	j := New(4, fakeClock())
	fixed := t0.Add(-time.Hour)
	fields := map[string]string{"endpoint": "203.0.113.7:51820"}

	got := []Event{
		j.Publish(Event{Kind: "peer.created", Subject: "p1", Message: "created", Fields: fields}),
		j.Publish(Event{Kind: "job.failed", Time: fixed}),
	}
	fields["endpoint"] = "changed by caller"

	want := []Event{
		{Seq: 1, Time: t0, Kind: "peer.created", Subject: "p1", Message: "created",
			Fields: map[string]string{"endpoint": "203.0.113.7:51820"}},
		{Seq: 2, Time: fixed, Kind: "job.failed"},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Publish (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(want, j.Recent(10, nil)); diff != "" {
		t.Errorf("stored events (-want +got):\n%s", diff)
	}
}

func TestRingWraparound(t *testing.T) {
	tests := []struct {
		name     string
		capacity int
		publish  int
		want     []uint64
	}{
		{name: "empty", capacity: 3, publish: 0, want: nil},
		{name: "partial", capacity: 3, publish: 2, want: []uint64{1, 2}},
		{name: "exactly full", capacity: 3, publish: 3, want: []uint64{1, 2, 3}},
		{name: "one over", capacity: 3, publish: 4, want: []uint64{2, 3, 4}},
		{name: "many laps", capacity: 3, publish: 11, want: []uint64{9, 10, 11}},
		{name: "capacity one", capacity: 1, publish: 5, want: []uint64{5}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			j := New(tt.capacity, fakeClock())
			publishN(j, tt.publish)
			if diff := cmp.Diff(tt.want, seqs(j.Recent(100, nil))); diff != "" {
				t.Errorf("Recent seqs (-want +got):\n%s", diff)
			}
		})
	}
}

func TestRecent(t *testing.T) {
	connected := func(e Event) bool { return e.Kind == PeerConnected }
	none := func(Event) bool { return false }
	tests := []struct {
		name  string
		n     int
		match func(Event) bool
		want  []uint64
	}{
		{name: "all", n: 10, match: nil, want: []uint64{3, 4, 5, 6, 7}},
		{name: "newest two oldest first", n: 2, match: nil, want: []uint64{6, 7}},
		{name: "filtered", n: 10, match: connected, want: []uint64{4, 6}},
		{name: "filtered limited", n: 1, match: connected, want: []uint64{6}},
		{name: "no match", n: 10, match: none, want: nil},
		{name: "zero n", n: 0, match: nil, want: nil},
		{name: "negative n", n: -1, match: nil, want: nil},
	}
	j := New(5, fakeClock())
	publishN(j, 7) // keeps 3..7; even seqs are peer.connected
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if diff := cmp.Diff(tt.want, seqs(j.Recent(tt.n, tt.match))); diff != "" {
				t.Errorf("Recent seqs (-want +got):\n%s", diff)
			}
		})
	}
}

func TestSince(t *testing.T) {
	tests := []struct {
		name    string
		publish int
		since   uint64
		want    []uint64
	}{
		{name: "empty journal", publish: 0, since: 0, want: nil},
		{name: "from start", publish: 3, since: 0, want: []uint64{1, 2, 3}},
		{name: "middle", publish: 3, since: 1, want: []uint64{2, 3}},
		{name: "up to date", publish: 3, since: 3, want: nil},
		{name: "future seq", publish: 3, since: 99, want: nil},
		{name: "after wrap from start", publish: 7, since: 0, want: []uint64{4, 5, 6, 7}},
		{name: "after wrap evicted seq", publish: 7, since: 2, want: []uint64{4, 5, 6, 7}},
		{name: "after wrap just before oldest", publish: 7, since: 3, want: []uint64{4, 5, 6, 7}},
		{name: "after wrap inside", publish: 7, since: 5, want: []uint64{6, 7}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			j := New(4, fakeClock())
			publishN(j, tt.publish)
			if diff := cmp.Diff(tt.want, seqs(j.Since(tt.since))); diff != "" {
				t.Errorf("Since(%d) seqs (-want +got):\n%s", tt.since, diff)
			}
		})
	}
}

func TestNewPanicsOnBadCapacity(t *testing.T) {
	defer func() {
		if recover() == nil {
			t.Error("New(0, nil) did not panic")
		}
	}()
	New(0, nil)
}

func TestNewNilClockUsesTimeNow(t *testing.T) {
	before := time.Now()
	e := New(1, nil).Publish(Event{Kind: "peer.created"})
	if e.Time.Before(before) || e.Time.After(time.Now()) {
		t.Errorf("Time = %v, want between %v and now", e.Time, before)
	}
}
