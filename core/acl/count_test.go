package acl

import (
	"context"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// walkCounts counts every live entry the slow way, walking them all.
func walkCounts(s *Service) Counts {
	now := s.cfg.Now()
	s.mu.RLock()
	defer s.mu.RUnlock()
	c := Counts{Trusts: len(s.st.trusts), PeerBans: len(s.st.peerBans), PeerTrusts: len(s.st.peerTrusts)}
	for _, e := range s.st.bans {
		if e.live(now) {
			c.Bans++
		}
	}
	for _, e := range s.st.greys {
		if e.live(now) {
			c.Greylisted++
		}
	}
	return c
}

// TestCountsMatchWalk checks the kept counts against a walk of every
// entry after each of a sequence of changes: timed and permanent bulk
// records, single keys, lifts, greylistings, expiry before and after the
// sweep, and restarts. After a sweep or a restart no walk is needed.
func TestCountsMatchWalk(t *testing.T) {
	f := newFixture(t) // GreySize 4
	ctx := context.Background()
	addrs := benchAddrs(3_000) // two bulk records
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	bulk := func(acl string, entries []string, ttl time.Duration) func() {
		return func() { _, err := f.svc.Bulk(ctx, acl, entries, ttl, "tok", Guard{}); must(err) }
	}
	grey := func(a string) func() {
		return func() { _, err := f.svc.Greylist(ctx, addr(a), "test"); must(err) }
	}
	sweep := func() { f.svc.sweep(ctx) }
	steps := []struct {
		name string
		do   func()
		want *Counts // when not nil, also the counts themselves
		fast bool    // no entry can have expired: Counts walks nothing
	}{
		{"timed bulk ban", bulk(Ban, addrs, time.Hour), &Counts{Bans: 3_000}, true},
		{"permanent bulk ban", bulk(Ban, []string{"198.51.100.0/24", "192.0.2.1:22", "192.0.2.1"}, 0), nil, true},
		{"point ban", func() { must(f.svc.SetPoint(ctx, ap("203.0.113.9:9732"), Ban, "tok", Guard{})) }, &Counts{Bans: 3_004}, true},
		{"timed re-ban for good", bulk(Ban, addrs[:5], 0), &Counts{Bans: 3_004}, true},
		{"greylistings", func() { grey("198.51.100.200")(); grey("198.51.100.201")() }, &Counts{Bans: 3_004, Greylisted: 2}, true},
		{"lift", func() {
			_, err := f.svc.Lift(ctx, append([]string{"198.51.100.0/24"}, addrs[3:20]...), "tok")
			must(err)
		},
			&Counts{Bans: 2_986, Greylisted: 2}, true},
		{"greylistings expire", func() { f.clock.Add(30 * time.Minute) }, &Counts{Bans: 2_986}, false},
		{"sweep", sweep, &Counts{Bans: 2_986}, true},
		{"kernel greylisting", func() {
			f.fw.mu.Lock()
			f.fw.kernel = []Grey{{Addr: addr("198.51.100.77"), Expires: time.Minute}}
			f.fw.mu.Unlock()
			must(f.svc.PollKernel(ctx))
		}, nil, true}, // the fake kernel also hands back the two expired ones
		{"trusts and peers", func() {
			bulk(Trust, []string{"10.0.0.0/8"}, 0)()
			must(f.svc.SetPoint(ctx, ap("192.0.2.50:1"), Trust, "tok", Guard{}))
			must(f.svc.SetPeer(ctx, "idrpUzezw7VJ4NU6phQYuxh88RiU1t", Ban, "tok"))
		}, nil, true},
		{"timed bans expire", func() { f.clock.Add(time.Hour) }, &Counts{Bans: 6, Trusts: 2, PeerBans: 1}, false},
		{"restart before the sweep", func() { f.restart(t) }, &Counts{Bans: 6, Trusts: 2, PeerBans: 1}, true},
		{"greylisting after restart", grey("198.51.100.202"), &Counts{Bans: 6, Greylisted: 1, Trusts: 2, PeerBans: 1}, true},
		{"clear greylist", func() { must(f.svc.ClearGreylist(ctx)) }, &Counts{Bans: 6, Trusts: 2, PeerBans: 1}, true},
		{"open", func() { must(f.svc.SetPoint(ctx, ap("192.0.2.1:0"), Open, "tok", Guard{})) }, &Counts{Bans: 5, Trusts: 2, PeerBans: 1}, true},
		{"timed ban, then its lift", func() {
			bulk(Ban, []string{"203.0.113.50"}, time.Minute)()
			_, err := f.svc.Lift(ctx, []string{"203.0.113.50"}, "tok")
			must(err)
		}, nil, true},
		{"lifted ban's expiry passes", func() { f.clock.Add(2 * time.Minute) }, &Counts{Bans: 5, Trusts: 2, PeerBans: 1}, false},
		{"sweep again", sweep, nil, true},
	}
	for _, st := range steps {
		st.do()
		got, walked := f.svc.Counts(), walkCounts(f.svc)
		if diff := cmp.Diff(walked, got); diff != "" {
			t.Errorf("after %s: counts (-walked +kept):\n%s", st.name, diff)
		}
		if st.want != nil {
			if diff := cmp.Diff(*st.want, got); diff != "" {
				t.Errorf("after %s: counts (-want +got):\n%s", st.name, diff)
			}
		}
		now := f.svc.cfg.Now()
		f.svc.mu.RLock()
		fast := f.svc.st.bansLive.allLive(now) && f.svc.st.greysLive.allLive(now)
		f.svc.mu.RUnlock()
		if fast != st.fast {
			t.Errorf("after %s: counting without a walk %v, want %v", st.name, fast, st.fast)
		}
	}
}

// TestRunSweepsWithoutFirewall: expired entries leave memory even where
// nothing can be enforced.
func TestRunSweepsWithoutFirewall(t *testing.T) {
	f := newFixture(t)
	svc, err := New(context.Background(), f.db, nil, nil, Config{Now: f.clock.Now, CheckEvery: time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := svc.Bulk(context.Background(), Ban, []string{"192.0.2.1"}, time.Minute, "tok", Guard{}); err != nil {
		t.Fatal(err)
	}
	f.clock.Add(2 * time.Minute)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { svc.Run(ctx); close(done) }()
	deadline := time.Now().Add(5 * time.Second)
	for {
		svc.mu.RLock()
		n := len(svc.st.bans)
		svc.mu.RUnlock()
		if n == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the expired ban is still in memory")
		}
		time.Sleep(time.Millisecond)
	}
	cancel()
	<-done
}

// BenchmarkCountsWith100k is the dashboard's stats poll's share of the
// ACL, with 100,000 bans held (1 ms when every ban was walked).
func BenchmarkCountsWith100k(b *testing.B) {
	svc := benchService(b, time.Now)
	if _, err := svc.Bulk(context.Background(), Ban, benchAddrs(100_000), time.Hour, "bench", Guard{}); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if c := svc.Counts(); c.Bans != 100_000 {
			b.Fatalf("Counts() = %+v", c)
		}
	}
}
