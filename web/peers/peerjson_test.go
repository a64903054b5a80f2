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
