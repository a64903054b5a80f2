package web

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/PuerkitoBio/goquery"

	"github.com/edgeward/edgeward/core/overlay"
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
		"peer-connected": "no",
		"peer-last-seen": "never",
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
