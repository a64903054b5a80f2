package web

import (
	"net/http"
	"strings"
	"testing"
)

// TestEveryRouteNeedsAToken walks the app's own route table, so a route
// added later without auth fails here.
func TestEveryRouteNeedsAToken(t *testing.T) {
	e := newEnv(t)
	routes := 0
	for _, r := range e.app.GetRoutes(true) {
		if r.Method == http.MethodHead || r.Method == "USE" || !strings.HasPrefix(r.Path, "/api") {
			continue
		}
		routes++
		path := strings.NewReplacer(":id", "x", ":job", "y", ":sum", "z", ":uuid", "w").Replace(r.Path)
		for _, tc := range []struct {
			name, header, value string
		}{
			{"none", "", ""},
			{"garbage", "Authorization", "Token nope"},
			{"revoked", "Authorization", "Token " + e.revoked},
			{"wrong scheme", "Authorization", "Basic " + e.admin},
		} {
			req, _ := http.NewRequest(r.Method, path, strings.NewReader("{}"))
			if tc.header != "" {
				req.Header.Set(tc.header, tc.value)
			}
			res, err := e.app.Test(req)
			if err != nil {
				t.Fatal(err)
			}
			if res.StatusCode != http.StatusUnauthorized {
				t.Errorf("%s %s with %s token: status %d, want 401", r.Method, path, tc.name, res.StatusCode)
			}
			if ct := res.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
				t.Errorf("%s %s: content type %q, want JSON", r.Method, path, ct)
			}
		}
		if r.Method != http.MethodGet {
			req, _ := http.NewRequest(r.Method, path, strings.NewReader("{}"))
			req.Header.Set("Authorization", "Bearer "+e.viewer)
			res, err := e.app.Test(req)
			if err != nil {
				t.Fatal(err)
			}
			if res.StatusCode != http.StatusForbidden {
				t.Errorf("%s %s with viewer token: status %d, want 403", r.Method, path, res.StatusCode)
			}
		}
	}
	if routes < 20 {
		t.Fatalf("only %d API routes found", routes)
	}
	if len(e.failed) == 0 {
		t.Error("refused tokens were not reported to OnAuthFailure")
	}
}

func TestTokenHeaders(t *testing.T) {
	e := newEnv(t)
	for _, tc := range []struct{ header, value string }{
		{"Authorization", "Token " + e.admin},
		{"Authorization", "Bearer " + e.admin},
		{"Authorization", "bearer " + e.admin},
		{"api-key", e.admin},
	} {
		req, _ := http.NewRequest(http.MethodGet, "/api/peers", nil)
		req.Header.Set(tc.header, tc.value)
		res, err := e.app.Test(req)
		if err != nil {
			t.Fatal(err)
		}
		if res.StatusCode != http.StatusOK {
			t.Errorf("%s: %s…: status %d, want 200", tc.header, tc.value[:8], res.StatusCode)
		}
	}
}
