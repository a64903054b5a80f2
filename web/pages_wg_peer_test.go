package web

import (
	"io"
	"log/slog"
	"net/http"
	"net/netip"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/edgeward/edgeward/core/overlay"
	"github.com/edgeward/edgeward/views/components/when"
	"github.com/edgeward/edgeward/views/pages"
	"github.com/edgeward/edgeward/web/ui"
)

// TestUIPeerConnection: the peer's page shows its connection as the data
// plane reports it, connected since when, and the section polls for
// itself in the background and comes back alone.
func TestUIPeerConnection(t *testing.T) {
	e := newUIEnv(t)
	b := e.browser(t)
	e.setUp(t, b)
	laptop := e.addPeer(t, "laptop")
	path := "/peers/" + laptop.ID

	type connFacts struct{ Connected, Since, Handshake, LastSeen, Endpoint, Rx, Tx string }
	facts := func(p page) connFacts {
		return connFacts{p.text("peer-connected"), p.text("peer-since"), p.text("peer-handshake"), p.text("peer-last-seen"),
			p.text("peer-endpoint"), p.text("peer-rx"), p.text("peer-tx")}
	}
	p := b.get(path)
	if diff := cmp.Diff(connFacts{"Not connected", "Not connected", "never", "never", "None yet", "0 B", "0 B"}, facts(p)); diff != "" {
		t.Errorf("before any handshake (-want +got):\n%s", diff)
	}
	sec := p.doc.Find(`section[data-testid="peer-connection"]`)
	got := []string{sec.AttrOr("hx-get", ""), sec.AttrOr("hx-trigger", ""), sec.AttrOr("hx-swap", ""), sec.AttrOr("hx-headers", "")}
	if diff := cmp.Diff([]string{path, "every 5s", "outerHTML", `{"X-Edgeward-Background": "1"}`}, got); diff != "" {
		t.Errorf("poll attributes (-want +got):\n%s", diff)
	}

	hs := time.Now().Add(-2 * time.Minute)
	e.observe(t, laptop.PublicKey, true, netip.MustParseAddrPort("198.51.100.7:41000"), hs, 5<<20, 1536)
	since := e.apiPeerSince(t, laptop.ID)
	f := b.get(path, "HX-Request", "true", "HX-Target", pages.PeerConnFragment, ui.BackgroundHeader, "1")
	if f.status != http.StatusOK || strings.Contains(f.body, "<html") || f.has("peer-facts") || f.has("edit-form") {
		t.Fatalf("poll: status %d\n%s", f.status, f.body)
	}
	want := connFacts{"Connected", "just now", "2 min ago", hs.UTC().Format(when.Layout), "198.51.100.7:41000", "5.0 MiB", "1.5 KiB"}
	if got := f.text("peer-since"); regexp.MustCompile(`^[0-9]+ s ago$`).MatchString(got) {
		want.Since = got // a slow run: the connection began a second or more ago
	}
	if diff := cmp.Diff(want, facts(f)); diff != "" {
		t.Errorf("polled connection (-want +got):\n%s", diff)
	}
	if at := f.doc.Find(`[data-testid="peer-since"] time`).AttrOr("datetime", ""); at != since.UTC().Format(time.RFC3339) {
		t.Errorf("connected since %q, want %q", at, since.UTC().Format(time.RFC3339))
	}
	if diff := cmp.Diff(want, facts(b.get(path))); diff != "" {
		t.Errorf("full page connection (-want +got):\n%s", diff)
	}
	anon := e.browser(t)
	if p := anon.get(path, "HX-Request", "true", "HX-Target", pages.PeerConnFragment, ui.BackgroundHeader, "1"); p.status != http.StatusUnauthorized ||
		p.header.Get("HX-Redirect") != "/login" {
		t.Errorf("poll without a session: status %d, HX-Redirect %q", p.status, p.header.Get("HX-Redirect"))
	}
}

// apiPeerSince is when the overlay says the peer's connection began.
func (e *uiEnv) apiPeerSince(t *testing.T, id string) time.Time {
	t.Helper()
	pi, err := e.ov.Peer(id)
	if err != nil || pi.Since.IsZero() {
		t.Fatalf("peer %s: since %v (%v)", id, pi.Since, err)
	}
	return pi.Since
}

// TestUIPeerConfig: with the key kept, the peer's page offers the config
// as a download and a QR code; the download is an attachment named after
// the DNS label that holds the kept key, never cached; forgetting the key
// takes a CSRF-checked confirmation, after which the download is gone.
func TestUIPeerConfig(t *testing.T) {
	e := newUIEnv(t)
	var logs lockedBuffer
	e.rebuild(func(d *Deps) {
		withGateway(d)
		d.Log = slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	})
	b := e.browser(t)
	e.setUp(t, b)
	ctx := t.Context()
	kept, err := e.ov.CreatePeer(ctx, overlay.NewPeer{Name: "Work Laptop", KeepKey: true})
	if err != nil {
		t.Fatal(err)
	}
	once := e.addPeer(t, "phone")
	path := "/peers/" + kept.ID
	dl := path + "/wg.conf"

	p := b.get(path)
	if href := p.doc.Find(`[data-testid="config-download"]`).AttrOr("href", ""); href != dl || !p.has("config-qr") || p.has("config-shown-once") {
		t.Fatalf("kept key: download %q, qr %v, shown-once note %v\n%s", href, p.has("config-qr"), p.has("config-shown-once"), p.body)
	}
	// The key is in the page only inside the closed fold the copy button
	// copies from: nobody reads it over the admin's shoulder.
	fold := p.doc.Find(`details.fold[data-testid="config-text-fold"]`)
	if _, open := fold.Attr("open"); open || strings.Count(p.body, kept.PrivateKey) != 1 ||
		!strings.Contains(fold.Find(`pre#peer-config-text`).Text(), "PrivateKey = "+kept.PrivateKey) {
		t.Errorf("the private key is outside a closed fold (open %v, %d times in the page)", open, strings.Count(p.body, kept.PrivateKey))
	}
	if target := p.doc.Find(`[data-testid="config"] button[data-copy]`).AttrOr("data-copy", ""); target != "#peer-config-text" {
		t.Errorf("copy button copies %q, want #peer-config-text", target)
	}
	if p := b.get("/peers/" + once.ID); p.has("config-download") || p.has("config-qr") || !p.has("config-shown-once") {
		t.Errorf("key not kept: download %v, qr %v, note %v", p.has("config-download"), p.has("config-qr"), p.has("config-shown-once"))
	}

	res := getRaw(t, b, dl)
	body, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	got := []string{res.Header.Get("Content-Type"), res.Header.Get("Content-Disposition"), res.Header.Get("Cache-Control")}
	want := []string{"text/plain; charset=utf-8", `attachment; filename="` + kept.DNSLabel + `.conf"`, "no-store"}
	if res.StatusCode != http.StatusOK || kept.DNSLabel != "work-laptop" {
		t.Fatalf("download: status %d, label %q", res.StatusCode, kept.DNSLabel)
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("download headers (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(e.ov.ClientConfig(kept, overlay.Gateway{PublicKey: testGatewayKey, Endpoint: "vpn.example.test:51820",
		DNS: netip.MustParseAddr("100.64.0.1")}), string(body)); diff != "" {
		t.Errorf("downloaded config (-want +got):\n%s", diff)
	}
	for _, want := range []string{"PrivateKey = " + kept.PrivateKey + "\n", "PublicKey = " + testGatewayKey + "\n"} {
		if !strings.Contains(string(body), want) {
			t.Errorf("config lacks %q", want)
		}
	}

	// Not kept, unknown, not logged in.
	for _, u := range []string{"/peers/" + once.ID + "/wg.conf", "/peers/nope/wg.conf", "/peers/" + once.ID + "/forget-key"} {
		if p := b.get(u); p.status != http.StatusNotFound || p.text("error-message") == "" {
			t.Errorf("GET %s: status %d, want a 404 page", u, p.status)
		}
	}
	anon := e.browser(t)
	for _, u := range []string{dl, path + "/forget-key"} {
		wantRedirect(t, anon.get(u), "/login")
	}
	wantRedirect(t, anon.submitFrom("/login", path+"/forget-key", nil), "/login")

	// Forgetting: the page's button leads to a confirmation; a POST
	// without the CSRF token changes nothing.
	if action := p.doc.Find(`form[data-testid="forget-key-start"]`).AttrOr("action", ""); action != path+"/forget-key" {
		t.Errorf("forget button goes to %q", action)
	}
	confirm := b.get(path + "/forget-key")
	if confirm.status != http.StatusOK || confirm.text("forget-key-question") != "Forget the private key of Work Laptop?" ||
		confirm.doc.Find(`form[data-testid="forget-key-form"]`).AttrOr("method", "") != "post" {
		t.Fatalf("confirmation: status %d\n%s", confirm.status, confirm.body)
	}
	if p := b.post(path+"/forget-key", url.Values{}); p.status != http.StatusForbidden {
		t.Errorf("POST without a CSRF token: status %d, want 403", p.status)
	}
	if _, ok, _ := e.ov.Kept(ctx, kept.ID); !ok {
		t.Fatal("a refused POST forgot the key")
	}
	wantRedirect(t, b.submitFrom(path+"/forget-key", path+"/forget-key", nil), path+"?forgotten=1")
	if _, ok, err := e.ov.Kept(ctx, kept.ID); ok || err != nil {
		t.Errorf("after forgetting: kept %v (%v)", ok, err)
	}
	p = b.get(path + "?forgotten=1")
	if !p.has("key-forgotten") || p.has("config-download") || p.has("config-qr") || !p.has("config-shown-once") {
		t.Errorf("page after forgetting: notice %v, download %v, qr %v", p.has("key-forgotten"), p.has("config-download"), p.has("config-qr"))
	}
	if res := getRaw(t, b, dl); res.StatusCode != http.StatusNotFound {
		t.Errorf("download after forgetting: status %d", res.StatusCode)
	}
	if p := b.submitFrom(path, "/peers/nope/forget-key", nil); p.status != http.StatusNotFound {
		t.Errorf("forget for an unknown peer: status %d", p.status)
	}
	// Created, shown, downloaded and forgotten: no log line has the key.
	if b.submit("/peers", map[string]string{"name": "tablet", "keep_key": "true"}).status != http.StatusOK {
		t.Fatal("create tablet")
	}
	tablet := e.ov.Peers(overlay.Filter{Name: "tablet"})[0]
	kc, _, _ := e.ov.Kept(ctx, tablet.ID)
	key := kc.PrivateKey
	getRaw(t, b, "/peers/"+tablet.ID+"/wg.conf")
	out := logs.String()
	if !strings.Contains(out, "peer config downloaded") || !strings.Contains(out, "peer key forgotten") {
		t.Errorf("the log lacks the download or the forgetting:\n%s", out)
	}
	for _, k := range []string{kept.PrivateKey, key} {
		if k == "" || strings.Contains(out, k) {
			t.Errorf("a log line holds the private key %q", k)
		}
	}
}

// lockedBuffer is a log sink safe for the handlers' goroutines.
type lockedBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}
