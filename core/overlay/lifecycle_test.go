package overlay

import (
	"context"
	"errors"
	"net/netip"
	"testing"
	"time"

	"github.com/edgeward/edgeward/core"
	"github.com/edgeward/edgeward/core/wgkey"
	"github.com/google/go-cmp/cmp"
)

func TestUpdatePeer(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	a, b := f.peer(t, "a"), f.peer(t, "b")
	a, _ = f.svc.Peer(a.ID) // now All counts both
	ip := func(s string) *string { return &s }
	on, off := new(true), new(false)
	tests := []struct {
		name    string
		u       PeerUpdate
		wantErr error
	}{
		{"ipv6", PeerUpdate{Name: "a", IPv6: ip("fd00::5")}, core.ErrUnsupported},
		{"login expiration on", PeerUpdate{Name: "a", LoginExpirationEnabled: on}, core.ErrUnsupported},
		{"inactivity expiration on", PeerUpdate{Name: "a", InactivityExpirationEnabled: on}, core.ErrUnsupported},
		{"expiration on with a rename", PeerUpdate{Name: "renamed", SSHEnabled: true, InactivityExpirationEnabled: on}, core.ErrUnsupported},
		{"ip outside overlay", PeerUpdate{Name: "a", IP: ip("10.0.0.5")}, core.ErrInvalid},
		{"gateway ip", PeerUpdate{Name: "a", IP: ip("100.64.0.1")}, core.ErrInvalid},
		{"broadcast", PeerUpdate{Name: "a", IP: ip("100.64.0.255")}, core.ErrInvalid},
		{"not an ip", PeerUpdate{Name: "a", IP: ip("banana")}, core.ErrInvalid},
		{"ip taken", PeerUpdate{Name: "a", IP: ip(b.IP.String())}, core.ErrConflict},
		{"name taken", PeerUpdate{Name: "b"}, core.ErrConflict},
		{"empty name", PeerUpdate{Name: ""}, core.ErrInvalid},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := f.svc.UpdatePeer(ctx, a.ID, tt.u); !errors.Is(err, tt.wantErr) {
				t.Fatalf("err = %v, want %v", err, tt.wantErr)
			}
			got, _ := f.svc.Peer(a.ID)
			if diff := cmp.Diff(a, got, cmpOpts...); diff != "" {
				t.Fatalf("refused update changed the peer (-want +got):\n%s", diff)
			}
		})
	}
	// What the overlay can do is done: expiration stays off, an empty
	// IPv6 asks for nothing.
	got, err := f.svc.UpdatePeer(ctx, a.ID, PeerUpdate{Name: "Alpha One", SSHEnabled: true, IP: ip("100.64.0.77"),
		LoginExpirationEnabled: off, InactivityExpirationEnabled: off, IPv6: ip("")})
	if err != nil {
		t.Fatal(err)
	}
	if got.Name != "Alpha One" || !got.SSHEnabled || got.IP != netip.MustParseAddr("100.64.0.77") || got.FQDN != "alpha-one.ew.test" {
		t.Fatalf("updated peer = %+v", got)
	}
	if _, err := f.svc.UpdatePeer(ctx, "nope", PeerUpdate{Name: "x"}); !errors.Is(err, core.ErrNotFound) {
		t.Fatalf("unknown peer: err = %v", err)
	}
	f.restart(t)
	again, err := f.svc.Peer(a.ID)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(got, again, cmpOpts...); diff != "" {
		t.Fatalf("after restart (-want +got):\n%s", diff)
	}
}

func TestDeletePeerCleansGroupsAndPolicies(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	a, b := f.peer(t, "a"), f.peer(t, "b")
	g := f.group(t, "g", a.ID, b.ID)
	res, err := f.svc.CreateTempAccess(ctx, b.ID, TempAccess{Name: "tmp", PublicKey: key(t), Rules: []string{"tcp/22"}})
	if err != nil {
		t.Fatal(err)
	}
	var deleted []string
	f.svc.OnDelete(func(_ context.Context, id string) { deleted = append(deleted, id) })
	if err := f.svc.DeletePeer(ctx, b.ID); err != nil {
		t.Fatal(err)
	}
	// The temp peer's policy named b, so it is gone; the temp peer stays
	// until it expires.
	if n := len(f.svc.Policies()); n != 0 {
		t.Errorf("%d policies left, want 0", n)
	}
	if _, err := f.svc.Peer(res.ID); err != nil {
		t.Errorf("temp peer: %v", err)
	}
	grp, _ := f.svc.Group(g)
	if diff := cmp.Diff([]string{a.ID}, grp.Peers); diff != "" {
		t.Errorf("group members (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{b.ID}, deleted); diff != "" {
		t.Errorf("delete hooks (-want +got):\n%s", diff)
	}
	if err := f.svc.DeletePeer(ctx, b.ID); !errors.Is(err, core.ErrNotFound) {
		t.Errorf("second delete: err = %v", err)
	}
	f.restart(t)
	if _, err := f.svc.Peer(b.ID); !errors.Is(err, core.ErrNotFound) {
		t.Errorf("deleted peer back after restart: %v", err)
	}
	grp, _ = f.svc.Group(g)
	if diff := cmp.Diff([]string{a.ID}, grp.Peers); diff != "" {
		t.Errorf("group members after restart (-want +got):\n%s", diff)
	}
}

func TestTempAccess(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	target, other := f.peer(t, "target"), f.peer(t, "other")
	all := f.svc.Groups("All")[0].ID
	// Even with an All <-> All policy the temporary peer reaches only its target.
	if _, err := f.svc.SavePolicy(ctx, "", Policy{Name: "all", Enabled: true, Rules: []Rule{{Enabled: true,
		Action: "accept", Bidirectional: true, Protocol: ProtoAll, Sources: []string{all}, Destinations: []string{all}}}}); err != nil {
		t.Fatal(err)
	}
	k := key(t)
	res, err := f.svc.CreateTempAccess(ctx, target.ID, TempAccess{Name: "visitor", PublicKey: k, Rules: []string{"tcp/80", "UDP/53", "tcp/8000-8080"}})
	if err != nil {
		t.Fatal(err)
	}
	type shown struct {
		Name, PublicKey, PrivateKey string
		Ephemeral                   bool
		Rules                       []string
	}
	want := shown{Name: "visitor", PublicKey: k, Ephemeral: true, Rules: []string{"tcp/80", "UDP/53", "tcp/8000-8080"}}
	got := shown{Name: res.Name, PublicKey: res.PublicKey, PrivateKey: res.PrivateKey, Ephemeral: res.Ephemeral, Rules: res.Rules}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("result (-want +got):\n%s", diff)
	}
	if stored, err := f.svc.Peer(res.ID); err != nil || stored.IP != res.IP || !res.IP.IsValid() {
		t.Errorf("result's address %s, stored peer %+v (%v)", res.IP, stored.Peer, err)
	}
	acc, _ := f.svc.Accessible(res.ID)
	if diff := cmp.Diff([]string{"target"}, names(acc)); diff != "" {
		t.Errorf("temp peer reaches (-want +got):\n%s", diff)
	}
	if acc, _ := f.svc.Accessible(other.ID); len(acc) != 1 || acc[0].Name != "target" {
		t.Errorf("other reaches %v, want only target (the visitor is not in All)", names(acc))
	}
	// Connected, then gone: peer and policy are deleted.
	ep := netip.MustParseAddrPort("203.0.113.9:51820")
	if err := f.svc.SetConnected(ctx, k, true, ep); err != nil {
		t.Fatal(err)
	}
	p, _ := f.svc.Peer(res.ID)
	if !p.Connected || p.Endpoint != ep || !p.Ephemeral {
		t.Fatalf("status after connect = %+v", p.Status)
	}
	if err := f.svc.SetConnected(ctx, k, false, netip.AddrPort{}); err != nil {
		t.Fatal(err)
	}
	if _, err := f.svc.Peer(res.ID); !errors.Is(err, core.ErrNotFound) {
		t.Fatalf("temp peer still there after disconnect: %v", err)
	}
	if n := len(f.svc.Policies()); n != 1 {
		t.Fatalf("%d policies left, want only the All policy", n)
	}
}

// TestTempAccessGeneratedKey: without a public key the core makes the pair
// and hands the private key back once; it is stored nowhere.
func TestTempAccessGeneratedKey(t *testing.T) {
	f := newFixture(t)
	target := f.peer(t, "target")
	res, err := f.svc.CreateTempAccess(context.Background(), target.ID, TempAccess{Name: "guest", Rules: []string{"all"}})
	if err != nil {
		t.Fatal(err)
	}
	priv, err := wgkey.Parse(res.PrivateKey)
	if err != nil {
		t.Fatalf("private key %q: %v", res.PrivateKey, err)
	}
	if pub, err := wgkey.Public(priv); err != nil || pub.String() != res.PublicKey {
		t.Errorf("private key's public half %v (%v), peer's key %s", pub, err, res.PublicKey)
	}
	stored, err := f.svc.Peer(res.ID)
	if err != nil || stored.PublicKey != res.PublicKey || stored.IP != res.IP || !stored.Ephemeral {
		t.Errorf("stored peer %+v (%v), want key %s at %s", stored.Peer, err, res.PublicKey, res.IP)
	}
}

func TestTempAccessNeverConnects(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	target := f.peer(t, "target")
	res, err := f.svc.CreateTempAccess(ctx, target.ID, TempAccess{Name: "late", PublicKey: key(t), Rules: []string{"all"}})
	if err != nil {
		t.Fatal(err)
	}
	f.clock.Add(9 * time.Minute)
	if n, err := f.svc.Sweep(ctx); err != nil || n != 0 {
		t.Fatalf("sweep before deadline = %d, %v", n, err)
	}
	f.clock.Add(time.Minute)
	if n, err := f.svc.Sweep(ctx); err != nil || n != 1 {
		t.Fatalf("sweep at deadline = %d, %v", n, err)
	}
	if _, err := f.svc.Peer(res.ID); !errors.Is(err, core.ErrNotFound) {
		t.Fatalf("expired temp peer still there: %v", err)
	}
	if n := len(f.svc.Policies()); n != 0 {
		t.Fatalf("%d policies left", n)
	}
}

func TestTempAccessRefusedWritesNothing(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	target := f.peer(t, "target")
	tests := []struct {
		name    string
		target  string
		req     TempAccess
		wantErr error
		field   string
	}{
		{"bad rule after good", target.ID, TempAccess{Name: "v", PublicKey: key(t), Rules: []string{"tcp/80", "tcp/99999"}}, core.ErrInvalid, "rules[1]"},
		{"icmp with port", target.ID, TempAccess{Name: "v", PublicKey: key(t), Rules: []string{"icmp/3"}}, core.ErrInvalid, "rules[0]"},
		{"reversed range", target.ID, TempAccess{Name: "v", PublicKey: key(t), Rules: []string{"udp/90-80"}}, core.ErrInvalid, "rules[0]"},
		{"no rules", target.ID, TempAccess{Name: "v", PublicKey: key(t)}, core.ErrInvalid, "rules"},
		{"bad key", target.ID, TempAccess{Name: "v", PublicKey: "n0r3pL4c3h0ld3rK3y==", Rules: []string{"all"}}, core.ErrInvalid, "wg_pub_key"},
		{"taken key", target.ID, TempAccess{Name: "v", PublicKey: target.PublicKey, Rules: []string{"all"}}, core.ErrConflict, ""},
		{"unknown target", "nope", TempAccess{Name: "v", PublicKey: key(t), Rules: []string{"all"}}, core.ErrNotFound, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := f.svc.CreateTempAccess(ctx, tt.target, tt.req)
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("err = %v, want %v", err, tt.wantErr)
			}
			var ve *core.ValidationError
			if tt.field != "" && (!errors.As(err, &ve) || ve.Fields[0].Field != tt.field) {
				t.Fatalf("err = %v, want field %s", err, tt.field)
			}
			if n := len(f.svc.Peers(Filter{})); n != 1 {
				t.Fatalf("%d peers after a refused request, want 1", n)
			}
			if n := len(f.svc.Policies()); n != 0 {
				t.Fatalf("%d policies after a refused request", n)
			}
		})
	}
}

func TestFilter(t *testing.T) {
	f := newFixture(t)
	for _, n := range []string{"web-1", "web-2", "db-1"} {
		f.peer(t, n)
	}
	tests := []struct {
		f    Filter
		want []string
	}{
		{Filter{}, []string{"db-1", "web-1", "web-2"}},
		{Filter{Name: "web"}, []string{"web-1", "web-2"}},
		{Filter{Name: "-1"}, []string{"db-1", "web-1"}},
		{Filter{IP: "100.64.0.3"}, []string{"web-2"}},
		{Filter{IP: "100.64."}, []string{"db-1", "web-1", "web-2"}},
		{Filter{Name: "web", IP: ".4"}, []string{}},
		{Filter{Name: "nothing"}, []string{}},
	}
	for _, tt := range tests {
		if diff := cmp.Diff(tt.want, names(f.svc.Peers(tt.f))); diff != "" {
			t.Errorf("Peers(%+v) (-want +got):\n%s", tt.f, diff)
		}
	}
}
