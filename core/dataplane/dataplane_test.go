package dataplane

import (
	"context"
	"net/netip"
	"slices"
	"testing"
	"time"

	"github.com/edgeward/edgeward/core/events"
	"github.com/edgeward/edgeward/core/overlay"
	"github.com/edgeward/edgeward/core/store"
	"github.com/edgeward/edgeward/core/tunnel"
	"github.com/edgeward/edgeward/core/tunnel/tunneltest"
)

// handshake makes the device report a handshake with key at t.
func handshake(t testing.TB, d *tunneltest.Device, key string, at time.Time, ep string, rx int64) {
	t.Helper()
	if !d.See(key, netip.MustParseAddrPort(ep), at, rx, 0) {
		t.Fatalf("peer %s is not on the device", key)
	}
}

type fixture struct {
	ov      *overlay.Service
	dev     *tunneltest.Device
	filter  *tunneltest.Filter
	plane   *Plane
	journal *events.Journal
	now     time.Time
}

func newFixture(t *testing.T) *fixture { return newFixtureB(t) }

func newFixtureB(t testing.TB) *fixture {
	t.Helper()
	ctx := context.Background()
	db, err := store.Open(ctx, store.Options{Dir: t.TempDir()}, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	f := &fixture{dev: tunneltest.NewDevice(), filter: &tunneltest.Filter{},
		now: time.Date(2026, 3, 4, 5, 6, 7, 0, time.UTC)}
	f.journal = events.New(256, func() time.Time { return f.now })
	f.ov, err = overlay.New(ctx, db, f.journal, overlay.Config{Network: netip.MustParsePrefix("100.64.0.0/16"),
		DNSDomain: "ew.test", TempAccessTimeout: time.Minute, Now: func() time.Time { return f.now }})
	if err != nil {
		t.Fatal(err)
	}
	f.plane = New(f.ov, f.dev, f.filter, Config{Interface: "wg0", Journal: f.journal, Now: func() time.Time { return f.now }})
	return f
}

func (f *fixture) peer(t testing.TB, name string, groups ...string) overlay.Created {
	t.Helper()
	c, err := f.ov.CreatePeer(context.Background(), overlay.NewPeer{Name: name, Groups: groups})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func (f *fixture) sync(t *testing.T) {
	t.Helper()
	if err := f.plane.Sync(context.Background()); err != nil {
		t.Fatal(err)
	}
}

func (f *fixture) poll(t *testing.T) {
	t.Helper()
	if err := f.plane.Poll(context.Background()); err != nil {
		t.Fatal(err)
	}
}

func TestSyncIsIncremental(t *testing.T) {
	f := newFixture(t)
	a, b := f.peer(t, "a"), f.peer(t, "b")
	f.sync(t)
	if f.dev.Len() != 2 {
		t.Fatalf("device holds %d peers, want 2", f.dev.Len())
	}
	if got := devPeer(f, a.PublicKey).AllowedIPs; !slices.Equal(got, []netip.Prefix{netip.PrefixFrom(a.IP, 32)}) {
		t.Fatalf("allowed IPs of a = %v, want its overlay /32 only", got)
	}
	c := f.peer(t, "c")
	f.sync(t)
	if len(f.dev.LastSet) != 1 || f.dev.LastSet[0].PublicKey != c.PublicKey || len(f.dev.LastRemove) != 0 {
		t.Fatalf("adding c wrote set=%v remove=%v, want c alone", f.dev.LastSet, f.dev.LastRemove)
	}
	if err := f.ov.DeletePeer(context.Background(), b.ID); err != nil {
		t.Fatal(err)
	}
	f.sync(t)
	if !slices.Equal(f.dev.LastRemove, []string{b.PublicKey}) || len(f.dev.LastSet) != 0 {
		t.Fatalf("deleting b wrote set=%v remove=%v, want b removed alone", f.dev.LastSet, f.dev.LastRemove)
	}
	calls := f.dev.Calls
	f.sync(t)
	if f.dev.Calls != calls {
		t.Fatal("a sync with nothing changed wrote to the device")
	}
	// A peer waiting for approval is taken off the device.
	yes := true
	if _, err := f.ov.UpdatePeer(context.Background(), a.ID, overlay.PeerUpdate{Name: a.Name, ApprovalRequired: &yes}); err != nil {
		t.Fatal(err)
	}
	f.sync(t)
	if _, on := f.dev.Peer(a.PublicKey); on {
		t.Fatal("a peer waiting for approval is still on the device")
	}
}

func TestMembershipIsOneElement(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	devs, err := f.ov.SaveGroup(ctx, "", overlay.GroupSpec{Name: "devs"})
	if err != nil {
		t.Fatal(err)
	}
	srv, err := f.ov.SaveGroup(ctx, "", overlay.GroupSpec{Name: "servers"})
	if err != nil {
		t.Fatal(err)
	}
	a, b := f.peer(t, "a", devs.ID), f.peer(t, "b", srv.ID)
	rule, err := overlay.ParseRule("tcp/22")
	if err != nil {
		t.Fatal(err)
	}
	rule.Sources, rule.Destinations = []string{devs.ID}, []string{srv.ID}
	if _, err := f.ov.SavePolicy(ctx, "", overlay.Policy{Name: "ssh", Enabled: true, Rules: []overlay.Rule{rule}}); err != nil {
		t.Fatal(err)
	}
	f.sync(t)
	if f.filter.Installs != 1 || len(f.filter.Policy.Rules) != 1 {
		t.Fatalf("installs=%d rules=%v, want one install with one rule", f.filter.Installs, f.filter.Policy.Rules)
	}
	r := f.filter.Policy.Rules[0]
	if r.FromGroup != devs.ID || r.ToGroup != srv.ID || r.Protocol != tunnel.ProtoTCP ||
		!slices.Equal(r.Ports, []tunnel.PortRange{{First: 22, Last: 22}}) {
		t.Fatalf("rule = %+v, want devs -> servers tcp/22", r)
	}
	if !f.filter.Member(devs.ID, a.IP) || !f.filter.Member(srv.ID, b.IP) {
		t.Fatal("a or b is not in its group's set")
	}
	c := f.peer(t, "c", devs.ID)
	f.sync(t)
	if f.filter.Installs != 1 || f.filter.Applies != 1 || !f.filter.Member(devs.ID, c.IP) {
		t.Fatalf("adding c to devs: installs=%d applies=%d in set=%v, want one element applied", f.filter.Installs, f.filter.Applies, f.filter.Member(devs.ID, c.IP))
	}
	if err := f.ov.DeletePeer(ctx, c.ID); err != nil {
		t.Fatal(err)
	}
	f.sync(t)
	if f.filter.Installs != 1 || f.filter.Member(devs.ID, c.IP) {
		t.Fatalf("deleting c: installs=%d, still in set=%v", f.filter.Installs, f.filter.Member(devs.ID, c.IP))
	}
}

func TestPollConnectsAndRepairs(t *testing.T) {
	f := newFixture(t)
	a := f.peer(t, "a")
	f.sync(t)
	handshake(t, f.dev, a.PublicKey, f.now.Add(-5*time.Second), "192.0.2.7:40000", 1000)
	f.poll(t)
	p, err := f.ov.Peer(a.ID)
	if err != nil {
		t.Fatal(err)
	}
	if !p.Connected || p.Endpoint.String() != "192.0.2.7:40000" || p.RxBytes != 1000 {
		t.Fatalf("after a handshake: %+v", p.Status)
	}
	if st := f.plane.Status(); !st.Running || st.Peers != 1 || st.Connected != 1 {
		t.Fatalf("status = %+v", st)
	}
	// Traffic keeps a peer connected past the handshake's age.
	f.now = f.now.Add(170 * time.Second)
	handshake(t, f.dev, a.PublicKey, f.now.Add(-175*time.Second), "192.0.2.7:40000", 2000)
	f.poll(t)
	f.now = f.now.Add(100 * time.Second)
	f.poll(t)
	if p, _ := f.ov.Peer(a.ID); !p.Connected {
		t.Fatal("a peer with traffic 100 s ago counts as disconnected")
	}
	f.now = f.now.Add(100 * time.Second)
	f.poll(t)
	if p, _ := f.ov.Peer(a.ID); p.Connected {
		t.Fatal("a peer silent for 200 s still counts as connected")
	}
	var kinds []events.Kind
	for _, e := range f.journal.Since(0) {
		kinds = append(kinds, e.Kind)
	}
	if !slices.Contains(kinds, events.PeerConnected) || !slices.Contains(kinds, events.PeerDisconnected) ||
		!slices.Contains(kinds, events.NewPoint) {
		t.Fatalf("events %v, want connected, new point and disconnected", kinds)
	}

	// Someone removes the peer and adds a stranger with wg set.
	stranger := tunnel.Peer{PublicKey: "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=", AllowedIPs: []netip.Prefix{netip.MustParsePrefix("0.0.0.0/0")}}
	f.dev.Remove(a.PublicKey)
	f.dev.Put(tunnel.PeerStat{Peer: stranger})
	f.poll(t)
	if _, ok := f.dev.Peer(stranger.PublicKey); ok || f.dev.Len() != 1 {
		peers, _ := f.dev.Peers(context.Background())
		t.Fatalf("after repair the device holds %v", peers)
	}
	if e := f.journal.Since(0); e[len(e)-1].Kind != "reconcile_repaired" {
		t.Fatalf("last event %q, want reconcile_repaired", e[len(e)-1].Kind)
	}
}

func TestKick(t *testing.T) {
	f := newFixture(t)
	a := f.peer(t, "a")
	f.sync(t)
	handshake(t, f.dev, a.PublicKey, f.now, "192.0.2.7:40000", 10)
	f.poll(t)
	on, err := f.plane.Kick(context.Background(), a.PublicKey)
	if err != nil || !on {
		t.Fatalf("Kick = %v, %v", on, err)
	}
	if _, ok := f.dev.Peer(a.PublicKey); ok {
		t.Fatal("a kicked peer is still on the device")
	}
	if p, _ := f.ov.Peer(a.ID); p.Connected {
		t.Fatal("a kicked peer still counts as connected")
	}
	f.now = f.now.Add(DefaultKickFor - time.Second)
	f.sync(t)
	if _, ok := f.dev.Peer(a.PublicKey); ok {
		t.Fatal("a kicked peer came back before its time")
	}
	f.now = f.now.Add(time.Second)
	f.sync(t)
	if _, ok := f.dev.Peer(a.PublicKey); !ok {
		t.Fatal("a kicked peer did not come back after its time")
	}
}

func TestTemporaryAccessEndsWithItsPeer(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	target := f.peer(t, "server")
	tmp, err := f.ov.CreateTempAccess(ctx, target.ID, overlay.TempAccess{Name: "support", Rules: []string{"tcp/80"}})
	if err != nil {
		t.Fatal(err)
	}
	f.sync(t)
	want := tunnel.Rule{FromAddr: tmp.IP, ToAddr: target.IP, Protocol: tunnel.ProtoTCP, Ports: []tunnel.PortRange{{First: 80, Last: 80}}}
	if len(f.filter.Policy.Rules) != 1 || !sameRule(f.filter.Policy.Rules[0], want) {
		t.Fatalf("rules = %+v, want %+v", f.filter.Policy.Rules, want)
	}
	handshake(t, f.dev, tmp.PublicKey, f.now, "192.0.2.9:5000", 10)
	f.poll(t)
	f.now = f.now.Add(DefaultStale + time.Second)
	f.poll(t)
	if _, err := f.ov.Peer(tmp.ID); err == nil {
		t.Fatal("the temporary peer outlived its connection")
	}
	f.sync(t)
	if len(f.filter.Policy.Rules) != 0 {
		t.Fatalf("its rule is still enforced: %+v", f.filter.Policy.Rules)
	}
	if _, ok := f.dev.Peer(tmp.PublicKey); ok {
		t.Fatal("the temporary peer is still on the device")
	}
}

func devPeer(f *fixture, key string) tunnel.PeerStat {
	p, _ := f.dev.Peer(key)
	return p
}

func sameRule(a, b tunnel.Rule) bool {
	return a.FromGroup == b.FromGroup && a.FromAddr == b.FromAddr && a.ToGroup == b.ToGroup && a.ToAddr == b.ToAddr &&
		a.Protocol == b.Protocol && slices.Equal(a.Ports, b.Ports)
}
