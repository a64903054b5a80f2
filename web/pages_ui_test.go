package web

import (
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/PuerkitoBio/goquery"

	"github.com/edgeward/edgeward/core/overlay"
	"github.com/edgeward/edgeward/web/ui"
)

func TestUISetupFlow(t *testing.T) {
	e := newUIEnv(t)
	b := e.browser(t)

	// Before setup every page leads to the setup form.
	for _, path := range []string{"/", "/login", "/settings/password"} {
		wantRedirect(t, b.get(path), "/setup")
	}
	p := b.get("/setup")
	if p.status != http.StatusOK || !p.has("setup-form") || p.csrf() == "" {
		t.Fatalf("GET /setup: status %d, form %v, csrf %q", p.status, p.has("setup-form"), p.csrf())
	}
	if p.has("nav") {
		t.Error("the setup page shows the navigation")
	}

	tests := []struct {
		name       string
		code, pw   string
		repeat     string
		wantStatus int
		wantField  string // the field whose error is shown
		wantMsg    string
	}{
		{"wrong code", "aaaa-bbbb-cccc-dddd", testPassword, testPassword, http.StatusUnauthorized, "code", "Wrong setup code."},
		{"short password", e.code, "short", "short", http.StatusUnprocessableEntity, "password", "Must be at least 10 characters."},
		{"passwords differ", e.code, testPassword, testPassword + "x", http.StatusUnprocessableEntity, "repeat", "The passwords do not match."},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := b.submit("/setup", map[string]string{"code": tt.code, "password": tt.pw, "repeat": tt.repeat})
			if p.status != tt.wantStatus {
				t.Errorf("status %d, want %d", p.status, tt.wantStatus)
			}
			if got := p.text(tt.wantField + "-error"); got != tt.wantMsg {
				t.Errorf("%s error %q, want %q", tt.wantField, got, tt.wantMsg)
			}
			if got := p.doc.Find(`.error`).Length(); got != 1 {
				t.Errorf("%d error messages, want 1", got)
			}
			if v, _ := p.doc.Find(`input[name="password"]`).Attr("value"); v != "" {
				t.Errorf("the password was echoed back: %q", v)
			}
		})
	}
	if got := e.failures(); got != 1 {
		t.Errorf("%d failures reported to OnAuthFailure, want 1 (the wrong code)", got)
	}
	if !e.admin.NeedsSetup() {
		t.Fatal("a refused setup set the password")
	}

	e.setUp(t, b)
	c := b.cookie(ui.SessionCookiePlain)
	if c == nil || c.Value == "" {
		t.Fatalf("no %s cookie after setup", ui.SessionCookiePlain)
	}
	p = b.get("/")
	if p.status != http.StatusOK || p.text("node-name") != testNodeName {
		t.Fatalf("dashboard after setup: status %d, node %q\n%s", p.status, p.text("node-name"), p.body)
	}
	wantRedirect(t, b.get("/setup"), "/")
	// The code is spent: another browser that still has the form is sent
	// to the login page.
	again := e.browser(t)
	p = again.submitFrom("/login", "/setup", map[string]string{"code": e.code, "password": "another password", "repeat": "another password"})
	wantRedirect(t, p, "/login")
}

func TestUISessionCookie(t *testing.T) {
	e := newUIEnv(t)
	b := e.browser(t)
	form := url.Values{"_csrf": {b.get("/setup").csrf()}, "code": {e.code}, "password": {testPassword}, "repeat": {testPassword}}
	p := b.post("/setup", form)
	var set string
	for _, h := range p.header.Values("Set-Cookie") {
		if strings.HasPrefix(h, ui.SessionCookiePlain+"=") {
			set = strings.ToLower(h)
		}
	}
	for _, want := range []string{"httponly", "samesite=strict", "path=/"} {
		if !strings.Contains(set, want) {
			t.Errorf("session cookie %q lacks %s", set, want)
		}
	}
	// Over plain http a Secure or __Host- cookie would be dropped.
	if strings.Contains(set, "secure") || strings.Contains(set, "expires") || strings.Contains(set, "max-age") {
		t.Errorf("session cookie %q: want a session-only cookie without Secure over http", set)
	}
}

func TestUILogin(t *testing.T) {
	e := newUIEnv(t)
	b := e.browser(t)
	e.setUp(t, b)
	wantRedirect(t, b.logout(), "/login")

	p := b.get("/login")
	if p.status != http.StatusOK || !p.has("login-form") || p.text("title") != "Log in" {
		t.Fatalf("GET /login: status %d\n%s", p.status, p.body)
	}
	p = b.submit("/login", map[string]string{"password": "not the password"})
	if p.status != http.StatusUnauthorized || p.text("password-error") != "Wrong password." {
		t.Errorf("wrong password: status %d, error %q; want 401, Wrong password.", p.status, p.text("password-error"))
	}
	if got := e.failures(); got != 1 {
		t.Errorf("%d failures reported to OnAuthFailure, want 1", got)
	}
	wantRedirect(t, b.submit("/login", map[string]string{"password": testPassword}), "/")
	if p := b.get("/"); p.status != http.StatusOK || !p.has("stats") {
		t.Errorf("dashboard after login: status %d", p.status)
	}
}

func TestUILoginRateLimit(t *testing.T) {
	e := newUIEnv(t)
	b := e.browser(t)
	e.setUp(t, b)
	token := b.get("/login").csrf()
	login := func(pw string) page {
		return b.post("/login", url.Values{"_csrf": {token}, "password": {pw}})
	}
	for i := range ui.LoginLimit {
		if p := login("wrong password"); p.status != http.StatusUnauthorized {
			t.Fatalf("attempt %d: status %d, want 401", i+1, p.status)
		}
	}
	p := login(testPassword)
	if p.status != http.StatusTooManyRequests || p.header.Get("Retry-After") == "" {
		t.Errorf("attempt %d: status %d, Retry-After %q; want 429 with Retry-After", ui.LoginLimit+1, p.status, p.header.Get("Retry-After"))
	}
	if !strings.Contains(p.text("error-message"), "Too many attempts") {
		t.Errorf("429 page says %q", p.text("error-message"))
	}
}

func TestUICSRF(t *testing.T) {
	e := newUIEnv(t)
	b := e.browser(t)
	e.setUp(t, b)
	token := b.get("/").csrf()
	if token == "" {
		t.Fatal("the dashboard has no CSRF token")
	}
	hx, _ := b.get("/").doc.Find("body").Attr("hx-headers")
	if !strings.Contains(hx, `"X-Csrf-Token":"`+token+`"`) {
		t.Errorf("body hx-headers %q does not carry the token", hx)
	}
	tests := []struct {
		name   string
		form   url.Values
		header []string
		want   int
	}{
		{"no token", url.Values{}, nil, http.StatusForbidden},
		{"wrong token", url.Values{"_csrf": {"forged"}}, nil, http.StatusForbidden},
		{"wrong header", url.Values{}, []string{"X-Csrf-Token", "forged"}, http.StatusForbidden},
		{"header", url.Values{}, []string{"X-Csrf-Token", token}, http.StatusSeeOther},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := b.post("/logout", tt.form, tt.header...)
			if p.status != tt.want {
				t.Fatalf("POST /logout: status %d, want %d", p.status, tt.want)
			}
			if tt.want == http.StatusForbidden {
				if !strings.Contains(p.text("error-message"), "Reload the page") {
					t.Errorf("403 page says %q", p.text("error-message"))
				}
				if got := b.get("/"); got.status != http.StatusOK {
					t.Errorf("a refused logout ended the session: GET / status %d", got.status)
				}
			}
		})
	}
	// A login form without its token is refused before the password is checked.
	p := b.post("/login", url.Values{"password": {testPassword}})
	if p.status != http.StatusForbidden {
		t.Errorf("POST /login without a token: status %d, want 403", p.status)
	}
}

func TestUILogout(t *testing.T) {
	e := newUIEnv(t)
	b := e.browser(t)
	e.setUp(t, b)
	stolen := *b.cookie(ui.SessionCookiePlain)
	wantRedirect(t, b.logout(), "/login")
	if c := b.cookie(ui.SessionCookiePlain); c != nil {
		t.Errorf("session cookie %q kept after logout", c.Value)
	}
	wantRedirect(t, b.get("/"), "/login")
	// The old cookie is dead on the server too.
	other := e.browser(t)
	other.jar.SetCookies(origin, []*http.Cookie{&stolen})
	wantRedirect(t, other.get("/"), "/login")
	wantRedirect(t, other.get("/settings/password"), "/login")
	// htmx requests are told where to go instead of getting a page.
	p := other.get("/", "HX-Request", "true")
	if p.status != http.StatusUnauthorized || p.header.Get("HX-Redirect") != "/login" {
		t.Errorf("htmx without a session: status %d, HX-Redirect %q", p.status, p.header.Get("HX-Redirect"))
	}
}

func TestUIDashboard(t *testing.T) {
	e := newUIEnv(t)
	b := e.browser(t)
	e.setUp(t, b)
	p := b.get("/")
	for _, tt := range []struct{ id, want string }{
		{"title", "Dashboard"},
		{"node-name", testNodeName},
		{"node-id", "node-id-test"},
		{"version", "1.2.3-test"},
		{"count-peers", "0"},
		{"count-bans", "0"},
		{"count-greylisted", "0"},
	} {
		if got := p.text(tt.id); got != tt.want {
			t.Errorf("%s = %q, want %q", tt.id, got, tt.want)
		}
	}
	enf := e.acl.Enforcement()
	if enf.Applied {
		t.Fatal("enforcement applied without a firewall")
	}
	if got := p.text("enforcement-reason"); got == "" || got != enf.Reason {
		t.Errorf("enforcement reason %q, want %q", got, enf.Reason)
	}
	if got := p.text("uptime"); !strings.HasSuffix(got, " s") && !strings.HasSuffix(got, " min") {
		t.Errorf("uptime %q", got)
	}
	if got := p.doc.Find(`nav a[aria-current="page"]`).Text(); got != "Dashboard" {
		t.Errorf("current nav item %q, want Dashboard", got)
	}
	if got := p.doc.Find(`nav a`).Map(func(_ int, s *goquery.Selection) string { return s.Text() }); !slices.Equal(got, []string{"Dashboard", "Peers", "Access", "Firewall", "Interfaces", "System"}) {
		t.Errorf("nav links %q", got)
	}
	// A peer shows up in the count.
	if _, err := e.ov.CreatePeer(t.Context(), overlay.NewPeer{Name: "laptop"}); err != nil {
		t.Fatal(err)
	}
	if got := b.get("/").text("count-peers"); got != "1" {
		t.Errorf("count-peers after a create = %q, want 1", got)
	}

	// htmx asks for the stats section alone.
	p = b.get("/", "HX-Request", "true", "HX-Target", "stats")
	if p.status != http.StatusOK || strings.Contains(p.body, "<html") || !p.has("stats") || p.text("count-peers") != "1" {
		t.Errorf("stats fragment: status %d\n%s", p.status, p.body)
	}
}

func TestUIChangePassword(t *testing.T) {
	e := newUIEnv(t)
	b := e.browser(t)
	e.setUp(t, b)
	other := e.browser(t)
	wantRedirect(t, other.submit("/login", map[string]string{"password": testPassword}), "/")

	p := b.get("/settings/password")
	if p.status != http.StatusOK || !p.has("password-form") || p.has("changed") {
		t.Fatalf("GET /settings/password: status %d\n%s", p.status, p.body)
	}
	const newPassword = "a much newer password"
	tests := []struct {
		name                 string
		current, new, repeat string
		wantStatus           int
		wantField, wantMsg   string
	}{
		{"wrong current", "nope nope nope", newPassword, newPassword, http.StatusForbidden, "current", "Wrong password."},
		{"short", testPassword, "short", "short", http.StatusUnprocessableEntity, "new", "Must be at least 10 characters."},
		{"differ", testPassword, newPassword, "other", http.StatusUnprocessableEntity, "repeat", "The passwords do not match."},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := b.submit("/settings/password", map[string]string{"current": tt.current, "new": tt.new, "repeat": tt.repeat})
			if p.status != tt.wantStatus || p.text(tt.wantField+"-error") != tt.wantMsg {
				t.Errorf("status %d, %s error %q; want %d, %q", p.status, tt.wantField, p.text(tt.wantField+"-error"), tt.wantStatus, tt.wantMsg)
			}
		})
	}
	p = b.submit("/settings/password", map[string]string{"current": testPassword, "new": newPassword, "repeat": newPassword})
	wantRedirect(t, p, "/settings/password?changed=1")
	if p := b.get("/settings/password?changed=1"); p.status != http.StatusOK || !p.has("changed") {
		t.Errorf("after the change: status %d, confirmation shown %v", p.status, p.has("changed"))
	}
	wantRedirect(t, other.get("/"), "/login")
}

func TestUIHeaders(t *testing.T) {
	e := newUIEnv(t)
	b := e.browser(t)
	p := b.get("/setup")
	if got := p.header.Get("Content-Security-Policy"); !strings.HasPrefix(got, "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:") {
		t.Errorf("CSP %q", got)
	}
	for h, want := range map[string]string{
		"Content-Type":           "text/html; charset=utf-8",
		"Cache-Control":          "no-store",
		"X-Content-Type-Options": "nosniff",
	} {
		if got := p.header.Get(h); got != want {
			t.Errorf("%s = %q, want %q", h, got, want)
		}
	}
	if p.doc.Find(`script:not([src])`).Length() > 0 || p.doc.Find(`style, [style]`).Length() > 0 {
		t.Error("the page has inline script or style, which the CSP refuses")
	}

	for path, ctype := range map[string]string{"/static/htmx.min.js": "javascript", "/static/app.css": "text/css",
		"/static/app.js": "javascript", "/static/favicon.svg": "image/svg+xml"} {
		s := b.get(path)
		if s.status != http.StatusOK || !strings.Contains(s.header.Get("Content-Type"), ctype) ||
			s.header.Get("Cache-Control") != "public, max-age=3600" {
			t.Errorf("GET %s: status %d, type %q, cache %q", path, s.status, s.header.Get("Content-Type"), s.header.Get("Cache-Control"))
		}
	}
	if p.doc.Find(`link[rel="icon"][href="/static/favicon.svg"]`).Length() != 1 || p.doc.Find(`script[src="/static/app.js"][defer]`).Length() != 1 {
		t.Error("the page links no favicon or no app.js")
	}
	if s := b.get("/static/htmx.LICENSE"); !strings.Contains(s.body, "Zero-Clause BSD") {
		t.Error("htmx license note not served")
	}

	// The API keeps its token auth and gets neither CSRF nor the CSP.
	req, _ := http.NewRequest(http.MethodPost, "/api/groups", strings.NewReader(`{"name":"g1"}`))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Token "+e.token)
	res, err := e.app.Test(req)
	if err != nil {
		t.Fatal(err)
	}
	if res.StatusCode != http.StatusOK || res.Header.Get("Content-Security-Policy") != "" {
		t.Errorf("POST /api/groups: status %d, CSP %q; want 200 without CSP", res.StatusCode, res.Header.Get("Content-Security-Policy"))
	}
}

// TestUIErrorPages checks that failures render as pages without internals.
// TestUINotFound: a page path that does not exist is an HTML page, an API
// path keeps its dialect's JSON.
func TestUINotFound(t *testing.T) {
	e := newUIEnv(t)
	b := e.browser(t)
	for _, path := range []string{"/nope", "/peers/x/y/z", "/static-nope"} {
		p := b.get(path)
		if p.status != http.StatusNotFound || !strings.HasPrefix(p.header.Get("Content-Type"), "text/html") || !p.has("title") {
			t.Errorf("GET %s: %d %q\n%s", path, p.status, p.header.Get("Content-Type"), p.body)
		}
		if strings.Contains(p.body, "goroutine") {
			t.Errorf("GET %s shows a stack trace", path)
		}
		if p.has("nav") {
			t.Errorf("GET %s before login shows the navigation", path)
		}
		// The copy button needs the script, which unhides it.
		if p.doc.Find(`button[data-copy="#request-id"][hidden]`).Length() != 1 || p.doc.Find(`time[data-local][datetime]`).Length() != 1 {
			t.Errorf("GET %s: no hidden copy button or no local time:\n%s", path, p.body)
		}
	}
	// Logged in, a 404 keeps the navigation; an expired session does not.
	e.setUp(t, b)
	p := b.get("/nope")
	if p.status != http.StatusNotFound || p.doc.Find(`nav[data-testid="nav"] a[href="/peers"]`).Length() != 1 ||
		p.doc.Find(`nav a[aria-current]`).Length() != 0 || !p.has("logout") {
		t.Errorf("GET /nope logged in: %d, without the navigation:\n%s", p.status, p.body)
	}
	if p := b.get("/peers/nope"); p.status != http.StatusNotFound || p.doc.Find(`nav a[aria-current="page"]`).Text() != "Peers" {
		t.Errorf("GET /peers/nope: %d, current section %q", p.status, p.doc.Find(`nav a[aria-current="page"]`).Text())
	}
	b.logout()
	if p := b.get("/nope"); p.status != http.StatusNotFound || p.has("nav") {
		t.Errorf("GET /nope after logout: %d, nav %v", p.status, p.has("nav"))
	}
	for _, path := range []string{"/api/nope", "/network/nope", "/v2/nope"} {
		p := b.get(path, "Authorization", "Token "+e.token)
		if p.status != http.StatusNotFound || !strings.HasPrefix(p.header.Get("Content-Type"), "application/json") {
			t.Errorf("GET %s: %d %q %s", path, p.status, p.header.Get("Content-Type"), p.body)
		}
	}
}
