package ui

import (
	"net/netip"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/edgeward/edgeward/core/dataplane"
	"github.com/edgeward/edgeward/core/events"
	"github.com/edgeward/edgeward/core/overlay"
	"github.com/edgeward/edgeward/core/store"
	"github.com/edgeward/edgeward/core/tunnel/tunneltest"
	"github.com/edgeward/edgeward/views/components/sparkline"
)

// TestPeerSparks reads a real data plane over an in-memory device: a peer
// moving 1,000 B/s has its line, an idle one a flat line, and without a
// data plane there is no column.
func TestPeerSparks(t *testing.T) {
	db, err := store.Open(t.Context(), store.Options{Dir: t.TempDir()}, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	now := time.Date(2026, 5, 6, 7, 8, 0, 0, time.UTC)
	clock := func() time.Time { return now }
	ov, err := overlay.New(t.Context(), db, events.New(64, clock), overlay.Config{Network: netip.MustParsePrefix("100.64.0.0/16"),
		DNSDomain: "ew.test", Now: clock})
	if err != nil {
		t.Fatal(err)
	}
	busy, err := ov.CreatePeer(t.Context(), overlay.NewPeer{Name: "busy"})
	if err != nil {
		t.Fatal(err)
	}
	idle, err := ov.CreatePeer(t.Context(), overlay.NewPeer{Name: "idle"})
	if err != nil {
		t.Fatal(err)
	}
	dev := tunneltest.NewDevice()
	plane := dataplane.New(ov, dev, &tunneltest.Filter{}, dataplane.Config{Interface: "wg0", Now: clock})
	if err := plane.Sync(t.Context()); err != nil {
		t.Fatal(err)
	}
	var rx int64
	for range 3 {
		dev.See(busy.PublicKey, netip.MustParseAddrPort("192.0.2.7:40000"), now, rx, rx/2)
		if err := plane.Poll(t.Context()); err != nil {
			t.Fatal(err)
		}
		now = now.Add(dataplane.SparkStep)
		rx += 6_670 // 6,670 B in, 3,335 out: 1,000 B/s over 10 s, rounded down
	}
	keys := []string{busy.PublicKey, idle.PublicKey}
	got := (&ui{d: Deps{Plane: plane}}).peerSparks(keys)
	want := make([]int, dataplane.SparkSamples)
	want[len(want)-1] = 1000 // the third poll closed the second step; the third is still open
	props := sparkline.Props{Step: dataplane.SparkStep, Slots: dataplane.SparkSamples, TestID: "peer-spark"}
	wantBusy := props
	wantBusy.Samples = want
	if diff := cmp.Diff(map[string]sparkline.Props{busy.PublicKey: wantBusy, idle.PublicKey: props}, got); diff != "" {
		t.Errorf("sparks (-want +got):\n%s", diff)
	}
	if (&ui{}).peerSparks(keys) != nil {
		t.Error("sparks without a data plane")
	}
}
