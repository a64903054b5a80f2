package web

import (
	"net/http"
	"net/netip"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"
	"github.com/google/go-cmp/cmp"

	"github.com/edgeward/edgeward/core/overlay"
	"github.com/edgeward/edgeward/views/components/when"
	"github.com/edgeward/edgeward/views/pages"
	"github.com/edgeward/edgeward/web/ui"
)

// testPubKey is a valid WireGuard public key (32 bytes, base64).
const testPubKey = "xTIBA5rboUvnH4htodjb6e697QjLERt1NAB4mZqp8Dg="

func (e *uiEnv) addPeer(t *testing.T, name string) overlay.Created {
	t.Helper()
	c, err := e.ov.CreatePeer(t.Context(), overlay.NewPeer{Name: name})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// rowNames is the peer names in the page's table, in order.
func (p page) rowNames() []string {
	var out []string
	p.doc.Find(`[data-testid="peer-row"] [data-testid="peer-name"]`).Each(func(_ int, s *goquery.Selection) {
		out = append(out, strings.TrimSpace(s.Text()))
	})
	return out
}

func TestUIPeersList(t *testing.T) {
	e := newUIEnv(t)
	b := e.browser(t)
	e.setUp(t, b)
	p := b.get("/peers")
	if p.status != http.StatusOK || !p.has("no-peers") || p.text("title") != "Peers" {
		t.Fatalf("GET /peers without peers: status %d\n%s", p.status, p.body)
	}
	if got := p.doc.Find(`nav[data-testid="nav"] a[aria-current="page"]`).Text(); got != "Peers" {
		t.Errorf("current nav item %q, want Peers", got)
	}
	laptop := e.addPeer(t, "laptop")
	e.addPeer(t, "phone")

	p = b.get("/peers")
	if got := strings.Join(p.rowNames(), ","); got != "laptop,phone" {
		t.Fatalf("rows %q, want laptop,phone\n%s", got, p.body)
	}
	row := p.doc.Find(`[data-testid="peer-row"]`).First()
	for id, want := range map[string]string{
		"peer-ip":        laptop.IP.String(),
		"peer-dns":       laptop.FQDN,
		"peer-connected": "Not connected",
		"peer-handshake": "never",
		"peer-endpoint":  "",
		"peer-rx":        "0 B",
		"peer-tx":        "0 B",
		"peer-groups":    "All",
	} {
		if got := strings.TrimSpace(row.Find(`[data-testid="` + id + `"]`).Text()); got != want {
			t.Errorf("%s = %q, want %q", id, got, want)
		}
	}
	if href, _ := row.Find(`[data-testid="peer-delete"]`).Attr("href"); href != "/peers/"+laptop.ID+"/delete" {
		t.Errorf("delete link %q", href)
	}

	tests := []struct {
		name, query string
		want        string
	}{
		{"by name", "?name=pho", "phone"},
		{"by ip", "?ip=" + url.QueryEscape(laptop.IP.String()), "laptop"},
		{"no match", "?name=nothing", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// Without JavaScript: the whole page, the form keeps the values.
			p := b.get("/peers" + tt.query)
			if p.status != http.StatusOK || !strings.Contains(p.body, "<html") || !p.has("filter-form") {
				t.Fatalf("full page: status %d\n%s", p.status, p.body)
			}
			if got := strings.Join(p.rowNames(), ","); got != tt.want {
				t.Errorf("full page rows %q, want %q", got, tt.want)
			}
			q, _ := url.ParseQuery(strings.TrimPrefix(tt.query, "?"))
			if v, _ := p.doc.Find(`[data-testid="filter-name"]`).Attr("value"); v != q.Get("name") {
				t.Errorf("name filter value %q, want %q", v, q.Get("name"))
			}
			// With htmx: only the table.
			f := b.get("/peers"+tt.query, "HX-Request", "true", "HX-Target", "peers-table")
			if f.status != http.StatusOK || strings.Contains(f.body, "<html") || f.has("filter-form") || !f.has("peers-table") {
				t.Fatalf("fragment: status %d\n%s", f.status, f.body)
			}
			if got := strings.Join(f.rowNames(), ","); got != tt.want {
				t.Errorf("fragment rows %q, want %q", got, tt.want)
			}
		})
	}
}

func TestUIPeersCreate(t *testing.T) {
	e := newUIEnv(t)
	b := e.browser(t)
	e.setUp(t, b)

	p := b.submit("/peers", map[string]string{"name": "laptop"})
	if p.status != http.StatusOK || p.text("created-name") != "laptop" {
		t.Fatalf("create: status %d\n%s", p.status, p.body)
	}
	cfg := p.text("client-config")
	got := e.ov.Peers(overlay.Filter{Name: "laptop"})
	if len(got) != 1 {
		t.Fatalf("%d peers named laptop, want 1", len(got))
	}
	for _, want := range []string{"[Interface]", "PrivateKey = ", "Address = " + got[0].IP.String() + "/32"} {
		if !strings.Contains(cfg, want) {
			t.Errorf("client config lacks %q:\n%s", want, cfg)
		}
	}
	if !strings.Contains(p.text("created-once"), "will not be shown again") {
		t.Errorf("no warning that the config is shown once: %q", p.text("created-once"))
	}
	if names := strings.Join(p.rowNames(), ","); names != "laptop" {
		t.Errorf("rows after create %q", names)
	}
	// The private key is gone: a later GET shows neither it nor the config.
	priv := strings.TrimSpace(strings.SplitN(strings.SplitN(cfg, "PrivateKey = ", 2)[1], "\n", 2)[0])
	p = b.get("/peers")
	if p.has("created") || p.has("client-config") || strings.Contains(p.body, priv) {
		t.Errorf("the config is shown again on GET /peers:\n%s", p.body)
	}

	// A peer with its own key gets no config: there is no private key to show.
	p = b.submit("/peers", map[string]string{"name": "router", "wg_pub_key": testPubKey})
	if p.status != http.StatusOK || p.text("created-name") != "router" || p.has("client-config") {
		t.Errorf("create with a key: status %d, config shown %v\n%s", p.status, p.has("client-config"), p.body)
	}
}

func TestUIPeersCreateRefused(t *testing.T) {
	e := newUIEnv(t)
	b := e.browser(t)
	e.setUp(t, b)
	e.addPeer(t, "taken")
	tests := []struct {
		name       string
		fields     map[string]string
		wantStatus int
		wantField  string
	}{
		{"empty name", map[string]string{"name": ""}, http.StatusUnprocessableEntity, "name"},
		{"bad key", map[string]string{"name": "laptop", "wg_pub_key": "not-a-key"}, http.StatusUnprocessableEntity, "wg_pub_key"},
		{"name taken", map[string]string{"name": "taken"}, http.StatusConflict, "name"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := b.submit("/peers", tt.fields)
			if p.status != tt.wantStatus {
				t.Errorf("status %d, want %d", p.status, tt.wantStatus)
			}
			if p.text(tt.wantField+"-error") == "" {
				t.Errorf("no %s error shown\n%s", tt.wantField, p.body)
			}
			if got := p.doc.Find(`.error`).Length(); got != 1 {
				t.Errorf("%d error messages, want 1", got)
			}
			// The message sits in the field's own block, tied to its input.
			in := p.doc.Find(`input[data-testid="` + tt.wantField + `"]`)
			if inv, _ := in.Attr("aria-invalid"); inv != "true" || in.Parent().Find(".error").Length() != 1 {
				t.Errorf("the error is not next to the %s field", tt.wantField)
			}
			if v, _ := in.Attr("value"); v != tt.fields[tt.wantField] {
				t.Errorf("%s value %q not kept, want %q", tt.wantField, v, tt.fields[tt.wantField])
			}
			if p.has("created") {
				t.Error("a refused create shows a created peer")
			}
		})
	}
	if n := len(e.ov.Peers(overlay.Filter{})); n != 1 {
		t.Errorf("%d peers after refused creates, want 1", n)
	}
}

func TestUIPeersDelete(t *testing.T) {
	e := newUIEnv(t)
	b := e.browser(t)
	e.setUp(t, b)
	laptop := e.addPeer(t, "laptop")
	path := "/peers/" + laptop.ID + "/delete"

	p := b.get(path)
	if p.status != http.StatusOK || p.text("delete-question") != "Delete laptop?" {
		t.Fatalf("GET %s: status %d, question %q", path, p.status, p.text("delete-question"))
	}
	if action, _ := p.doc.Find(`[data-testid="delete-form"]`).Attr("action"); action != path {
		t.Errorf("delete form action %q, want %s", action, path)
	}
	if _, err := e.ov.Peer(laptop.ID); err != nil {
		t.Fatalf("the confirmation page deleted the peer: %v", err)
	}
	wantRedirect(t, b.submit(path, nil), "/peers")
	if _, err := e.ov.Peer(laptop.ID); err == nil {
		t.Error("the peer is still there after the delete")
	}
	if p := b.get("/peers"); len(p.rowNames()) != 0 {
		t.Errorf("rows after delete %q", p.rowNames())
	}

	for _, tt := range []struct {
		name string
		do   func() page
	}{
		{"GET unknown", func() page { return b.get("/peers/nope/delete") }},
		{"POST unknown", func() page { return b.submitFrom("/peers", "/peers/nope/delete", nil) }},
		{"POST deleted", func() page { return b.submitFrom("/peers", path, nil) }},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if p := tt.do(); p.status != http.StatusNotFound || p.text("error-message") == "" {
				t.Errorf("status %d, message %q; want a 404 page", p.status, p.text("error-message"))
			}
		})
	}
}

func TestUIPeersGuards(t *testing.T) {
	e := newUIEnv(t)
	b := e.browser(t)
	e.setUp(t, b)
	laptop := e.addPeer(t, "laptop")
	del := "/peers/" + laptop.ID + "/delete"

	// No CSRF token: refused before anything changes.
	for _, path := range []string{"/peers", del} {
		p := b.post(path, url.Values{"name": {"sneaky"}})
		if p.status != http.StatusForbidden {
			t.Errorf("POST %s without a CSRF token: status %d, want 403", path, p.status)
		}
	}
	if n := len(e.ov.Peers(overlay.Filter{})); n != 1 {
		t.Errorf("%d peers after refused posts, want 1", n)
	}

	// Not logged in: every peers page leads to the login page.
	anon := e.browser(t)
	for _, path := range []string{"/peers", "/peers?name=lap", del} {
		wantRedirect(t, anon.get(path), "/login")
	}
	wantRedirect(t, anon.submitFrom("/login", "/peers", map[string]string{"name": "anon"}), "/login")
	wantRedirect(t, anon.submitFrom("/login", del, nil), "/login")
	if _, err := e.ov.Peer(laptop.ID); err != nil {
		t.Errorf("an anonymous POST deleted the peer: %v", err)
	}
	p := anon.get("/peers", "HX-Request", "true", "HX-Target", "peers-table")
	if p.status != http.StatusUnauthorized || p.header.Get("HX-Redirect") != "/login" {
		t.Errorf("htmx without a session: status %d, HX-Redirect %q", p.status, p.header.Get("HX-Redirect"))
	}
}

// observe records what the data plane saw of key: connected from from,
// a handshake at hs and the tunnel's traffic.
func (e *uiEnv) observe(t *testing.T, key string, connected bool, from netip.AddrPort, hs time.Time, rx, tx int64) {
	t.Helper()
	if err := e.ov.Observe(t.Context(), []overlay.Observation{{PublicKey: key, Connected: connected, Endpoint: from,
		LastHandshake: hs, LastSeen: hs, RxBytes: rx, TxBytes: tx}}); err != nil {
		t.Fatal(err)
	}
}

// TestUIPeersStatus: each row says whether its peer is connected (in
// words), when its last handshake was, from where and how much it moved,
// and the table polls for itself in the background with the page's filter.
func TestUIPeersStatus(t *testing.T) {
	e := newUIEnv(t)
	b := e.browser(t)
	e.setUp(t, b)
	laptop := e.addPeer(t, "laptop")
	phone := e.addPeer(t, "phone")
	e.addPeer(t, "nas")
	hs := time.Now().Add(-2 * time.Minute)
	e.observe(t, laptop.PublicKey, true, netip.MustParseAddrPort("198.51.100.7:41000"), hs, 1536, 3<<20)
	// The phone was connected and is gone: its last endpoint stays.
	e.observe(t, phone.PublicKey, true, netip.MustParseAddrPort("203.0.113.9:51820"), hs, 10, 20)
	e.observe(t, phone.PublicKey, false, netip.AddrPort{}, hs, 10, 20)

	type rowFacts struct{ Name, Connected, Handshake, Endpoint, Rx, Tx string }
	facts := func(p page) []rowFacts {
		var out []rowFacts
		p.doc.Find(`[data-testid="peer-row"]`).Each(func(_ int, s *goquery.Selection) {
			f := func(id string) string { return strings.TrimSpace(s.Find(`[data-testid="` + id + `"]`).Text()) }
			out = append(out, rowFacts{f("peer-name"), f("peer-connected"), f("peer-handshake"), f("peer-endpoint"),
				f("peer-rx"), f("peer-tx")})
		})
		return out
	}
	want := []rowFacts{
		{"laptop", "Connected", "2 min ago", "198.51.100.7:41000", "1.5 KiB", "3.0 MiB"},
		{"nas", "Not connected", "never", "", "0 B", "0 B"},
		{"phone", "Not connected", "2 min ago", "203.0.113.9:51820", "10 B", "20 B"},
	}
	p := b.get("/peers")
	if diff := cmp.Diff(want, facts(p)); diff != "" {
		t.Errorf("peer rows (-want +got):\n%s", diff)
	}
	// The state is in words; the colour class only repeats it.
	badge := p.doc.Find(`[data-peer-id="` + laptop.ID + `"] [data-testid="peer-connected"]`)
	if !badge.HasClass("badge-good") || badge.HasClass("badge-muted") {
		t.Errorf("connected badge classes %q", badge.AttrOr("class", ""))
	}
	// The handshake's moment is the tooltip, in UTC for app.js to make local.
	hsAt := p.doc.Find(`[data-peer-id="` + laptop.ID + `"] [data-testid="peer-handshake"] time`)
	if got, want := hsAt.AttrOr("datetime", "")+" "+hsAt.AttrOr("title", ""), hs.UTC().Format(time.RFC3339)+" "+hs.UTC().Format(when.Layout); got != want {
		t.Errorf("handshake datetime and title %q, want %q", got, want)
	}

	// The table polls every 5 s in the background, keeping the filter.
	for _, tt := range []struct{ query, wantGet string }{
		{"", "/peers"},
		{"?name=lap", "/peers?name=lap"},
		{"?name=lap&ip=100.64", "/peers?ip=100.64&name=lap"},
	} {
		table := b.get("/peers" + tt.query).doc.Find(`section[data-testid="peers-table"]`)
		got := []string{table.AttrOr("hx-get", ""), table.AttrOr("hx-trigger", ""), table.AttrOr("hx-target", ""),
			table.AttrOr("hx-swap", ""), table.AttrOr("hx-headers", "")}
		if diff := cmp.Diff([]string{tt.wantGet, "every 5s", "this", "outerHTML", `{"X-Edgeward-Background": "1"}`}, got); diff != "" {
			t.Errorf("%s: poll attributes (-want +got):\n%s", tt.query, diff)
		}
	}

	// The poll gets the table alone, with the state as it is now.
	e.observe(t, laptop.PublicKey, false, netip.AddrPort{}, hs, 2048, 3<<20)
	f := b.get("/peers", "HX-Request", "true", "HX-Target", pages.PeersTableFragment, ui.BackgroundHeader, "1")
	if f.status != http.StatusOK || strings.Contains(f.body, "<html") || f.has("filter-form") || f.has("peer-form") {
		t.Fatalf("poll: status %d\n%s", f.status, f.body)
	}
	want[0].Connected, want[0].Rx = "Not connected", "2.0 KiB"
	if diff := cmp.Diff(want, facts(f)); diff != "" {
		t.Errorf("polled rows (-want +got):\n%s", diff)
	}
	// A poll whose session ended goes to the login page.
	anon := e.browser(t)
	if p := anon.get("/peers", "HX-Request", "true", "HX-Target", pages.PeersTableFragment, ui.BackgroundHeader, "1"); p.status != http.StatusUnauthorized ||
		p.header.Get("HX-Redirect") != "/login" {
		t.Errorf("poll without a session: status %d, HX-Redirect %q", p.status, p.header.Get("HX-Redirect"))
	}
}

// TestUIPeersKeepKey: the create form offers to keep the generated key,
// checked by default; kept, the created notice points to the peer's page
// and the overlay holds the key; unchecked, the key is shown once.
func TestUIPeersKeepKey(t *testing.T) {
	e := newUIEnv(t)
	b := e.browser(t)
	e.setUp(t, b)
	ctx := t.Context()

	box := b.get("/peers").doc.Find(`input[data-testid="keep_key"]`)
	if _, checked := box.Attr("checked"); !checked || box.AttrOr("name", "") != "keep_key" || box.AttrOr("type", "") != "checkbox" {
		t.Errorf("keep-key box: checked %v, name %q, type %q", checked, box.AttrOr("name", ""), box.AttrOr("type", ""))
	}
	if label := strings.TrimSpace(b.get("/peers").doc.Find(`label[for="keep_key"]`).Text()); label !=
		"Keep the private key on this gateway so the config can be downloaded again" {
		t.Errorf("keep-key label %q", label)
	}

	tests := []struct {
		name     string
		fields   map[string]string
		wantKept bool
		wantCfg  bool
	}{
		{"kept", map[string]string{"name": "laptop", "keep_key": "true"}, true, true},
		{"unchecked", map[string]string{"name": "phone"}, false, true},
		{"own key", map[string]string{"name": "router", "wg_pub_key": testPubKey, "keep_key": "true"}, false, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := b.submit("/peers", tt.fields)
			if p.status != http.StatusOK || p.text("created-name") != tt.fields["name"] {
				t.Fatalf("create: status %d\n%s", p.status, p.body)
			}
			pi := e.ov.Peers(overlay.Filter{Name: tt.fields["name"]})[0]
			kc, kept, err := e.ov.Kept(ctx, pi.ID)
			key := kc.PrivateKey
			if err != nil || kept != tt.wantKept {
				t.Fatalf("kept %v (%v), want %v", kept, err, tt.wantKept)
			}
			cfg := p.text("client-config")
			if (cfg != "") != tt.wantCfg || p.has("created-kept") != (tt.wantKept && tt.wantCfg) ||
				p.has("created-once") != (!tt.wantKept && tt.wantCfg) {
				t.Errorf("config shown %v, kept note %v, shown-once warning %v", cfg != "", p.has("created-kept"), p.has("created-once"))
			}
			if tt.wantKept && !strings.Contains(cfg, "PrivateKey = "+key+"\n") {
				t.Errorf("the config shown is not the kept key's:\n%s", cfg)
			}
			if href := p.doc.Find(`[data-testid="created-name"]`).AttrOr("href", ""); href != "/peers/"+pi.ID {
				t.Errorf("created peer links to %q", href)
			}
			// Download .conf beside the QR code: from the peer's route when
			// the key is kept, else from the text already in the page.
			dl := p.doc.Find(`a[data-testid="created-download"]`)
			wantHref := ""
			switch {
			case tt.wantKept:
				wantHref = "/peers/" + pi.ID + "/wg.conf"
			case tt.wantCfg:
				wantHref = "data:text/plain;charset=utf-8," + url.PathEscape(p.doc.Find(`pre#created-config`).Text())
			}
			if got := dl.AttrOr("href", ""); got != wantHref || (wantHref != "" && dl.AttrOr("download", "") != pi.DNSLabel+".conf") {
				t.Errorf("Download .conf: href %q, file %q; want %q, %s.conf", got, dl.AttrOr("download", ""), wantHref, pi.DNSLabel)
			}
			if tt.wantCfg && p.doc.Find(`button[data-copy="#created-config"]`).Length() != 1 {
				t.Error("no copy button for the configuration")
			}
		})
	}

	// A refused create keeps the box as the admin left it.
	for _, keep := range []bool{true, false} {
		fields := map[string]string{"name": ""}
		if keep {
			fields["keep_key"] = "true"
		}
		p := b.submit("/peers", fields)
		if _, checked := p.doc.Find(`input[data-testid="keep_key"]`).Attr("checked"); p.status != http.StatusUnprocessableEntity || checked != keep {
			t.Errorf("refused create with keep %v: status %d, box checked %v", keep, p.status, checked)
		}
	}
}
