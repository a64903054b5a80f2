package acl

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"slices"
	"testing"
	"time"

	"github.com/edgeward/edgeward/core"
	"github.com/edgeward/edgeward/core/events"
	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

// listFixture holds a range, a port ban, a timed ban and a single-key ban
// (bulk records and single keys both), a trusted range and a trusted
// address.
func listFixture(t *testing.T) *fixture {
	t.Helper()
	f := newFixture(t)
	ctx := context.Background()
	if _, err := f.svc.Bulk(ctx, Ban, []string{"198.51.100.0/24", "192.0.2.1:22"}, 0, "tok", Guard{}); err != nil {
		t.Fatal(err)
	}
	if _, err := f.svc.Bulk(ctx, Ban, []string{"203.0.113.7"}, 10*time.Minute, "tok", Guard{}); err != nil {
		t.Fatal(err)
	}
	if err := f.svc.SetPoint(ctx, ap("203.0.113.9:9732"), Ban, "admin", Guard{}); err != nil {
		t.Fatal(err)
	}
	if _, err := f.svc.Bulk(ctx, Trust, []string{"10.0.0.0/8"}, 0, "tok", Guard{}); err != nil {
		t.Fatal(err)
	}
	if err := f.svc.SetPoint(ctx, ap("192.0.2.50:1"), Trust, "admin", Guard{}); err != nil {
		t.Fatal(err)
	}
	return f
}

func targets(l []Listed) []string {
	out := make([]string, len(l))
	for i, e := range l {
		out[i] = e.Target
	}
	return out
}

func TestBansAndTrusts(t *testing.T) {
	f := listFixture(t)
	now := f.clock.Now().UTC()
	bulk := Entry{Since: now, By: "tok", Reason: "bulk ban"}
	timed := bulk
	timed.Until = now.Add(10 * time.Minute)
	wantBans := []Listed{
		{Target: "192.0.2.1:22", Scope: ScopePort, Entry: bulk},
		{Target: "198.51.100.0/24", Scope: ScopeRange, Entry: bulk},
		{Target: "203.0.113.7", Scope: ScopeAddress, Entry: timed},
		{Target: "203.0.113.9", Scope: ScopeAddress, Entry: Entry{Since: now, By: "admin", Reason: "banned by an admin", Point: "203.0.113.9:9732"}},
	}
	wantTrusts := []Listed{
		{Target: "10.0.0.0/8", Scope: ScopeRange, Entry: Entry{Since: now, By: "tok", Reason: "bulk trust"}},
		{Target: "192.0.2.50", Scope: ScopeAddress, Entry: Entry{Since: now, By: "admin", Reason: "trusted by an admin", Point: "192.0.2.50:1"}},
	}
	check := func(when string) {
		t.Helper()
		bans, n := f.svc.Bans(0)
		if diff := cmp.Diff(wantBans, bans); diff != "" || n != len(wantBans) {
			t.Errorf("%s: Bans(0) total %d (-want +got):\n%s", when, n, diff)
		}
		trusts, n := f.svc.Trusts(0)
		if diff := cmp.Diff(wantTrusts, trusts); diff != "" || n != len(wantTrusts) {
			t.Errorf("%s: Trusts(0) total %d (-want +got):\n%s", when, n, diff)
		}
	}
	check("fresh")
	f.restart(t)
	check("after restart")

	bans, n := f.svc.Bans(2)
	if diff := cmp.Diff(wantBans[:2], bans); diff != "" || n != 4 {
		t.Errorf("Bans(2) total %d, want 4 (-want +got):\n%s", n, diff)
	}
	if trusts, n := f.svc.Trusts(1); len(trusts) != 1 || n != 2 {
		t.Errorf("Trusts(1) = %d entries of %d, want 1 of 2", len(trusts), n)
	}

	// An expired ban leaves the list before the sweep drops it.
	f.clock.Add(10*time.Minute + time.Second)
	bans, n = f.svc.Bans(0)
	if diff := cmp.Diff([]string{"192.0.2.1:22", "198.51.100.0/24", "203.0.113.9"}, targets(bans)); diff != "" || n != 3 {
		t.Errorf("after expiry, total %d (-want +got):\n%s", n, diff)
	}
}

func TestListOrder(t *testing.T) {
	f := newFixture(t)
	in := []string{"2001:db8::/48", "203.0.113.7:443", "203.0.113.7", "203.0.113.0/24", "203.0.113.7:22", "10.0.0.1", "2001:db8::1"}
	if _, err := f.svc.Bulk(context.Background(), Ban, in, 0, "tok", Guard{}); err != nil {
		t.Fatal(err)
	}
	bans, _ := f.svc.Bans(0)
	// IPv4 first; a range before the addresses in it; an address before
	// its port bans.
	want := []string{"10.0.0.1", "203.0.113.0/24", "203.0.113.7", "203.0.113.7:22", "203.0.113.7:443", "2001:db8::/48", "2001:db8::1"}
	if diff := cmp.Diff(want, targets(bans)); diff != "" {
		t.Errorf("order (-want +got):\n%s", diff)
	}
}

// TestBansLimit checks that a limited list is the start of the whole one.
func TestBansLimit(t *testing.T) {
	f := newFixture(t)
	in := benchAddrs(300)
	for i := range 40 {
		in = append(in, fmt.Sprintf("10.0.%d.0/24", i), fmt.Sprintf("10.0.0.%d:%d", i, 1000-i))
	}
	if _, err := f.svc.Bulk(context.Background(), Ban, in, 0, "tok", Guard{}); err != nil {
		t.Fatal(err)
	}
	all, n := f.svc.Bans(0)
	if n != len(in) || len(all) != n {
		t.Fatalf("Bans(0) = %d of %d, want %d", len(all), n, len(in))
	}
	for _, limit := range []int{1, 7, 200, len(in), len(in) + 1} {
		got, n := f.svc.Bans(limit)
		if diff := cmp.Diff(targets(all[:min(limit, len(all))]), targets(got)); diff != "" || n != len(in) {
			t.Errorf("Bans(%d) total %d (-want +got):\n%s", limit, n, diff)
		}
	}
}

func TestLift(t *testing.T) {
	f := listFixture(t)
	ctx := context.Background()
	portBan := Element{Kind: KindBanPort, Addr: addr("192.0.2.1"), Port: 22}
	if !f.fw.has(portBan) || len(f.fw.nets.BanNets) != 1 {
		t.Fatal("the fixture's bans are not in the kernel")
	}
	before := len(f.journal.Recent(100, nil))
	// Both come from one bulk record; the duplicate is lifted (and
	// counted) once.
	if n, err := f.svc.Lift(ctx, []string{"198.51.100.0/24", " 192.0.2.1:22", "198.51.100.0/24"}, "tok"); err != nil || n != 2 {
		t.Fatalf("Lift: %d lifted, %v; want 2", n, err)
	}
	lifted := func(when string) {
		t.Helper()
		bans, n := f.svc.Bans(0)
		if diff := cmp.Diff([]string{"203.0.113.7", "203.0.113.9"}, targets(bans)); diff != "" || n != 2 {
			t.Errorf("%s: bans total %d (-want +got):\n%s", when, n, diff)
		}
		if f.svc.Banned(addr("198.51.100.5")) || f.fw.has(portBan) || len(f.fw.nets.BanNets) != 0 {
			t.Errorf("%s: lifted bans still enforced: banned %v, port %v, nets %v", when,
				f.svc.Banned(addr("198.51.100.5")), f.fw.has(portBan), f.fw.nets.BanNets)
		}
	}
	lifted("after lift")
	var got []events.Event
	for _, e := range f.journal.Recent(100, nil)[before:] {
		got = append(got, events.Event{Kind: e.Kind, Subject: e.Subject, Message: e.Message, Fields: e.Fields})
	}
	want := []events.Event{
		{Kind: "acl_lifted", Subject: "198.51.100.0/24", Message: "ban of 198.51.100.0/24 lifted",
			Fields: map[string]string{"target": "198.51.100.0/24", "lifted": "ban", "by": "tok"}},
		{Kind: "acl_lifted", Subject: "192.0.2.1:22", Message: "ban of 192.0.2.1:22 lifted",
			Fields: map[string]string{"target": "192.0.2.1:22", "lifted": "ban", "by": "tok"}},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("events (-want +got):\n%s", diff)
	}
	f.restart(t)
	lifted("after restart")

	// A trusted range, and the single key of a trust.
	if _, err := f.svc.Lift(ctx, []string{"10.0.0.0/8", "192.0.2.50"}, "tok"); err != nil {
		t.Fatal(err)
	}
	f.restart(t)
	if trusts, n := f.svc.Trusts(0); n != 0 || f.svc.Trusted(addr("10.1.2.3")) || len(f.fw.trust()) != 0 {
		t.Errorf("trusts after lift and restart: %v, kernel %v", targets(trusts), f.fw.trust())
	}
}

// TestLiftFromBulkAndSingleKey lifts targets a bulk record and a single key
// both hold (a point ban of a bulk-banned address), and one that is both
// banned and trusted; the rest of the record stays.
func TestLiftFromBulkAndSingleKey(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	if _, err := f.svc.Bulk(ctx, Ban, []string{"203.0.113.20", "203.0.113.21", "203.0.113.22"}, 0, "tok", Guard{}); err != nil {
		t.Fatal(err)
	}
	if err := f.svc.SetPoint(ctx, ap("203.0.113.20:0"), Ban, "tok", Guard{}); err != nil {
		t.Fatal(err)
	}
	if _, err := f.svc.Bulk(ctx, Trust, []string{"203.0.113.22"}, 0, "tok", Guard{}); err != nil {
		t.Fatal(err)
	}
	if _, err := f.svc.Lift(ctx, []string{"203.0.113.20", "203.0.113.22"}, "tok"); err != nil {
		t.Fatal(err)
	}
	if e := f.journal.Recent(1, nil)[0]; e.Fields["lifted"] != "ban and trust" {
		t.Errorf("last event %+v, want the ban and trust of 203.0.113.22 lifted", e)
	}
	f.restart(t)
	bans, _ := f.svc.Bans(0)
	if diff := cmp.Diff([]string{"203.0.113.21"}, targets(bans)); diff != "" {
		t.Errorf("bans after restart (-want +got):\n%s", diff)
	}
	if f.fw.has(Element{Kind: KindBan, Addr: addr("203.0.113.20")}) || !f.fw.has(Element{Kind: KindBan, Addr: addr("203.0.113.21")}) {
		t.Error("the rebuilt kernel table does not match the lift")
	}
	if f.svc.Trusted(addr("203.0.113.22")) {
		t.Error("the trust came back")
	}
}

func TestLiftRefused(t *testing.T) {
	f := listFixture(t)
	ctx := context.Background()
	bansBefore, _ := f.svc.Bans(0)
	trustsBefore, _ := f.svc.Trusts(0)
	events := len(f.journal.Recent(100, nil))
	tests := []struct {
		name      string
		targets   []string
		wantErr   error
		wantField string // of a ValidationError's first field
	}{
		{"a bad entry", []string{"198.51.100.0/24", "nope"}, core.ErrInvalid, "entries[1]"},
		{"host bits", []string{"198.51.100.1/24"}, core.ErrInvalid, "entries[0]"},
		{"no entries", nil, core.ErrInvalid, "entries"},
		{"too many", make([]string, MaxLift+1), core.ErrInvalid, "entries"},
		{"nothing held", []string{"198.51.100.0/25"}, core.ErrNotFound, ""},
		{"nothing held of several", []string{"192.0.2.1", "192.0.2.1:23"}, core.ErrNotFound, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := f.svc.Lift(ctx, tt.targets, "tok")
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("err = %v, want %v", err, tt.wantErr)
			}
			var ve *core.ValidationError
			field := ""
			if errors.As(err, &ve) {
				field = ve.Fields[0].Field
			}
			if field != tt.wantField {
				t.Errorf("field %q, want %q (err %v)", field, tt.wantField, err)
			}
		})
	}
	bans, _ := f.svc.Bans(0)
	trusts, _ := f.svc.Trusts(0)
	if diff := cmp.Diff(bansBefore, bans); diff != "" {
		t.Errorf("refused lifts changed the bans (-before +after):\n%s", diff)
	}
	if diff := cmp.Diff(trustsBefore, trusts); diff != "" {
		t.Errorf("refused lifts changed the trusts (-before +after):\n%s", diff)
	}
	if n := len(f.journal.Recent(100, nil)); n != events {
		t.Errorf("refused lifts published %d events", n-events)
	}
	if _, err := f.svc.Lift(ctx, []string{"198.51.100.0/25"}, "tok"); err == nil || err.Error() != "the ACL holds no ban or trust for 198.51.100.0/25" {
		t.Errorf("not found message: %v", err)
	}
}

func TestLiftEventsBounded(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	addrs := benchAddrs(liftEvents + 5)
	if _, err := f.svc.Bulk(ctx, Ban, addrs, 0, "tok", Guard{}); err != nil {
		t.Fatal(err)
	}
	before := len(f.journal.Recent(100, nil))
	if _, err := f.svc.Lift(ctx, addrs, "tok"); err != nil {
		t.Fatal(err)
	}
	es := f.journal.Recent(100, nil)[before:]
	if len(es) != liftEvents+1 || es[liftEvents].Fields["count"] != "5" {
		t.Errorf("%d events, last %+v; want %d and a summary of 5", len(es), es[len(es)-1], liftEvents+1)
	}
	if c := f.svc.Counts(); c.Bans != 0 {
		t.Errorf("%d bans left", c.Bans)
	}
}

func TestPeerLists(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	ids := []string{"idtZ9SvSU1aHfDMdVrJXNg1exNwfaN", "idrpUzezw7VJ4NU6phQYuxh88RiU1t", "idsMbq9nj8qBVBPVhqXDfYwH1BBjCJ"}
	for _, id := range ids {
		if err := f.svc.SetPeer(ctx, id, Ban, "tok"); err != nil {
			t.Fatal(err)
		}
	}
	if err := f.svc.SetPeer(ctx, ids[2], Trust, "tok"); err != nil {
		t.Fatal(err)
	}
	bans, n := f.svc.PeerBans(1)
	if diff := cmp.Diff([]Listed{{Target: ids[1], Scope: ScopePeer,
		Entry: Entry{Since: f.clock.Now().UTC(), By: "tok", Reason: "ban by an admin"}}}, bans); diff != "" || n != 2 {
		t.Errorf("PeerBans(1) total %d (-want +got):\n%s", n, diff)
	}
	if trusts, n := f.svc.PeerTrusts(0); n != 1 || trusts[0].Target != ids[2] {
		t.Errorf("PeerTrusts = %v", targets(trusts))
	}
}

// TestPointsKeepsBanWithPortBan checks that an address with both a ban and
// a port ban is listed banned whatever order the map walk takes.
func TestPointsKeepsBanWithPortBan(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	if err := f.svc.SetPoint(ctx, ap("192.0.2.1:0"), Ban, "tok", Guard{}); err != nil {
		t.Fatal(err)
	}
	ports := make([]string, 8)
	for i := range ports {
		ports[i] = fmt.Sprintf("192.0.2.1:%d", 20+i)
	}
	if _, err := f.svc.Bulk(ctx, Ban, ports, 0, "tok", Guard{}); err != nil {
		t.Fatal(err)
	}
	for range 20 { // the walk's order changes from call to call
		ps, n := f.svc.Points(0)
		if len(ps) != 1 || n != 1 || !ps[0].Banned {
			t.Fatalf("Points(0) = %+v of %d, want 192.0.2.1 banned", ps, n)
		}
		if got, _ := f.svc.Point(addr("192.0.2.1")); !cmp.Equal(ps[0], got, cmpopts.EquateComparable(netip.Addr{})) {
			t.Fatalf("Points() %+v and Point %+v differ", ps[0], got)
		}
	}
}

// walkPoints is every address the ACL holds a live entry for, merged
// from a walk of every entry.
func walkPoints(s *Service) []PointState {
	now := s.cfg.Now()
	s.mu.RLock()
	defer s.mu.RUnlock()
	addrs := map[netip.Addr]*PointState{}
	get := func(a netip.Addr, e *Entry) *PointState {
		ps, ok := addrs[a]
		if !ok {
			ps = &PointState{Addr: a}
			addrs[a] = ps
		}
		if e.Point != "" && !slices.Contains(ps.Points, e.Point) {
			ps.Points = append(ps.Points, e.Point)
		}
		return ps
	}
	for t, e := range s.st.bans {
		if t.Single() && e.live(now) {
			if ps := get(t.Prefix.Addr(), e); t.Port == 0 {
				ps.Banned = true
			}
		}
	}
	for p, e := range s.st.trusts {
		if p.IsSingleIP() {
			get(p.Addr(), e).Trusted = true
		}
	}
	for a, e := range s.st.greys {
		if e.live(now) {
			get(a, &e).GreylistedTill = e.Until
		}
	}
	out := make([]PointState, 0, len(addrs))
	for _, ps := range addrs {
		out = append(out, *ps)
	}
	slices.SortFunc(out, func(a, b PointState) int { return a.Addr.Compare(b.Addr) })
	return out
}

// TestPointsLimit checks that Points lists each address once, merged from
// all its entries, and that a limited list is the start of the whole one.
func TestPointsLimit(t *testing.T) {
	f := newFixture(t) // GreySize 4
	ctx := context.Background()
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	in := benchAddrs(300)
	for i := range 20 {
		in = append(in, fmt.Sprintf("10.0.0.%d:%d", i, 22), fmt.Sprintf("10.0.0.%d:%d", i, 443), // with a ban of every port
			fmt.Sprintf("10.9.0.%d:%d", i, 22), fmt.Sprintf("10.9.0.%d:%d", i, 443)) // port bans alone
	}
	in = append(in, "10.8.0.0/16", "2001:db8::1", "2001:db8::2:22")
	_, err := f.svc.Bulk(ctx, Ban, in, 0, "tok", Guard{})
	must(err)
	_, err = f.svc.Bulk(ctx, Ban, []string{"10.7.0.1", "10.7.0.2:22"}, time.Minute, "tok", Guard{})
	must(err)
	_, err = f.svc.Bulk(ctx, Trust, []string{"10.0.0.5", "10.6.0.1", "172.16.0.0/12"}, 0, "tok", Guard{})
	must(err)
	must(f.svc.SetPoint(ctx, ap("10.0.0.7:9732"), Ban, "admin", Guard{}))
	must(f.svc.SetPoint(ctx, ap("10.6.0.2:1"), Trust, "admin", Guard{}))
	for _, a := range []string{"10.0.0.9", "10.6.0.3", "10.9.0.3", "10.7.0.1"} {
		_, err := f.svc.Greylist(ctx, addr(a), "test")
		must(err)
	}
	for _, when := range []string{"fresh", "timed bans expired"} {
		want := walkPoints(f.svc)
		all, n := f.svc.Points(0)
		if diff := cmp.Diff(want, all, cmpopts.EquateComparable(netip.Addr{})); diff != "" || n != len(want) {
			t.Errorf("%s: Points(0) total %d of %d (-walked +got):\n%s", when, n, len(want), diff)
		}
		for _, limit := range []int{1, 7, 200, len(want), len(want) + 1} {
			got, n := f.svc.Points(limit)
			if diff := cmp.Diff(want[:min(limit, len(want))], got, cmpopts.EquateComparable(netip.Addr{})); diff != "" || n != len(want) {
				t.Errorf("%s: Points(%d) total %d of %d (-want +got):\n%s", when, limit, n, len(want), diff)
			}
		}
		f.clock.Add(2 * time.Minute)
	}
}

// BenchmarkPoints200Of100k is the network page's list of points with
// 100,000 bans held.
func BenchmarkPoints200Of100k(b *testing.B) {
	svc := benchService(b, time.Now)
	if _, err := svc.Bulk(context.Background(), Ban, benchAddrs(100_000), 0, "bench", Guard{}); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if l, n := svc.Points(200); len(l) != 200 || n != 100_000 {
			b.Fatalf("Points(200) = %d of %d", len(l), n)
		}
	}
}

// BenchmarkBans200Of100k is the network page's list of bans with 100,000
// present: every live ban is walked, and the first 200 kept in a heap.
func BenchmarkBans200Of100k(b *testing.B) {
	svc := benchService(b, time.Now)
	if _, err := svc.Bulk(context.Background(), Ban, benchAddrs(100_000), 0, "bench", Guard{}); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if l, n := svc.Bans(200); len(l) != 200 || n != 100_000 {
			b.Fatalf("Bans(200) = %d of %d", len(l), n)
		}
	}
}

// TestNewerEntryWinsAtLoad: a target both a timed bulk record and a later
// single-key ban hold is banned for good after a restart, and a bulk ban
// after a single one keeps the bulk's expiry.
func TestNewerEntryWinsAtLoad(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	if _, err := f.svc.Bulk(ctx, Ban, []string{"203.0.113.30", "203.0.113.31"}, time.Hour, "tok", Guard{}); err != nil {
		t.Fatal(err)
	}
	f.clock.Add(time.Second)
	if err := f.svc.SetPoint(ctx, ap("203.0.113.30:0"), Ban, "admin", Guard{}); err != nil {
		t.Fatal(err)
	}
	if err := f.svc.SetPoint(ctx, ap("203.0.113.32:0"), Ban, "admin", Guard{}); err != nil {
		t.Fatal(err)
	}
	f.clock.Add(time.Second)
	if _, err := f.svc.Bulk(ctx, Ban, []string{"203.0.113.32"}, time.Hour, "tok", Guard{}); err != nil {
		t.Fatal(err)
	}
	until := func() map[string]bool {
		got := map[string]bool{}
		bans, _ := f.svc.Bans(0)
		for _, b := range bans {
			got[b.Target] = b.Entry.Until.IsZero()
		}
		return got
	}
	want := map[string]bool{"203.0.113.30": true, "203.0.113.31": false, "203.0.113.32": false}
	if diff := cmp.Diff(want, until()); diff != "" {
		t.Errorf("for good, before the restart (-want +got):\n%s", diff)
	}
	for range 2 {
		f.restart(t)
		if diff := cmp.Diff(want, until()); diff != "" {
			t.Errorf("for good, after a restart (-want +got):\n%s", diff)
		}
	}
}
