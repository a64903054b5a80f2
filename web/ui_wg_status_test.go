package web

import (
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/edgeward/edgeward/core/dataplane"
	"github.com/edgeward/edgeward/core/overlay"
	"github.com/edgeward/edgeward/core/tunnel/tunneltest"
	"github.com/edgeward/edgeward/views/pages"
)

func TestAgo(t *testing.T) {
	now := time.Date(2026, 5, 6, 12, 0, 0, 0, time.UTC)
	tests := []struct {
		name string
		t    time.Time
		want string
	}{
		{"zero", time.Time{}, "never"},
		{"future", now.Add(3 * time.Second), "just now"},
		{"now", now, "just now"},
		{"seconds", now.Add(-42 * time.Second), "42 s ago"},
		{"two minutes", now.Add(-2*time.Minute - 59*time.Second), "2 min ago"},
		{"hours", now.Add(-5 * time.Hour), "5 h ago"},
		{"a day and a half", now.Add(-36 * time.Hour), "36 h ago"},
		{"days", now.Add(-72 * time.Hour), "3 days ago"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := ago(tt.t, now); got != tt.want {
				t.Errorf("ago = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestHumanBytes(t *testing.T) {
	tests := []struct {
		n    int64
		want string
	}{
		{-1, "0 B"},
		{0, "0 B"},
		{1023, "1023 B"},
		{1024, "1.0 KiB"},
		{1536, "1.5 KiB"},
		{20 << 20, "20.0 MiB"},
		{3 << 30, "3.0 GiB"},
		{5 << 40, "5.0 TiB"},
		{1 << 62, "4.0 EiB"},
	}
	for _, tt := range tests {
		if got := humanBytes(tt.n); got != tt.want {
			t.Errorf("humanBytes(%d) = %q, want %q", tt.n, got, tt.want)
		}
	}
}

func TestPeerConn(t *testing.T) {
	now := time.Date(2026, 5, 6, 12, 0, 0, 0, time.Local)
	ep := netip.MustParseAddrPort("198.51.100.7:41000")
	tests := []struct {
		name string
		st   overlay.Status
		want pages.PeerConn
	}{
		{"never connected", overlay.Status{},
			pages.PeerConn{Handshake: "never", LastSeen: "never", Rx: "0 B", Tx: "0 B"}},
		{"connected", overlay.Status{Connected: true, Since: now.Add(-10 * time.Minute), LastSeen: now.Add(-5 * time.Second),
			Endpoint: ep, LastHandshake: now.Add(-2 * time.Minute), RxBytes: 1536, TxBytes: 3 << 20},
			pages.PeerConn{Connected: true, Since: "2026-05-06 11:50:00", SinceAgo: "10 min ago", Handshake: "2 min ago",
				HandshakeAt: "2026-05-06 11:58:00", LastSeen: "2026-05-06 11:59:55", Endpoint: "198.51.100.7:41000",
				Rx: "1.5 KiB", Tx: "3.0 MiB"}},
		// Gone: the last endpoint stays, "since" does not.
		{"disconnected", overlay.Status{Since: now.Add(-time.Hour), LastSeen: now.Add(-4 * time.Minute), Endpoint: ep,
			LastHandshake: now.Add(-4 * time.Minute), RxBytes: 10, TxBytes: 20},
			pages.PeerConn{Handshake: "4 min ago", HandshakeAt: "2026-05-06 11:56:00", LastSeen: "2026-05-06 11:56:00",
				Endpoint: "198.51.100.7:41000", Rx: "10 B", Tx: "20 B"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if diff := cmp.Diff(tt.want, peerConn(tt.st, now)); diff != "" {
				t.Errorf("peerConn (-want +got):\n%s", diff)
			}
		})
	}
}

// TestUIPoliciesSayWhetherEnforced: the policies page claims that what no
// policy accepts is dropped only when the kernel filter runs.
func TestUIPoliciesSayWhetherEnforced(t *testing.T) {
	for _, tc := range []struct {
		name     string
		plane    func(t *testing.T, e *uiEnv)
		enforced bool
		why      string
	}{
		{"no plane", func(*testing.T, *uiEnv) {}, false, "no WireGuard data plane in this process"},
		{"no device", func(t *testing.T, e *uiEnv) {
			plane := dataplane.New(e.ov, nil, nil, dataplane.Config{Interface: "wg0", Unavailable: "no CAP_NET_ADMIN"})
			e.rebuild(func(d *Deps) { d.Plane = plane })
		}, false, "no CAP_NET_ADMIN"},
		{"no filter", func(t *testing.T, e *uiEnv) {
			plane := dataplane.New(e.ov, tunneltest.NewDevice(), nil, dataplane.Config{Interface: "wg0"})
			e.rebuild(func(d *Deps) { d.Plane = plane })
		}, false, "policies are not enforced: the kernel filter is unavailable"},
		{"enforced", func(t *testing.T, e *uiEnv) { e.runningPlane(t) }, true, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newUIEnv(t)
			tc.plane(t, e)
			b := e.browser(t)
			e.setUp(t, b)
			p := b.get("/policies")
			if got := p.has("policy-enforced"); got != tc.enforced {
				t.Errorf("claims enforcement: %v, want %v", got, tc.enforced)
			}
			if got := p.text("policy-unenforced"); !tc.enforced && !strings.Contains(got, tc.why) {
				t.Errorf("unenforced note %q, want it to say %q", got, tc.why)
			}
		})
	}
}
