package ui

import (
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"
	"github.com/edgeward/edgeward/core"
	"github.com/edgeward/edgeward/core/events"
	"github.com/edgeward/edgeward/core/jobs"
	"github.com/edgeward/edgeward/core/links"
	"github.com/edgeward/edgeward/core/links/linkstest"
	"github.com/edgeward/edgeward/core/overlay"
	"github.com/edgeward/edgeward/core/store"
	"github.com/edgeward/edgeward/views/pages"
	"github.com/gofiber/fiber/v2"
	"github.com/google/go-cmp/cmp"
)

func TestIfaceConfirmStateFromCore(t *testing.T) {
	// The fake kernel stands in for NICs: the pages only read the
	// confirm state, which the service keeps whatever the kernel is.
	db, err := store.Open(t.Context(), store.Options{Dir: t.TempDir()}, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	svc, err := links.New(t.Context(), db, linkstest.New(), events.New(16, nil), links.Config{NodeName: "edge-test-1",
		ResolvConf: filepath.Join(t.TempDir(), "resolv.conf")})
	if err != nil {
		t.Fatal(err)
	}
	mtu := 1400
	err = svc.SetInterface(t.Context(), 1, links.InterfacePatch{MTU: &mtu}, links.WriteOpts{ConfirmWithin: time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	deadline, ok := svc.Pending(1)
	if !ok {
		t.Fatal("no change awaits confirmation")
	}
	u := &ui{d: Deps{Links: svc}}
	for _, tt := range []struct {
		name string
		now  time.Time
		want pages.IfaceConfirm
	}{
		{"before the deadline", deadline.Add(-30500 * time.Millisecond), pages.IfaceConfirm{State: "pending", Deadline: deadline, Remaining: 30}},
		{"past the deadline", deadline.Add(time.Second), pages.IfaceConfirm{State: "expired", Deadline: deadline}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if diff := cmp.Diff(tt.want, u.ifaceConfirmState(1, tt.now)); diff != "" {
				t.Errorf("confirm state (-want +got):\n%s", diff)
			}
		})
	}
}

func TestIfaceFormats(t *testing.T) {
	cidr := []struct{ addr, mask, want string }{
		{"192.168.1.1", "255.255.255.0", "192.168.1.1/24"},
		{"10.0.0.7", "255.0.0.0", "10.0.0.7/8"},
		{"10.10.0.1", "10.10.0.0/24", "10.10.0.1/24"},
		{"2001:db8::1", "2001:db8::/64", "2001:db8::1/64"},
		{"2001:db8::1", "ffff:ffff::", "2001:db8::1/32"},
		{"", "255.255.255.0", ""},
		{"10.0.0.1", "", "10.0.0.1"},
		{"10.0.0.1", "ffff:ffff::", "10.0.0.1/ffff:ffff::"},
		{"10.0.0.1", "2001:db8::/64", "10.0.0.1/2001:db8::/64"},
	}
	for _, tt := range cidr {
		if got := ifaceCIDR(tt.addr, tt.mask); got != tt.want {
			t.Errorf("ifaceCIDR(%q, %q) = %q, want %q", tt.addr, tt.mask, got, tt.want)
		}
	}
	sizes := []struct {
		n    uint64
		want string
	}{{0, "0 B"}, {1023, "1023 B"}, {1024, "1.0 KiB"}, {12345, "12.1 KiB"}, {1 << 40, "1.0 TiB"}, {1<<64 - 1, "16.0 EiB"}}
	for _, tt := range sizes {
		if got := ifaceBytes(tt.n); got != tt.want {
			t.Errorf("ifaceBytes(%d) = %q, want %q", tt.n, got, tt.want)
		}
	}
}

func TestUIPeerJobRows(t *testing.T) {
	at := time.Date(2026, 3, 4, 5, 6, 7, 0, time.UTC)
	tests := []struct {
		name         string
		job          jobs.Job
		wantStatus   string
		wantParams   string
		wantDone     bool
		wantDownload string
		wantReason   string
		wantPolls    bool
	}{
		{"pending", jobs.Job{ID: "j1", PeerID: "p1", Status: jobs.StatusPending, CreatedAt: at,
			Params: jobs.Params{LogFileCount: 10}}, "Working", "up to 640 KiB of log", false, "", "", true},
		{"succeeded", jobs.Job{ID: "j2", PeerID: "p1", Status: jobs.StatusSucceeded, CreatedAt: at, CompletedAt: at,
			UploadKey: strings.Repeat("a", 64) + "/u", Params: jobs.Params{LogFileCount: 2, BundleFor: true, BundleForTime: 3}},
			"Ready", "up to 128 KiB of log, 3 min watched", true, "/peers/p1/jobs/j2/bundle", "", false},
		{"failed", jobs.Job{ID: "j3", PeerID: "p1", Status: jobs.StatusFailed, CreatedAt: at, CompletedAt: at,
			FailedReason: "collect nft.txt: no table", Params: jobs.Params{LogFileCount: 1, Anonymize: true}},
			"Failed", "up to 64 KiB of log, anonymized", true, "", "collect nft.txt: no table", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var buf strings.Builder
			props := pages.PeerProps{Peer: pages.PeerDetail{ID: "p1"}, Jobs: []pages.JobRow{peerJobRow(tt.job)}}
			if err := pages.Peer(props).Render(t.Context(), &buf); err != nil {
				t.Fatal(err)
			}
			doc, err := goquery.NewDocumentFromReader(strings.NewReader(buf.String()))
			if err != nil {
				t.Fatal(err)
			}
			p := struct{ text func(string) string }{func(id string) string {
				return strings.TrimSpace(doc.Find(`[data-testid="` + id + `"]`).Text())
			}}
			href, _ := doc.Find(`[data-testid="job-download"]`).Attr("href")
			_, polls := doc.Find(`[data-testid="jobs"]`).Attr("hx-trigger")
			if p.text("job-status") != tt.wantStatus || p.text("job-params") != tt.wantParams ||
				(p.text("job-completed") != "") != tt.wantDone || href != tt.wantDownload ||
				p.text("job-failed-reason") != tt.wantReason || polls != tt.wantPolls {
				t.Errorf("status %q, params %q, completed %q, download %q, reason %q, polls %v",
					p.text("job-status"), p.text("job-params"), p.text("job-completed"), href, p.text("job-failed-reason"), polls)
			}
		})
	}
}

func TestUIErrorPages(t *testing.T) {
	u := &ui{d: Deps{Log: slog.New(slog.DiscardHandler)}}
	app := fiber.New()
	app.Get("/panic", u.errorsAsPages, func(*fiber.Ctx) error { panic("secret detail") })
	app.Get("/raw", u.errorsAsPages, func(*fiber.Ctx) error { return errors.New("open /secret/path: no such file") })
	app.Get("/public", u.errorsAsPages, func(*fiber.Ctx) error { return core.NotFound("no such peer") })
	for _, tt := range []struct {
		path, msg string
		status    int
	}{
		{"/panic", "Internal error.", http.StatusInternalServerError},
		{"/raw", "Internal error.", http.StatusInternalServerError},
		{"/public", "No such peer.", http.StatusNotFound},
	} {
		resp, err := app.Test(httptest.NewRequest("GET", tt.path, nil))
		if err != nil {
			t.Fatal(err)
		}
		doc, err := goquery.NewDocumentFromReader(resp.Body)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := doc.Html()
		if msg := strings.TrimSpace(doc.Find(`[data-testid="error-message"]`).Text()); resp.StatusCode != tt.status || msg != tt.msg {
			t.Errorf("GET %s: status %d, message %q; want %d, %q", tt.path, resp.StatusCode, msg, tt.status, tt.msg)
		}
		if strings.Contains(body, "secret") || strings.Contains(body, "goroutine") {
			t.Errorf("GET %s leaks internals:\n%s", tt.path, body)
		}
	}
}

func TestDuration(t *testing.T) {
	for _, tt := range []struct {
		d    string
		want string
	}{
		{"-3s", "0 s"}, {"0s", "0 s"}, {"999ms", "0 s"}, {"59s", "59 s"}, {"61s", "1 min"}, {"59m59s", "59 min"},
		{"1h", "1 h"}, {"2h5m", "2 h 5 min"}, {"23h59m59s", "23 h 59 min"}, {"24h", "1 day"}, {"25h30m", "1 day 1 h"},
		{"49h1m", "2 days 1 h"}, {"96h", "4 days"}, {"8760h", "365 days"},
	} {
		d, err := time.ParseDuration(tt.d)
		if err != nil {
			t.Fatal(err)
		}
		if got := Duration(d); got != tt.want {
			t.Errorf("Duration(%s) = %q, want %q", tt.d, got, tt.want)
		}
	}
}

func TestPlural(t *testing.T) {
	for _, tt := range []struct {
		n    int
		want string
	}{{0, "0 entries"}, {1, "1 entry"}, {2, "2 entries"}, {-1, "-1 entries"}, {1000, "1000 entries"}} {
		if got := Plural(tt.n, "entry", "entries"); got != tt.want {
			t.Errorf("Plural(%d) = %q, want %q", tt.n, got, tt.want)
		}
	}
	if got := Plural(uint64(1), "peer", "peers"); got != "1 peer" {
		t.Errorf("Plural(uint64 1) = %q", got)
	}
}

func TestSentence(t *testing.T) {
	for in, want := range map[string]string{"": "", "must be set": "Must be set.", "done.": "Done.",
		"did you mean 192.0.2.0/24?": "Did you mean 192.0.2.0/24?", "stop!": "Stop!"} {
		if got := sentence(in); got != want {
			t.Errorf("sentence(%q) = %q, want %q", in, got, want)
		}
	}
}

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
		{"a day and a half", now.Add(-36 * time.Hour), "1 day 12 h ago"},
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
			pages.PeerConn{Handshake: "never", Rx: "0 B", Tx: "0 B"}},
		{"connected", overlay.Status{Connected: true, Since: now.Add(-10 * time.Minute), LastSeen: now.Add(-5 * time.Second),
			Endpoint: ep, LastHandshake: now.Add(-2 * time.Minute), RxBytes: 1536, TxBytes: 3 << 20},
			pages.PeerConn{Connected: true, Since: now.Add(-10 * time.Minute), SinceAgo: "10 min ago", Handshake: "2 min ago",
				HandshakeAt: now.Add(-2 * time.Minute), LastSeen: now.Add(-5 * time.Second), Endpoint: "198.51.100.7:41000",
				Rx: "1.5 KiB", Tx: "3.0 MiB"}},
		// Gone: the last endpoint stays, "since" does not.
		{"disconnected", overlay.Status{Since: now.Add(-time.Hour), LastSeen: now.Add(-4 * time.Minute), Endpoint: ep,
			LastHandshake: now.Add(-4 * time.Minute), RxBytes: 10, TxBytes: 20},
			pages.PeerConn{Handshake: "4 min ago", HandshakeAt: now.Add(-4 * time.Minute), LastSeen: now.Add(-4 * time.Minute),
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

func TestUILogSize(t *testing.T) {
	for _, tt := range []struct {
		pieces int
		want   string
	}{{1, "64 KiB"}, {10, "640 KiB"}, {15, "960 KiB"}, {16, "1.0 MiB"}, {1000, "62.5 MiB"}} {
		if got := logSize(tt.pieces); got != tt.want {
			t.Errorf("logSize(%d) = %q, want %q", tt.pieces, got, tt.want)
		}
	}
}
