package overlay

import (
	"context"
	"net/netip"
	"testing"
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
	if got := f.svc.Enforcement().Endpoints[a.PublicKey]; got != ep {
		t.Fatalf("Enforcement endpoint = %v, want %v", got, ep)
	}
}
