package web

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"

	"github.com/edgeward/edgeward/core/auth"
	"github.com/edgeward/edgeward/views/components/when"
)

// tokenRows is the table's tokens as "name/role", in order.
func (p page) tokenRows() []string {
	var out []string
	p.doc.Find(`[data-testid="token-row"]`).Each(func(_ int, s *goquery.Selection) {
		out = append(out, strings.TrimSpace(s.Find(`[data-testid="token-name"]`).Text())+"/"+
			strings.TrimSpace(s.Find(`[data-testid="token-role"]`).Text()))
	})
	return out
}

func (e *uiEnv) adminTokenID(t *testing.T) string {
	t.Helper()
	for _, tok := range e.toks.List() {
		if tok.Role == auth.RoleAdmin {
			return tok.ID
		}
	}
	t.Fatal("no admin token")
	return ""
}

func TestUITokensList(t *testing.T) {
	e := newUIEnv(t)
	b := e.browser(t)
	e.setUp(t, b)
	if _, _, err := e.toks.Create(t.Context(), "grafana", auth.RoleViewer); err != nil {
		t.Fatal(err)
	}
	p := b.get("/settings/tokens")
	if p.status != http.StatusOK || p.text("title") != "API tokens" {
		t.Fatalf("GET /settings/tokens: status %d\n%s", p.status, p.body)
	}
	if got := strings.Join(p.tokenRows(), ","); got != "admin/admin,grafana/viewer" {
		t.Errorf("rows %q, want admin/admin,grafana/viewer", got)
	}
	adminID := e.adminTokenID(t)
	row := p.doc.Find(`[data-testid="token-row"][data-token-id="` + adminID + `"]`)
	var createdAt time.Time
	for _, tok := range e.toks.List() {
		if tok.ID == adminID {
			createdAt = tok.CreatedAt
		}
	}
	// Written in UTC; app.js shows it in the browser's time zone.
	created := row.Find(`[data-testid="token-created"] time`)
	if got, want := created.AttrOr("datetime", "")+" "+created.Text(), createdAt.UTC().Format(time.RFC3339)+" "+createdAt.UTC().Format(when.Layout); createdAt.IsZero() || got != want {
		t.Errorf("created %q, want %q", got, want)
	}
	if href, _ := row.Find(`[data-testid="token-revoke"]`).Attr("href"); href != "/settings/tokens/"+adminID+"/revoke" {
		t.Errorf("revoke link %q", href)
	}
	// Neither the secret nor its hash is ever on the page.
	for _, tok := range e.toks.List() {
		if strings.Contains(p.body, tok.Hash) {
			t.Errorf("the page shows the hash of token %s", tok.Name)
		}
	}
	if strings.Contains(p.body, e.token) || strings.Contains(p.body, "ewt_") {
		t.Error("the page shows a secret")
	}
	if got := p.doc.Find(`nav[data-testid="nav"] a[aria-current="page"]`).Text(); got != "System" {
		t.Errorf("current nav item %q, want System", got)
	}
	if got := p.doc.Find(`[data-testid="settings-nav"] a[aria-current="page"]`).Text(); got != "API tokens" {
		t.Errorf("current settings item %q, want API tokens", got)
	}
	if p.doc.Find(`[data-testid="settings-nav"] a[href="/settings/password"]`).Length() != 1 {
		t.Error("no link to the password page")
	}
}

func TestUITokensCreate(t *testing.T) {
	e := newUIEnv(t)
	b := e.browser(t)
	e.setUp(t, b)

	p := b.submit("/settings/tokens", map[string]string{"name": "backup script", "role": "admin"})
	if p.status != http.StatusOK || p.text("created-name") != "backup script" || p.text("created-role") != "admin" {
		t.Fatalf("create: status %d\n%s", p.status, p.body)
	}
	secret, _ := p.doc.Find(`[data-testid="created-secret"]`).Attr("value")
	tok, err := e.toks.Check(secret)
	if err != nil || tok.Name != "backup script" || tok.Role != auth.RoleAdmin {
		t.Fatalf("the shown secret %q checks as %+v, %v", secret, tok, err)
	}
	if !strings.Contains(p.text("created-once"), "cannot show it again") {
		t.Errorf("no warning that the secret is shown once: %q", p.text("created-once"))
	}
	if got := strings.Join(p.tokenRows(), ","); got != "admin/admin,backup script/admin" {
		t.Errorf("rows after create %q", got)
	}
	// The form starts afresh: the next token is not pre-filled.
	if v, _ := p.doc.Find(`input[data-testid="name"]`).Attr("value"); v != "" {
		t.Errorf("name field after create %q, want empty", v)
	}

	// A reload shows the token, never its secret again.
	p = b.get("/settings/tokens")
	if p.has("created") || p.has("created-secret") || strings.Contains(p.body, secret) {
		t.Errorf("the secret is shown again on GET:\n%s", p.body)
	}
	if got := strings.Join(p.tokenRows(), ","); got != "admin/admin,backup script/admin" {
		t.Errorf("rows on reload %q", got)
	}
	// The role choice defaults to the weaker one.
	if v, _ := p.doc.Find(`select[data-testid="role"] option[selected]`).Attr("value"); v != auth.RoleViewer {
		t.Errorf("default role %q, want viewer", v)
	}
}

func TestUITokensCreateRefused(t *testing.T) {
	e := newUIEnv(t)
	b := e.browser(t)
	e.setUp(t, b)
	tests := []struct {
		name      string
		fields    map[string]string
		wantField string
	}{
		{"empty name", map[string]string{"name": "", "role": "viewer"}, "name"},
		{"blank name", map[string]string{"name": "   ", "role": "viewer"}, "name"},
		{"name too long", map[string]string{"name": strings.Repeat("n", 256), "role": "viewer"}, "name"},
		{"unknown role", map[string]string{"name": "ci", "role": "root"}, "role"},
		{"no role", map[string]string{"name": "ci"}, "role"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := b.submit("/settings/tokens", tt.fields)
			if p.status != http.StatusUnprocessableEntity {
				t.Errorf("status %d, want 422", p.status)
			}
			if p.text(tt.wantField+"-error") == "" {
				t.Errorf("no %s error shown\n%s", tt.wantField, p.body)
			}
			if got := p.doc.Find(`.error`).Length(); got != 1 {
				t.Errorf("%d error messages, want 1", got)
			}
			in := p.doc.Find(`[data-testid="` + tt.wantField + `"]`)
			if inv, _ := in.Attr("aria-invalid"); inv != "true" || in.Parent().Find(".error").Length() != 1 {
				t.Errorf("the error is not next to the %s field", tt.wantField)
			}
			if p.has("created") || strings.Contains(p.body, "ewt_") {
				t.Error("a refused create shows a secret")
			}
		})
	}
	if n := e.toks.Len(); n != 1 {
		t.Errorf("%d tokens after refused creates, want 1", n)
	}
	// The name typed is kept for the next try.
	p := b.submit("/settings/tokens", map[string]string{"name": "ci", "role": "root"})
	if v, _ := p.doc.Find(`input[data-testid="name"]`).Attr("value"); v != "ci" {
		t.Errorf("name value %q not kept", v)
	}
}

func TestUITokensRevoke(t *testing.T) {
	e := newUIEnv(t)
	b := e.browser(t)
	e.setUp(t, b)
	tok, secret, err := e.toks.Create(t.Context(), "grafana", auth.RoleViewer)
	if err != nil {
		t.Fatal(err)
	}
	path := "/settings/tokens/" + tok.ID + "/revoke"

	p := b.get(path)
	if p.status != http.StatusOK || p.text("revoke-question") != "Revoke the viewer token grafana?" {
		t.Fatalf("GET %s: status %d, question %q", path, p.status, p.text("revoke-question"))
	}
	if action, _ := p.doc.Find(`[data-testid="revoke-form"]`).Attr("action"); action != path {
		t.Errorf("revoke form action %q, want %s", action, path)
	}
	if _, err := e.toks.Check(secret); err != nil {
		t.Fatalf("the confirmation page revoked the token: %v", err)
	}
	wantRedirect(t, b.submit(path, nil), "/settings/tokens")
	if _, err := e.toks.Check(secret); err == nil {
		t.Error("the token still works after the revoke")
	}
	if got := strings.Join(b.get("/settings/tokens").tokenRows(), ","); got != "admin/admin" {
		t.Errorf("rows after revoke %q", got)
	}

	// The last admin token stays, and the page says why.
	last := "/settings/tokens/" + e.adminTokenID(t) + "/revoke"
	p = b.submit(last, nil)
	if p.status != http.StatusConflict || !strings.Contains(p.text("revoke-error"), "last admin token") {
		t.Errorf("revoking the last admin token: status %d, error %q; want 409 with the reason", p.status, p.text("revoke-error"))
	}
	if strings.HasPrefix(p.text("revoke-error"), "Id:") {
		t.Errorf("error %q starts with the field name", p.text("revoke-error"))
	}
	if _, err := e.toks.Check(e.token); err != nil {
		t.Errorf("the last admin token was revoked: %v", err)
	}

	for _, tt := range []struct {
		name string
		do   func() page
	}{
		{"GET unknown", func() page { return b.get("/settings/tokens/nope/revoke") }},
		{"POST unknown", func() page { return b.submitFrom("/settings/tokens", "/settings/tokens/nope/revoke", nil) }},
		{"POST revoked", func() page { return b.submitFrom("/settings/tokens", path, nil) }},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if p := tt.do(); p.status != http.StatusNotFound || p.text("error-message") == "" {
				t.Errorf("status %d, message %q; want a 404 page", p.status, p.text("error-message"))
			}
		})
	}
}

func TestUITokensGuards(t *testing.T) {
	e := newUIEnv(t)
	b := e.browser(t)
	e.setUp(t, b)
	tok, _, err := e.toks.Create(t.Context(), "grafana", auth.RoleViewer)
	if err != nil {
		t.Fatal(err)
	}
	revoke := "/settings/tokens/" + tok.ID + "/revoke"
	for _, path := range []string{"/settings/tokens", revoke} {
		p := b.post(path, url.Values{"name": {"sneaky"}, "role": {"admin"}})
		if p.status != http.StatusForbidden || strings.Contains(p.body, "ewt_") {
			t.Errorf("POST %s without a CSRF token: status %d, want 403", path, p.status)
		}
	}
	if n := e.toks.Len(); n != 2 {
		t.Errorf("%d tokens after refused posts, want 2", n)
	}
	anon := e.browser(t)
	for _, path := range []string{"/settings/tokens", revoke} {
		wantRedirect(t, anon.get(path), "/login")
	}
	wantRedirect(t, anon.submitFrom("/login", "/settings/tokens", map[string]string{"name": "anon", "role": "admin"}), "/login")
	wantRedirect(t, anon.submitFrom("/login", revoke, nil), "/login")
	if n := e.toks.Len(); n != 2 {
		t.Errorf("%d tokens after anonymous posts, want 2", n)
	}
}
