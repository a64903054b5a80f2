package acl

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/edgeward/edgeward/core"
	"github.com/edgeward/edgeward/core/events"
	"github.com/edgeward/edgeward/core/store"
	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

type fixture struct {
	svc     *Service
	fw      *fakeFirewall
	db      *store.DB
	dir     string
	clock   *clock
	journal *events.Journal
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	f := &fixture{dir: t.TempDir(), fw: newFake(), clock: &clock{t: time.Now().Truncate(time.Second)}}
	f.open(t)
	return f
}

func (f *fixture) open(t *testing.T) {
	t.Helper()
	db, err := store.Open(context.Background(), store.Options{Dir: f.dir}, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	f.db = db
	f.journal = events.New(256, f.clock.Now)
	f.svc, err = New(context.Background(), db, f.fw, f.journal, Config{GreySize: 4, GuardPorts: []uint16{8080}, Now: f.clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	if err := f.svc.Install(context.Background()); err != nil {
		t.Fatal(err)
	}
}

func (f *fixture) restart(t *testing.T) {
	t.Helper()
	if err := f.db.Close(); err != nil {
		t.Fatal(err)
	}
	f.open(t)
}

func ap(s string) netip.AddrPort { return netip.MustParseAddrPort(s) }
func addr(s string) netip.Addr   { return netip.MustParseAddr(s) }

func kinds(j *events.Journal) []string {
	var out []string
	for _, e := range j.Recent(100, nil) {
		out = append(out, string(e.Kind))
	}
	return out
}

func TestParsePoint(t *testing.T) {
	tests := []struct {
		in      string
		want    string
		wantErr bool
	}{
		{"1.2.3.4:9732", "1.2.3.4:9732", false},
		{"[2001:db8::1]:80", "[2001:db8::1]:80", false},
		{"[::ffff:1.2.3.4]:80", "1.2.3.4:80", false},
		{"1.2.3.4:99999", "", true},
		{"999.1.1.1:80", "", true},
		{"[::1", "", true},
		{"garbage", "", true},
		{"1.2.3.4", "", true},
		{"2001:db8::1:80", "", true},
		{"[fe80::1%eth0]:80", "", true},
		{"1.2.3.4:-1", "", true},
	}
	for _, tt := range tests {
		got, err := ParsePoint(tt.in)
		if (err != nil) != tt.wantErr || (!tt.wantErr && got.String() != tt.want) {
			t.Errorf("ParsePoint(%q) = %v, %v; want %q, err %v", tt.in, got, err, tt.want, tt.wantErr)
		}
	}
}

func TestParseTarget(t *testing.T) {
	tests := []struct {
		in      string
		want    Target
		wantErr bool
	}{
		{"192.0.2.7", Target{Prefix: netip.MustParsePrefix("192.0.2.7/32")}, false},
		{" 192.0.2.0/24 ", Target{Prefix: netip.MustParsePrefix("192.0.2.0/24")}, false},
		{"2001:db8::/48", Target{Prefix: netip.MustParsePrefix("2001:db8::/48")}, false},
		{"192.0.2.7:22", Target{Prefix: netip.MustParsePrefix("192.0.2.7/32"), Port: 22}, false},
		{"[2001:db8::7]:22", Target{Prefix: netip.MustParsePrefix("2001:db8::7/128"), Port: 22}, false},
		{"192.0.2.1/24", Target{}, true},
		{"192.0.2.7:0", Target{}, true},
		{"banana", Target{}, true},
		{"10.0.0.0/33", Target{}, true},
	}
	for _, tt := range tests {
		got, err := ParseTarget(tt.in)
		if (err != nil) != tt.wantErr {
			t.Errorf("ParseTarget(%q) err = %v, want error %v", tt.in, err, tt.wantErr)
			continue
		}
		if diff := cmp.Diff(tt.want, got, cmpopts.EquateComparable(netip.Prefix{})); diff != "" {
			t.Errorf("ParseTarget(%q) (-want +got):\n%s", tt.in, diff)
		}
	}
}

func TestBanTrustOpen(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	p := ap("203.0.113.9:9732")
	ban := Element{Kind: KindBan, Addr: p.Addr()}
	if err := f.svc.SetPoint(ctx, p, Ban, "tok", Guard{}); err != nil {
		t.Fatal(err)
	}
	if !f.svc.Banned(p.Addr()) || !f.fw.has(ban) {
		t.Fatal("banned point not banned in memory and kernel")
	}
	f.svc.cuts.Wait() // the cut follows the answer
	if diff := cmp.Diff([]netip.Prefix{netip.MustParsePrefix("203.0.113.9/32")}, f.fw.cut, cmpopts.EquateComparable(netip.Prefix{})); diff != "" {
		t.Errorf("connections cut (-want +got):\n%s", diff)
	}
	// Trust lifts the ban and puts the address in the trusted ranges.
	if err := f.svc.SetPoint(ctx, p, Trust, "tok", Guard{}); err != nil {
		t.Fatal(err)
	}
	if f.svc.Banned(p.Addr()) || f.fw.has(ban) || !f.svc.Trusted(p.Addr()) {
		t.Fatal("trust did not lift the ban")
	}
	if diff := cmp.Diff([]netip.Prefix{netip.MustParsePrefix("203.0.113.9/32")}, f.fw.trust(), cmpopts.EquateComparable(netip.Prefix{})); diff != "" {
		t.Errorf("kernel trust set (-want +got):\n%s", diff)
	}
	// A trusted source is never greylisted.
	if d, err := f.svc.Greylist(ctx, p.Addr(), "test"); err != nil || d != 0 {
		t.Fatalf("greylisting a trusted source = %v, %v", d, err)
	}
	if err := f.svc.SetPoint(ctx, p, Open, "tok", Guard{}); err != nil {
		t.Fatal(err)
	}
	if points, n := f.svc.Points(0); f.svc.Trusted(p.Addr()) || len(f.fw.trust()) != 0 || len(points) != 0 || n != 0 {
		t.Fatal("open left state behind")
	}
	if err := f.svc.SetPoint(ctx, p, "nuke", "tok", Guard{}); !errors.Is(err, core.ErrInvalid) {
		t.Fatalf("bad acl: err = %v", err)
	}
	got := slices.DeleteFunc(kinds(f.journal), func(k string) bool { return k == string(events.ConnectionsCut) })
	if diff := cmp.Diff([]string{"point_banned", "point_trusted", "point_opened"}, got); diff != "" {
		t.Errorf("events, cut left out (-want +got):\n%s", diff)
	}
	if n := len(kinds(f.journal)) - len(got); n != 1 {
		t.Errorf("%d connections-cut events, want 1", n)
	}
}

func TestGreylistSchedule(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	a := addr("198.51.100.4")
	for i, want := range []time.Duration{10 * time.Minute, 20 * time.Minute, 40 * time.Minute} {
		d, err := f.svc.Greylist(ctx, a, "test")
		if err != nil || d != want {
			t.Fatalf("offence %d: greylisted for %s, %v; want %s", i+1, d, err, want)
		}
		f.clock.Add(d + time.Second)
	}
	f.svc.cfg.GreyMax = time.Hour
	if d, _ := f.svc.Greylist(ctx, a, "test"); d != time.Hour {
		t.Fatalf("capped duration = %s, want 1h", d)
	}
	if !f.fw.has(Element{Kind: KindGrey, Addr: a}) || !f.svc.Banned(a) {
		t.Fatal("greylisted source not in the kernel greylist")
	}
	// Loopback is never greylisted: it cannot be enforced and would only confuse.
	if d, _ := f.svc.Greylist(ctx, addr("127.0.0.1"), "test"); d != 0 {
		t.Fatal("loopback greylisted")
	}
	// The offence count survives a restart.
	f.restart(t)
	f.clock.Add(2 * time.Hour)
	f.svc.cfg.GreyMax = 24 * time.Hour
	if d, _ := f.svc.Greylist(ctx, a, "test"); d != 80*time.Minute*2 {
		t.Fatalf("after restart: %s, want 160m (fifth offence)", d)
	}
}

func TestGreylistFull(t *testing.T) {
	f := newFixture(t) // GreySize 4
	ctx := context.Background()
	for i := range 4 {
		if d, err := f.svc.Greylist(ctx, netip.AddrFrom4([4]byte{192, 0, 2, byte(i + 1)}), "t"); err != nil || d == 0 {
			t.Fatalf("greylist %d: %s, %v", i, d, err)
		}
	}
	if _, since := f.svc.GreylistIPs(); !since.IsZero() {
		t.Fatal("not_reliable_since set before overflow")
	}
	if d, _ := f.svc.Greylist(ctx, addr("192.0.2.99"), "t"); d != 0 {
		t.Fatal("a fifth source was greylisted in a set of four")
	}
	ips, since := f.svc.GreylistIPs()
	if since.IsZero() || len(ips) != 4 {
		t.Fatalf("after overflow: %d ips, since %v", len(ips), since)
	}
	if diff := cmp.Diff([]string{"greylisted", "greylisted", "greylisted", "greylisted", "greylist_filling", "greylist_full"}, kinds(f.journal)); diff != "" {
		t.Errorf("events (-want +got):\n%s", diff)
	}
	// Clearing empties the greylist, resets the overflow, keeps bans.
	if err := f.svc.SetPoint(ctx, ap("192.0.2.200:1"), Ban, "tok", Guard{}); err != nil {
		t.Fatal(err)
	}
	if err := f.svc.ClearGreylist(ctx); err != nil {
		t.Fatal(err)
	}
	ips, since = f.svc.GreylistIPs()
	if len(ips) != 0 || !since.IsZero() || !f.svc.Banned(addr("192.0.2.200")) || !f.fw.has(Element{Kind: KindBan, Addr: addr("192.0.2.200")}) {
		t.Fatalf("after clear: %v %v, ban kept %v", ips, since, f.svc.Banned(addr("192.0.2.200")))
	}
	f.restart(t)
	if ips, _ := f.svc.GreylistIPs(); len(ips) != 0 {
		t.Fatalf("cleared greylist back after restart: %v", ips)
	}
}

func TestKernelGreylistAndReconcile(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	flooder := addr("198.51.100.77")
	f.fw.mu.Lock()
	f.fw.kernel = []Grey{{Addr: flooder, Expires: 9 * time.Minute}}
	f.fw.mu.Unlock()
	if err := f.svc.PollKernel(ctx); err != nil {
		t.Fatal(err)
	}
	e, ok := f.svc.Greylisted(flooder)
	if !ok || e.By != "kernel" || e.Until.Sub(f.clock.Now()) != 10*time.Minute {
		t.Fatalf("kernel greylisting recorded as %+v, %v", e, ok)
	}
	// Polling again changes nothing.
	n := len(f.journal.Recent(100, nil))
	if err := f.svc.PollKernel(ctx); err != nil || len(f.journal.Recent(100, nil)) != n {
		t.Fatalf("second poll: %v, events %d -> %d", err, n, len(f.journal.Recent(100, nil)))
	}
	// Drift is repaired from the store, kernel greylisting included.
	if _, err := f.svc.Bulk(ctx, Ban, []string{"203.0.113.0/24", "203.0.113.5", "198.51.100.1:22"}, 0, "tok", Guard{}); err != nil {
		t.Fatal(err)
	}
	f.fw.mu.Lock()
	f.fw.drift = "table deleted"
	f.fw.mu.Unlock()
	repaired, err := f.svc.Reconcile(ctx)
	if err != nil || !repaired {
		t.Fatalf("Reconcile = %v, %v", repaired, err)
	}
	for _, e := range []Element{{Kind: KindBan, Addr: addr("203.0.113.5")}, {Kind: KindBanPort, Addr: addr("198.51.100.1"), Port: 22}, {Kind: KindGrey, Addr: flooder}} {
		if !f.fw.has(e) {
			t.Errorf("after repair the kernel lacks %+v", e)
		}
	}
	if got := f.fw.nets.BanNets; len(got) != 1 || got[0] != netip.MustParsePrefix("203.0.113.0/24") {
		t.Errorf("after repair the range bans are %v", got)
	}
	if again, _ := f.svc.Reconcile(ctx); again {
		t.Error("a second reconcile repaired an intact table")
	}
}

func TestExpiredLeaveAtRestart(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	if _, err := f.svc.Bulk(ctx, Ban, []string{"192.0.2.1", "192.0.2.0/28"}, 2*time.Second, "tok", Guard{}); err != nil {
		t.Fatal(err)
	}
	if _, err := f.svc.Bulk(ctx, Ban, []string{"192.0.2.50"}, 0, "tok", Guard{}); err != nil {
		t.Fatal(err)
	}
	f.clock.Add(3 * time.Second)
	time.Sleep(3100 * time.Millisecond) // the store's TTLs run on the real clock
	f.restart(t)
	if c := f.svc.Counts(); c.Bans != 1 {
		t.Fatalf("bans after restart = %d, want only the permanent one", c.Bans)
	}
	if f.fw.has(Element{Kind: KindBan, Addr: addr("192.0.2.1")}) || !f.fw.has(Element{Kind: KindBan, Addr: addr("192.0.2.50")}) || len(f.fw.nets.BanNets) != 0 {
		t.Fatal("rebuilt table does not match the unexpired entries")
	}
}

func TestBulkRefusesAll(t *testing.T) {
	f := newFixture(t)
	_, err := f.svc.Bulk(context.Background(), Ban, []string{"192.0.2.1", "nope", "192.0.2.3"}, 0, "tok", Guard{})
	var ve *core.ValidationError
	if !errors.As(err, &ve) || ve.Fields[0].Field != "entries[1]" {
		t.Fatalf("err = %v", err)
	}
	if c := f.svc.Counts(); c.Bans != 0 {
		t.Fatalf("%d bans after a refused bulk", c.Bans)
	}
	if _, err := f.svc.Bulk(context.Background(), Trust, []string{"192.0.2.1:22"}, 0, "tok", Guard{}); !errors.As(err, &ve) {
		t.Fatalf("trust with a port: err = %v", err)
	}
}

func TestNoFirewall(t *testing.T) {
	db, err := store.Open(context.Background(), store.Options{Dir: t.TempDir()}, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	svc, err := New(context.Background(), db, nil, nil, Config{})
	if err != nil {
		t.Fatal(err)
	}
	if err := svc.SetPoint(context.Background(), ap("192.0.2.1:1"), Ban, "tok", Guard{}); err != nil {
		t.Fatal(err)
	}
	if e := svc.Enforcement(); e.Applied || e.Reason == "" || !svc.Banned(addr("192.0.2.1")) {
		t.Fatalf("enforcement = %+v, banned %v", e, svc.Banned(addr("192.0.2.1")))
	}
}

func TestPeerACL(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	id := "idrpUzezw7VJ4NU6phQYuxh88RiU1t"
	if err := f.svc.SetPeer(ctx, id, Ban, "tok"); err != nil {
		t.Fatal(err)
	}
	if got := f.svc.Peer(id); !got.Banned || got.Trusted {
		t.Fatalf("after ban: %+v", got)
	}
	f.restart(t)
	if err := f.svc.SetPeer(ctx, id, Trust, "tok"); err != nil {
		t.Fatal(err)
	}
	if got := f.svc.Peer(id); got.Banned || !got.Trusted {
		t.Fatalf("after trust: %+v", got)
	}
	if err := f.svc.SetPeer(ctx, id, "x", "tok"); !errors.Is(err, core.ErrInvalid) {
		t.Fatalf("bad acl: %v", err)
	}
}

func TestBulkRecordsUndo(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	addrs := benchAddrs(4_500) // three bulk records
	if _, err := f.svc.Bulk(ctx, Ban, addrs, 0, "tok", Guard{}); err != nil {
		t.Fatal(err)
	}
	// Open one address of the second record, re-ban part of the first in a
	// new bulk call, and trust one range in bulk then untrust it.
	if err := f.svc.SetPoint(ctx, ap(addrs[2500]+":0"), Open, "tok", Guard{}); err != nil {
		t.Fatal(err)
	}
	if _, err := f.svc.Bulk(ctx, Ban, addrs[:10], 0, "tok", Guard{}); err != nil {
		t.Fatal(err)
	}
	if err := f.svc.SetPoint(ctx, ap(addrs[5]+":0"), Open, "tok", Guard{}); err != nil {
		t.Fatal(err)
	}
	if _, err := f.svc.Bulk(ctx, Trust, []string{"198.51.100.0/24", "198.51.100.9"}, 0, "tok", Guard{}); err != nil {
		t.Fatal(err)
	}
	if err := f.svc.SetPoint(ctx, ap("198.51.100.9:0"), Open, "tok", Guard{}); err != nil {
		t.Fatal(err)
	}
	f.restart(t)
	if c := f.svc.Counts(); c.Bans != 4_498 || c.Trusts != 1 {
		t.Fatalf("after restart: %+v, want 4498 bans and 1 trust", c)
	}
	for _, a := range []string{addrs[2500], addrs[5]} {
		if f.svc.Banned(addr(a)) || f.fw.has(Element{Kind: KindBan, Addr: addr(a)}) {
			t.Errorf("%s opened but banned again after restart", a)
		}
	}
	if !f.svc.Banned(addr(addrs[4])) || !f.fw.has(Element{Kind: KindBan, Addr: addr(addrs[4499])}) {
		t.Error("bulk bans lost after restart")
	}
}

func TestPointMatchesPoints(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	if err := f.svc.SetPoint(ctx, ap("192.0.2.1:9732"), Ban, "tok", Guard{}); err != nil {
		t.Fatal(err)
	}
	if err := f.svc.SetPoint(ctx, ap("192.0.2.2:1"), Trust, "tok", Guard{}); err != nil {
		t.Fatal(err)
	}
	if _, err := f.svc.Greylist(ctx, addr("192.0.2.3"), "t"); err != nil {
		t.Fatal(err)
	}
	all, _ := f.svc.Points(0)
	for _, ps := range all {
		got, known := f.svc.Point(ps.Addr)
		if !known {
			t.Errorf("%s listed but not known", ps.Addr)
		}
		if diff := cmp.Diff(ps, got, cmpopts.EquateComparable(netip.Addr{})); diff != "" {
			t.Errorf("Point(%s) (-Points +Point):\n%s", ps.Addr, diff)
		}
	}
	if _, known := f.svc.Point(addr("192.0.2.99")); known {
		t.Error("unknown address known")
	}
}

// TestBannedWithManyEntries checks Banned and Trusted where the trusts and
// the range bans are too many to walk, against a walk of them all.
func TestBannedWithManyEntries(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	trusts := []string{"10.0.0.0/8", "2001:db8:1::/48", "::ffff:198.51.100.0/120"}
	ranges := []string{"0.0.0.0/1", "2001:db8::/32"}
	for i := range 200 {
		trusts = append(trusts, fmt.Sprintf("192.0.2.%d", i), fmt.Sprintf("2001:db8:2::%x", i))
		ranges = append(ranges, fmt.Sprintf("203.0.%d.0/24", i), fmt.Sprintf("2001:db8:3:%x::/64", i))
	}
	if _, err := f.svc.Bulk(ctx, Trust, trusts, 0, "tok", Guard{}); err != nil {
		t.Fatal(err)
	}
	if _, err := f.svc.Bulk(ctx, Ban, ranges, 0, "tok", Guard{Force: true}); err != nil {
		t.Fatal(err)
	}
	if _, err := f.svc.Bulk(ctx, Ban, []string{"198.18.0.0/15"}, time.Minute, "tok", Guard{}); err != nil {
		t.Fatal(err)
	}
	walk := func(a netip.Addr) (trusted, banned bool) {
		now := f.clock.Now()
		f.svc.mu.RLock()
		defer f.svc.mu.RUnlock()
		for p := range f.svc.st.trusts {
			trusted = trusted || p.Contains(a)
		}
		for tg, e := range f.svc.st.bans {
			banned = banned || (tg.Port == 0 && e.live(now) && tg.Prefix.Contains(a))
		}
		return trusted, banned && !trusted
	}
	probes := []string{"10.1.2.3", "11.0.0.1", "128.0.0.1", "192.0.2.7", "192.0.2.255", "198.51.100.9", "198.19.0.1",
		"203.0.7.1", "203.0.200.1", "2001:db8::1", "2001:db8:1::1", "2001:db8:2::c7", "2001:db8:2::1ff",
		"2001:db8:3:c7::1", "2001:db9::1", "::ffff:10.1.2.3"}
	for _, when := range []string{"fresh", "timed range expired"} {
		for _, s := range probes {
			a := addr(s)
			wantTrusted, wantBanned := walk(a.Unmap())
			if got := f.svc.Trusted(a); got != wantTrusted {
				t.Errorf("%s: Trusted(%s) = %v, want %v", when, a, got, wantTrusted)
			}
			if got := f.svc.Banned(a); got != wantBanned {
				t.Errorf("%s: Banned(%s) = %v, want %v", when, a, got, wantBanned)
			}
		}
		f.clock.Add(2 * time.Minute)
	}
	if !f.svc.Trusted(addr("192.0.2.7")) || !f.svc.Banned(addr("11.0.0.1")) || f.svc.Banned(addr("2001:db9::1")) {
		t.Error("the probes do not cover a trusted, a banned and a free address")
	}
}

// TestRunWaitsForCuts ends Run while the cut that followed a ban's answer
// still runs: Run returns only after it, so serve never closes the kernel
// handles under a cut.
func TestRunWaitsForCuts(t *testing.T) {
	f := newFixture(t)
	release, started := make(chan struct{}), make(chan struct{}, 1)
	f.fw.mu.Lock()
	f.fw.hold, f.fw.started = release, started
	f.fw.mu.Unlock()
	ctx, cancel := context.WithCancel(context.Background())
	ran := make(chan struct{})
	go func() { f.svc.Run(ctx); close(ran) }()
	if err := f.svc.SetPoint(context.Background(), ap("203.0.113.9:9732"), Ban, "tok", Guard{}); err != nil {
		t.Fatal(err)
	}
	<-started
	cancel()
	select {
	case <-ran:
		t.Fatal("Run returned while a cut was still running")
	case <-time.After(100 * time.Millisecond):
	}
	close(release)
	<-ran
}
