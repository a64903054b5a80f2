package peers

import (
	"strings"
	"testing"
)

func TestViewerReadsButNotTokens(t *testing.T) {
	e := newEnv(t)
	if r := e.do(t, "GET", "/api/peers", e.viewer, nil); r.status != 200 {
		t.Errorf("viewer GET /api/peers: %d", r.status)
	}
	if r := e.do(t, "GET", "/api/tokens", e.viewer, nil); r.status != 403 {
		t.Errorf("viewer GET /api/tokens: %d, want 403", r.status)
	}
}

func TestTokensAPI(t *testing.T) {
	e := newEnv(t)
	r := e.do(t, "POST", "/api/tokens", e.admin, map[string]any{"name": "ci", "role": "viewer"})
	var created tokenJSON
	r.json(t, &created)
	if r.status != 200 || !strings.HasPrefix(created.Token, "ewt_") || created.Role != "viewer" {
		t.Fatalf("create token: %d %s", r.status, r.body)
	}
	if r := e.do(t, "GET", "/api/peers", created.Token, nil); r.status != 200 {
		t.Fatalf("new token refused: %d", r.status)
	}
	r = e.do(t, "GET", "/api/tokens", e.admin, nil)
	if strings.Contains(string(r.body), created.Token) || strings.Contains(string(r.body), "ewt_") {
		t.Fatalf("token list leaks a secret: %s", r.body)
	}
	if r := e.do(t, "DELETE", "/api/tokens/"+created.ID, e.admin, nil); r.status != 200 {
		t.Fatalf("revoke: %d %s", r.status, r.body)
	}
	if r := e.do(t, "GET", "/api/peers", created.Token, nil); r.status != 401 {
		t.Fatalf("revoked token: %d, want 401", r.status)
	}
	// The last admin token cannot be revoked: that would lock the API.
	var toks []tokenJSON
	e.do(t, "GET", "/api/tokens", e.admin, nil).json(t, &toks)
	for _, tok := range toks {
		if tok.Role == "admin" {
			if r := e.do(t, "DELETE", "/api/tokens/"+tok.ID, e.admin, nil); r.status != 409 {
				t.Errorf("revoke last admin: %d %s, want 409", r.status, r.body)
			}
		}
	}
}
