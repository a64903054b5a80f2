package netstat

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// fakeLinks is a counters reader the test moves by hand: netstat is pure
// arithmetic over what the kernel adapter reads (hw/nic is tested against
// the kernel).
type fakeLinks struct {
	links []Link
	fail  error
}

func (f *fakeLinks) read(context.Context) ([]Link, error) {
	return append([]Link(nil), f.links...), f.fail
}

func TestSampler(t *testing.T) {
	now := time.Unix(1000, 0)
	f := &fakeLinks{}
	s := New(f.read, func() time.Time { return now })
	lo := Link{Name: "lo", Loopback: true, Up: true}
	steps := []struct {
		name      string
		dt        time.Duration
		links     []Link
		fail      error
		want      Stat
		wantRates map[string][2]int
	}{
		{"first sample has no rate", 0,
			[]Link{{Name: "eth0", Up: true, SpeedMbps: 1000, RxBytes: 1000, TxBytes: 500}, lo},
			nil, Stat{TotalRecv: 1000, TotalSent: 500}, map[string][2]int{"eth0": {0, 0}, "lo": {0, 0}}},
		{"two seconds later; loopback is not counted", 2 * time.Second,
			[]Link{{Name: "eth0", RxBytes: 5000, TxBytes: 2500}, {Name: "lo", Loopback: true, RxBytes: 1 << 20, TxBytes: 1 << 20}},
			nil, Stat{TotalRecv: 5000, TotalSent: 2500, Inflow: 2000, Outflow: 1000}, map[string][2]int{"eth0": {2000, 1000}, "lo": {1 << 19, 1 << 19}}},
		{"read error keeps the last", time.Second, []Link{{Name: "eth0", RxBytes: 9999}}, errors.New("gone"),
			Stat{TotalRecv: 5000, TotalSent: 2500, Inflow: 2000, Outflow: 1000}, map[string][2]int{"eth0": {2000, 1000}, "lo": {1 << 19, 1 << 19}}},
		{"a re-created link has no rate; a new one neither", time.Second,
			[]Link{{Name: "eth0", RxBytes: 100, TxBytes: 3000}, {Name: "eth1", RxBytes: 7, TxBytes: 7}},
			nil, Stat{TotalRecv: 107, TotalSent: 3007}, map[string][2]int{"eth0": {0, 0}, "eth1": {0, 0}}},
		{"both move", time.Second,
			[]Link{{Name: "eth0", RxBytes: 200, TxBytes: 3000}, {Name: "eth1", RxBytes: 17, TxBytes: 8}},
			nil, Stat{TotalRecv: 217, TotalSent: 3008, Inflow: 110, Outflow: 1}, map[string][2]int{"eth0": {100, 0}, "eth1": {10, 1}}},
	}
	for _, st := range steps {
		now = now.Add(st.dt)
		f.links, f.fail = st.links, st.fail
		err := s.Sample(context.Background())
		if (err != nil) != (st.fail != nil) {
			t.Fatalf("%s: err = %v", st.name, err)
		}
		if diff := cmp.Diff(st.want, s.Stat()); diff != "" {
			t.Errorf("%s (-want +got):\n%s", st.name, diff)
		}
		got := map[string][2]int{}
		for _, l := range s.Links() {
			got[l.Name] = [2]int{l.RxRate, l.TxRate}
		}
		if diff := cmp.Diff(st.wantRates, got); diff != "" {
			t.Errorf("%s: link rates (-want +got):\n%s", st.name, diff)
		}
	}
}

func TestHistory(t *testing.T) {
	start := time.Unix(1_000_000, 0).Truncate(Step)
	now := start
	f := &fakeLinks{links: []Link{{Name: "eth0"}}}
	s := New(f.read, func() time.Time { return now })
	sample := func(dt time.Duration, rxPerSec uint64) {
		t.Helper()
		now = now.Add(dt)
		f.links[0].RxBytes += rxPerSec * uint64(dt/time.Second)
		f.links[0].TxBytes += rxPerSec / 2 * uint64(dt/time.Second)
		if err := s.Sample(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
	sample(0, 0)
	if h := s.History(); len(h) != 0 {
		t.Fatalf("history right after start: %v", h)
	}
	// Ten one-second samples at 1000 B/s fill the first bucket; the one
	// that reaches its end closes it.
	for range 10 {
		sample(time.Second, 1000)
	}
	want := []Point{{At: start.Add(Step), Rx: 1000, Tx: 500}}
	if diff := cmp.Diff(want, s.History()); diff != "" {
		t.Errorf("after one bucket (-want +got):\n%s", diff)
	}
	// A stall of 35 s at 2000 B/s is spread over the buckets it covers:
	// no gap, no spike.
	sample(35*time.Second, 2000)
	sample(5*time.Second, 2000)
	h := s.History()
	if len(h) != 5 {
		t.Fatalf("history after the stall: %d points, want 5: %v", len(h), h)
	}
	for i, p := range h {
		if want := start.Add(time.Duration(i+1) * Step); !p.At.Equal(want) {
			t.Errorf("point %d at %v, want %v", i, p.At, want)
		}
		if want := []int{1000, 2000, 2000, 2000, 2000}[i]; p.Rx != want || p.Tx != want/2 {
			t.Errorf("point %d: rx %d tx %d, want %d and %d", i, p.Rx, p.Tx, want, want/2)
		}
	}
	// More than an hour: the ring keeps the last Span/Step points, oldest
	// first and evenly spaced.
	for range 500 {
		sample(Step, 10)
	}
	h = s.History()
	if len(h) != int(Span/Step) {
		t.Fatalf("%d points after an hour, want %d", len(h), Span/Step)
	}
	for i := 1; i < len(h); i++ {
		if h[i].At.Sub(h[i-1].At) != Step {
			t.Fatalf("points %d and %d are %v apart", i-1, i, h[i].At.Sub(h[i-1].At))
		}
	}
	if last := h[len(h)-1]; last.Rx != 10 || !last.At.Equal(now) {
		t.Errorf("last point %+v, want rx 10 at %v", last, now)
	}
	// Hours without a sample start the history over.
	sample(3*time.Hour, 10)
	if h := s.History(); len(h) != 0 {
		t.Errorf("after a 3 h stall: %d points, want none", len(h))
	}
}

// BenchmarkSample is the per-second cost of sampling eight links.
func BenchmarkSample(b *testing.B) {
	f := &fakeLinks{}
	for i := range 8 {
		f.links = append(f.links, Link{Name: "eth" + string(rune('0'+i))})
	}
	now := time.Unix(0, 0)
	s := New(f.read, func() time.Time { return now })
	b.ReportAllocs()
	for b.Loop() {
		now = now.Add(time.Second)
		for i := range f.links {
			f.links[i].RxBytes += 1000
		}
		_ = s.Sample(context.Background())
	}
}
