package peers

import (
	"net/netip"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/edgeward/edgeward/core/overlay"
	"github.com/edgeward/edgeward/web/internal/httpx"
)

// TestAppendPeerJSON holds the hand-written encoder byte-equal to the
// reflective encoding of peerJSON, which the OpenAPI checks cover.
func TestAppendPeerJSON(t *testing.T) {
	when := time.Date(2026, 3, 4, 5, 6, 7, 890, time.FixedZone("x", 3600))
	tests := []struct {
		name  string
		p     overlay.PeerInfo
		batch bool
	}{
		{name: "zero", p: overlay.PeerInfo{}},
		{name: "zero batch", p: overlay.PeerInfo{}, batch: true},
		{name: "full", batch: true, p: overlay.PeerInfo{
			Peer: overlay.Peer{ID: "p1", Name: "host-1", PublicKey: "k+/=", IP: netip.MustParseAddr("100.64.0.1"),
				DNSLabel: "host-1", CreatedAt: when, CreatedBy: "tok", SSHEnabled: true, LoginExpirationEnabled: true,
				InactivityExpirationEnabled: true, ApprovalRequired: true, Ephemeral: true},
			Status: overlay.Status{Connected: true, LastSeen: when.UTC(), Endpoint: netip.MustParseAddrPort("[2001:db8::1]:51820")},
			FQDN:   "host-1.edgeward.internal",
			Groups: []overlay.GroupRef{{ID: "g1", Name: "All", PeersCount: 3, ResourcesCount: 1, Issued: "api"},
				{ID: "g2", Name: "ops", Issued: "api"}},
			AccessibleCount: 42,
		}},
		{name: "escapes", p: overlay.PeerInfo{
			Peer: overlay.Peer{ID: "a\"b\\c", Name: "<b>&é\u2028\x01\n\t\x7f", CreatedBy: "\xff bad utf8",
				IP: netip.MustParseAddr("fd00::5")},
			FQDN:   "ünï.example",
			Groups: []overlay.GroupRef{{Name: "tab\there"}},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			want, err := httpx.EncodeJSON(toPeerJSON(tt.p, tt.batch))
			if err != nil {
				t.Fatal(err)
			}
			got := appendPeerJSON(nil, &tt.p, tt.batch)
			if diff := cmp.Diff(string(want), string(got)); diff != "" {
				t.Errorf("peer JSON (-want +got):\n%s", diff)
			}
		})
	}
}

// TestListPeersJSONUnchanged checks the streamed list equals the
// reflective encoding of the same peers, empty list included.
func TestListPeersJSONUnchanged(t *testing.T) {
	e := newEnv(t)
	check := func(t *testing.T, query string) {
		t.Helper()
		r := e.do(t, "GET", "/api/peers"+query, e.admin, nil)
		if r.status != 200 {
			t.Fatalf("status %d: %s", r.status, r.body)
		}
		peers := e.ov.Peers(overlay.Filter{Name: ""})
		if query != "" {
			peers = e.ov.Peers(overlay.Filter{Name: "nothing-matches"})
		}
		out := make([]peerJSON, len(peers))
		for i, p := range peers {
			out[i] = toPeerJSON(p, true)
		}
		want, err := httpx.EncodeJSON(out)
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(string(want), string(r.body)); diff != "" {
			t.Errorf("list (-want +got):\n%s", diff)
		}
		if ct := r.header.Get("Content-Type"); ct != "application/json" {
			t.Errorf("content type %q", ct)
		}
	}
	check(t, "")
	for i := range 40 {
		if _, err := e.ov.CreatePeer(t.Context(), overlay.NewPeer{Name: "host-" + string(rune('a'+i%26)) + string(rune('a'+i/26)), PublicKey: newKey(t)}); err != nil {
			t.Fatal(err)
		}
	}
	check(t, "")
	check(t, "?name=nothing-matches")
}

// TestListPeersCacheFollowsChanges changes each kind of field the list
// shows, stored (name, flags, groups, policies, created and deleted peers)
// and live (connected, endpoint, last seen), and checks the next list shows
// it and still equals the reflective encoding: the cached rows must never
// outlive what they were made from.
func TestListPeersCacheFollowsChanges(t *testing.T) {
	e := newEnv(t)
	ctx := t.Context()
	var ids []string
	var keys []string
	for _, name := range []string{"alpha", "bravo", "charlie"} {
		k := newKey(t)
		c, err := e.ov.CreatePeer(ctx, overlay.NewPeer{Name: name, PublicKey: k})
		if err != nil {
			t.Fatal(err)
		}
		ids, keys = append(ids, c.ID), append(keys, k)
	}
	list := func(t *testing.T) []peerJSON {
		t.Helper()
		r := e.do(t, "GET", "/api/peers", e.admin, nil)
		if r.status != 200 {
			t.Fatalf("status %d: %s", r.status, r.body)
		}
		peers := e.ov.Peers(overlay.Filter{})
		want := make([]peerJSON, len(peers))
		for i, p := range peers {
			want[i] = toPeerJSON(p, true)
		}
		wantJSON, err := httpx.EncodeJSON(want)
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(string(wantJSON), string(r.body)); diff != "" {
			t.Fatalf("list (-want +got):\n%s", diff)
		}
		var got []peerJSON
		r.json(t, &got)
		return got
	}
	find := func(t *testing.T, ps []peerJSON, id string) peerJSON {
		t.Helper()
		for _, p := range ps {
			if p.ID == id {
				return p
			}
		}
		t.Fatalf("peer %s not listed", id)
		return peerJSON{}
	}
	list(t) // fills the cache
	list(t) // served from it

	t.Run("stored fields", func(t *testing.T) {
		off := false
		if _, err := e.ov.UpdatePeer(ctx, ids[0], overlay.PeerUpdate{Name: "alpha-renamed", SSHEnabled: true,
			LoginExpirationEnabled: &off}); err != nil {
			t.Fatal(err)
		}
		p := find(t, list(t), ids[0])
		if p.Name != "alpha-renamed" || !p.SSHEnabled || p.LoginExpirationEnabled {
			t.Errorf("after update: %+v", p)
		}
	})
	t.Run("groups", func(t *testing.T) {
		if _, err := e.ov.SaveGroup(ctx, "", overlay.GroupSpec{Name: "ops", Peers: []string{ids[1], ids[2]}}); err != nil {
			t.Fatal(err)
		}
		p := find(t, list(t), ids[1])
		if len(p.Groups) != 2 || p.Groups[1].Name != "ops" || p.Groups[1].PeersCount != 2 {
			t.Errorf("after group: %+v", p.Groups)
		}
	})
	t.Run("policies", func(t *testing.T) {
		before := find(t, list(t), ids[1])
		ops := e.ov.Groups("ops")[0].ID
		if _, err := e.ov.SavePolicy(ctx, "", overlay.Policy{Name: "ops", Enabled: true, Rules: []overlay.Rule{{Enabled: true,
			Action: "accept", Bidirectional: true, Protocol: overlay.ProtoAll, Sources: []string{ops}, Destinations: []string{ops}}}}); err != nil {
			t.Fatal(err)
		}
		after := find(t, list(t), ids[1])
		if *after.AccessiblePeersCount != *before.AccessiblePeersCount+1 {
			t.Errorf("accessible peers %d, then %d after a policy joining two", *before.AccessiblePeersCount, *after.AccessiblePeersCount)
		}
	})
	t.Run("live", func(t *testing.T) {
		ep := netip.MustParseAddrPort("192.0.2.7:51820")
		if err := e.ov.SetConnected(ctx, keys[2], true, ep); err != nil {
			t.Fatal(err)
		}
		p := find(t, list(t), ids[2])
		if !p.Connected || p.ConnectionIP != "192.0.2.7" || p.LastSeen.IsZero() {
			t.Errorf("after connecting: connected %v ip %q last seen %v", p.Connected, p.ConnectionIP, p.LastSeen)
		}
		if err := e.ov.SetConnected(ctx, keys[2], false, netip.AddrPort{}); err != nil {
			t.Fatal(err)
		}
		if p := find(t, list(t), ids[2]); p.Connected {
			t.Error("still connected after disconnecting")
		}
	})
	t.Run("created and deleted", func(t *testing.T) {
		c, err := e.ov.CreatePeer(ctx, overlay.NewPeer{Name: "aardvark", PublicKey: newKey(t)})
		if err != nil {
			t.Fatal(err)
		}
		if got := list(t); len(got) != 4 || got[0].ID != c.ID {
			t.Errorf("after create: %d peers, first %q", len(got), got[0].Name)
		}
		if err := e.ov.DeletePeer(ctx, ids[1]); err != nil {
			t.Fatal(err)
		}
		for _, p := range list(t) {
			if p.ID == ids[1] {
				t.Error("deleted peer still listed")
			}
		}
	})
}
