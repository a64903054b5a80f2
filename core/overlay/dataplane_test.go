package overlay

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/edgeward/edgeward/core"
)

func TestResolveOnlyWhatTheAskerMayReach(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	devs, err := f.svc.SaveGroup(ctx, "", GroupSpec{Name: "devs"})
	if err != nil {
		t.Fatal(err)
	}
	mk := func(name string, groups ...string) Created {
		c, err := f.svc.CreatePeer(ctx, NewPeer{Name: name, Groups: groups})
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	a, b, c := mk("alpha", devs.ID), mk("beta", devs.ID), mk("gamma")
	r, err := ParseRule("tcp/22")
	if err != nil {
		t.Fatal(err)
	}
	r.Sources, r.Destinations = []string{devs.ID}, []string{devs.ID}
	if _, err := f.svc.SavePolicy(ctx, "", Policy{Name: "devs", Enabled: true, Rules: []Rule{r}}); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		from  Created
		label string
		ok    bool
	}{
		{a, b.DNSLabel, true},
		{b, a.DNSLabel, true},
		{a, a.DNSLabel, true}, // its own name
		{c, a.DNSLabel, false},
		{a, c.DNSLabel, false},
		{a, "nobody", false},
	} {
		ip, ok := f.svc.Resolve(tc.from.IP, tc.label)
		if ok != tc.ok {
			t.Errorf("%s resolving %s: ok=%v, want %v", tc.from.Name, tc.label, ok, tc.ok)
		}
		if ok && ip != f.svc.st.peers[f.svc.st.byLabel[tc.label]].IP {
			t.Errorf("%s resolving %s = %s", tc.from.Name, tc.label, ip)
		}
	}
	if ip, ok := f.svc.Resolve(f.svc.Gateway(), c.DNSLabel); !ok || ip != c.IP {
		t.Errorf("the gateway resolving %s = %s, %v", c.DNSLabel, ip, ok)
	}
}

func TestEndpointOutlivesARestart(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	a := f.peer(t, "alpha")
	b := f.peer(t, "beta")
	ep := netip.MustParseAddrPort("198.51.100.4:40000")
	err := f.svc.Observe(ctx, []Observation{{PublicKey: a.PublicKey, Connected: true, Endpoint: ep, LastSeen: f.clock.Now()}})
	if err != nil {
		t.Fatal(err)
	}
	if err := f.svc.DeletePeer(ctx, b.ID); err != nil {
		t.Fatal(err)
	}
	f.restart(t)
	p, err := f.svc.Peer(a.ID)
	if err != nil {
		t.Fatal(err)
	}
	if p.Connected || p.Endpoint != ep {
		t.Fatalf("after a restart: connected=%v endpoint=%v, want not connected at %v", p.Connected, p.Endpoint, ep)
	}
	if got := f.svc.Enforcement().Peers[a.PublicKey].Endpoint; got != ep {
		t.Fatalf("Enforcement endpoint = %v, want %v", got, ep)
	}
}

func TestGroupResourcesAndRoutes(t *testing.T) {
	f := newFixture(t) // overlay 100.64.0.0/24
	ctx := context.Background()
	pfx := netip.MustParsePrefix
	for _, tc := range []struct {
		res   []netip.Prefix
		field string
	}{
		{[]netip.Prefix{pfx("192.168.1.5/24")}, "resources[0]"},
		{[]netip.Prefix{pfx("2001:db8::/32")}, "resources[0]"},
		{[]netip.Prefix{pfx("100.64.0.128/25")}, "resources[0]"},
		{[]netip.Prefix{pfx("10.0.0.0/8"), pfx("10.0.0.0/8")}, "resources[1]"},
	} {
		_, err := f.svc.SaveGroup(ctx, "", GroupSpec{Name: "lan", Resources: tc.res})
		var ve *core.ValidationError
		if !errors.As(err, &ve) || ve.Fields[0].Field != tc.field {
			t.Errorf("resources %v: err %v, want a refusal of %s", tc.res, err, tc.field)
		}
	}
	lan, err := f.svc.SaveGroup(ctx, "", GroupSpec{Name: "lan", Resources: []netip.Prefix{pfx("192.168.1.0/24"), pfx("0.0.0.0/0")}})
	if err != nil {
		t.Fatal(err)
	}
	devs := f.group(t, "devs")
	a := f.peer(t, "alpha", devs)
	b := f.peer(t, "beta")
	r, err := ParseRule("all")
	if err != nil {
		t.Fatal(err)
	}
	r.Sources, r.Destinations = []string{devs}, []string{lan.ID}
	if _, err := f.svc.SavePolicy(ctx, "", Policy{Name: "lan", Enabled: true, Rules: []Rule{r}}); err != nil {
		t.Fatal(err)
	}
	routes, _ := f.svc.Routes(a.ID)
	if fmt.Sprint(routes) != "[0.0.0.0/0 192.168.1.0/24]" {
		t.Errorf("routes of alpha = %v", routes)
	}
	if routes, _ := f.svc.Routes(b.ID); len(routes) != 0 {
		t.Errorf("routes of beta (in no policy) = %v", routes)
	}
	if g, _ := f.svc.Group(lan.ID); g.Group.Resources[0] != pfx("192.168.1.0/24") {
		t.Errorf("group = %+v", g)
	}
	if p, _ := f.svc.Peer(a.ID); p.Groups[0].ResourcesCount != 0 {
		t.Errorf("alpha's group devs counts %d resources", p.Groups[0].ResourcesCount)
	}
}

func TestKeptKey(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	kept, err := f.svc.CreatePeer(ctx, NewPeer{Name: "phone", KeepKey: true})
	if err != nil {
		t.Fatal(err)
	}
	once, err := f.svc.CreatePeer(ctx, NewPeer{Name: "laptop"})
	if err != nil {
		t.Fatal(err)
	}
	if k, ok, err := f.svc.Kept(ctx, kept.ID); err != nil || !ok || k.PrivateKey != kept.PrivateKey ||
		k.PresharedKey != kept.PresharedKey || kept.PresharedKey == "" || k.IP != kept.IP {
		t.Fatalf("kept = %+v, %v, %v; want the generated keys", k, ok, err)
	}
	if psk := f.svc.Enforcement().Peers[kept.PublicKey].PSK; psk != kept.PresharedKey {
		t.Fatalf("device PSK %q, want the generated one", psk)
	}
	if _, ok, _ := f.svc.Kept(ctx, once.ID); ok {
		t.Fatal("a key handed out once is kept")
	}
	f.restart(t)
	if _, ok, _ := f.svc.Kept(ctx, kept.ID); !ok {
		t.Fatal("kept key lost across a restart")
	}
	if err := f.svc.ForgetKey(ctx, kept.ID); err != nil {
		t.Fatal(err)
	}
	if _, ok, _ := f.svc.Kept(ctx, kept.ID); ok {
		t.Fatal("forgotten key still kept")
	}
	k2, err := f.svc.CreatePeer(ctx, NewPeer{Name: "tablet", KeepKey: true})
	if err != nil {
		t.Fatal(err)
	}
	if err := f.svc.DeletePeer(ctx, k2.ID); err != nil {
		t.Fatal(err)
	}
	if _, ok, _ := f.svc.Kept(ctx, k2.ID); ok {
		t.Fatal("a deleted peer's key is still kept")
	}
}

// TestConnectionEventsCarryThePeerID: the /network dialect names peers by
// their P2P id in its logs, also once the peer is gone.
func TestConnectionEventsCarryThePeerID(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	a := f.peer(t, "alpha")
	ep := netip.MustParseAddrPort("198.51.100.4:40000")
	for _, up := range []bool{true, false} {
		if err := f.svc.Observe(ctx, []Observation{{PublicKey: a.PublicKey, Connected: up, Endpoint: ep, LastSeen: f.clock.Now()}}); err != nil {
			t.Fatal(err)
		}
	}
	want := PeerID(a.PublicKey)
	var got []string
	for _, e := range f.journal.Recent(10, nil) {
		got = append(got, string(e.Kind)+" "+e.Fields["peer_id"])
	}
	wantEvents := []string{"peer_created " + want, "new_point " + want, "peer_connected " + want, "peer_disconnected " + want}
	if diff := cmp.Diff(wantEvents, got); diff != "" {
		t.Errorf("events (-want +got):\n%s", diff)
	}
}
