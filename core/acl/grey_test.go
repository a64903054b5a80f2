package acl

import (
	"context"
	"net/netip"
	"testing"
	"time"

	"github.com/edgeward/edgeward/core/events"
	"github.com/edgeward/edgeward/core/store"
	"github.com/google/go-cmp/cmp"
)

// TestKernelFloodEventsBounded reads 2,000 kernel greylistings at once:
// each is recorded, but the journal gets maxGreyEvents events and one sum.
func TestKernelFloodEventsBounded(t *testing.T) {
	f := newFixture(t)
	f.svc.cfg.GreySize = 65536
	ctx := context.Background()
	a := netip.MustParseAddr("192.0.2.0")
	var greys []Grey
	for range 2000 {
		a = a.Next()
		greys = append(greys, Grey{Addr: a, Expires: time.Minute})
	}
	f.fw.mu.Lock()
	f.fw.kernel = greys
	f.fw.mu.Unlock()
	before := len(f.journal.Recent(10000, nil))
	if err := f.svc.PollKernel(ctx); err != nil {
		t.Fatal(err)
	}
	if ips, _ := f.svc.GreylistIPs(); len(ips) != 2000 {
		t.Fatalf("%d sources recorded, want 2000", len(ips))
	}
	evs := f.journal.Recent(10000, nil)[before:]
	per, sums := 0, 0
	for _, e := range evs {
		switch {
		case e.Kind == events.Greylisted && e.Subject != "":
			per++
		case e.Kind == events.Greylisted:
			sums++
			if e.Fields["unreported"] != "1984" || e.Fields["count"] != "2000" {
				t.Errorf("summary fields = %v, want count 2000, unreported 1984", e.Fields)
			}
		}
	}
	if diff := cmp.Diff([2]int{maxGreyEvents, 1}, [2]int{per, sums}); diff != "" {
		t.Errorf("greylisted events [one each, sums] (-want +got):\n%s", diff)
	}
}

// TestNeverGreyNotGreylisted: NeverGrey ranges go to the kernel's ruleset
// and are never greylisted by edgeward either (after failed logins).
func TestNeverGreyNotGreylisted(t *testing.T) {
	db, err := store.Open(context.Background(), store.Options{Dir: t.TempDir()}, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	fw := newFake()
	never := []netip.Prefix{netip.MustParsePrefix("192.168.1.0/24"), netip.MustParsePrefix("2001:db8::1/128")}
	svc, err := New(context.Background(), db, fw, nil, Config{GuardPorts: []uint16{443}, NeverGrey: never})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	for _, tt := range []struct {
		addr string
		want bool
	}{
		{"192.168.1.7", false},
		{"::ffff:192.168.1.8", false},
		{"2001:db8::1", false},
		{"192.168.2.7", true},
		{"2001:db8::2", true},
	} {
		t.Run(tt.addr, func(t *testing.T) {
			d, err := svc.Greylist(ctx, netip.MustParseAddr(tt.addr), "test")
			if err != nil || (d > 0) != tt.want {
				t.Errorf("Greylist(%s) = %s, %v; want greylisted %v", tt.addr, d, err, tt.want)
			}
		})
	}
	if diff := cmp.Diff(never, svc.ruleset().NeverGrey, cmp.Comparer(func(a, b netip.Prefix) bool { return a == b })); diff != "" {
		t.Errorf("ruleset NeverGrey (-want +got):\n%s", diff)
	}
}
