package dataplane

import (
	"net/netip"
	"slices"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// TestPeerTraffic: polls every 2 s fill 10 s steps with what each peer's
// counters moved (both directions); a step closes when the clock leaves
// it; a peer without traffic has no ring, a peer silent for a whole
// window loses it, and a peer taken off the device loses it at once.
func TestPeerTraffic(t *testing.T) {
	f := newFixture(t)
	f.now = f.now.Truncate(SparkStep)
	a, b, idle := f.peer(t, "a"), f.peer(t, "b"), f.peer(t, "idle")
	f.sync(t)
	var rx, tx int64 = 5000, 100 // counters before the plane first looks: not traffic
	see := func() {
		handshake(t, f.dev, idle.PublicKey, f.now, "192.0.2.9:1", 0)
		if !f.dev.See(a.PublicKey, netip.MustParseAddrPort("192.0.2.7:40000"), f.now, rx, tx) ||
			!f.dev.See(b.PublicKey, netip.MustParseAddrPort("192.0.2.8:40000"), f.now, 0, 0) {
			t.Fatal("peers not on the device")
		}
		f.poll(t)
	}
	see()
	keys := []string{a.PublicKey, b.PublicKey, idle.PublicKey}
	if got := f.plane.PeerTraffic(keys); len(got) != 0 {
		t.Fatalf("first sight counted as traffic: %v", got)
	}
	// Three steps: 2,000 B/s, then 0, then 500 B/s (received and sent),
	// each polled five times.
	for _, perSec := range []int64{2000, 0, 500} {
		for range 5 {
			f.now = f.now.Add(2 * time.Second)
			rx += perSec * 2 * 3 / 4
			tx += perSec * 2 / 4
			see()
		}
	}
	// The third step is still open at its last poll: the next poll
	// closes it.
	f.now = f.now.Add(2 * time.Second)
	see()
	got := f.plane.PeerTraffic(keys)
	want := make([]int, SparkSamples)
	copy(want[SparkSamples-3:], []int{2000, 0, 500})
	if diff := cmp.Diff(map[string][]int{a.PublicKey: want}, got); diff != "" {
		t.Errorf("traffic (-want +got):\n%s", diff)
	}

	// Five minutes of silence: a's ring goes.
	for range SparkSamples - 1 {
		f.now = f.now.Add(SparkStep)
		see()
	}
	if got := f.plane.PeerTraffic(keys)[a.PublicKey]; !slices.Equal(got[:1], []int{500}) || got[1] != 0 {
		t.Errorf("after 29 silent steps: %v, want 500 then zeros", got)
	}
	f.now = f.now.Add(SparkStep)
	see()
	if got := f.plane.PeerTraffic(keys); len(got) != 0 {
		t.Errorf("after a silent window: %v, want no rings", got)
	}

	// Traffic again, then a is removed from the device by hand: its ring
	// goes with it (the repair puts it back, counting from there).
	rx += 10_000
	f.now = f.now.Add(SparkStep)
	see()
	f.now = f.now.Add(SparkStep)
	see()
	if len(f.plane.PeerTraffic(keys)) != 1 {
		t.Fatal("traffic after silence not recorded")
	}
	f.dev.Remove(a.PublicKey)
	f.poll(t)
	if got := f.plane.PeerTraffic(keys); len(got) != 0 {
		t.Errorf("a peer off the device keeps %v", got)
	}
}

// TestSparkGap: a poll after a long stall closes the missed steps as
// empty, and no more than a window of them.
func TestSparkGap(t *testing.T) {
	var s sparks
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	s.add(t0, map[string]uint64{"k": 10_000})
	s.add(t0.Add(3*SparkStep), map[string]uint64{"k": 20_000})
	s.add(t0.Add(4*SparkStep), nil)
	got := s.rates([]string{"k"})["k"]
	if tail := got[SparkSamples-4:]; !slices.Equal(tail, []int{1000, 0, 0, 2000}) {
		t.Errorf("after a gap of three steps: %v", tail)
	}
	s.add(t0.Add(100*SparkStep), nil)
	if got := s.rates([]string{"k"}); len(got) != 0 {
		t.Errorf("after a gap longer than the window: %v", got)
	}
}
