package web

import (
	"bytes"
	"log/slog"
	"net/http"
	"runtime"
	"strings"
	"testing"

	"github.com/valyala/fasthttp"

	"github.com/edgeward/edgeward/core/admin"
	"github.com/edgeward/edgeward/web/internal/webtest"
)

// TestAnonymousLoginCostsNoMemory: the login page's CSRF token is signed,
// not stored, so 100,000 anonymous visitors leave the heap as it was.
func TestAnonymousLoginCostsNoMemory(t *testing.T) {
	if testing.Short() {
		t.Skip("100,000 requests")
	}
	e := newUIEnv(t)
	e.setUp(t, e.browser(t))
	h := e.app.Handler()
	get := func() {
		var rc fasthttp.RequestCtx
		rc.Request.SetRequestURI("/login")
		rc.Request.Header.SetHost("edgeward.test")
		h(&rc)
		if rc.Response.StatusCode() != http.StatusOK || len(rc.Response.Header.PeekCookie("edgeward_csrf")) == 0 {
			t.Fatalf("GET /login: status %d, cookie %q", rc.Response.StatusCode(), rc.Response.Header.PeekCookie("edgeward_csrf"))
		}
	}
	for range 1000 { // warm the pools
		get()
	}
	before := heapAfterGC()
	const n = 100_000
	for range n {
		get()
	}
	after := heapAfterGC()
	grew := int64(after) - int64(before)
	t.Logf("%d anonymous GET /login: heap %d -> %d bytes (%+d)", n, before, after, grew)
	if grew > 1<<20 {
		t.Errorf("the heap grew by %d bytes over %d anonymous requests, want < 1 MiB", grew, n)
	}
}

func heapAfterGC() uint64 {
	var m runtime.MemStats
	runtime.GC()
	runtime.GC()
	runtime.ReadMemStats(&m)
	return m.HeapAlloc
}

// TestSecretsAreNotCached: every answer carrying a private key, a token
// or a backup tells caches not to keep it.
func TestSecretsAreNotCached(t *testing.T) {
	b := newBackupBox(t)
	b.setUp(t, b.browser(t))
	authz := webtest.Authz(b.token)
	do := func(method, path string, body any) webtest.Resp {
		t.Helper()
		return webtest.Do(t, b.app, method, path, authz, body, nil)
	}
	peer := do(http.MethodPost, "/api/peers", map[string]any{"name": "laptop"})
	var created struct {
		ID         string `json:"id"`
		PrivateKey string `json:"wg_private_key"`
	}
	peer.JSON(t, &created)
	if created.PrivateKey == "" {
		t.Fatalf("peer create made no key: %s", peer.Body)
	}
	tests := []struct {
		name string
		r    webtest.Resp
	}{
		{"peer create with its private key", peer},
		{"token create", do(http.MethodPost, "/api/tokens", map[string]any{"name": "ci", "role": "viewer"})},
		{"temporary access", do(http.MethodPost, "/api/peers/"+created.ID+"/temporary-access",
			map[string]any{"name": "visitor", "wg_pub_key": newKey(t), "rules": []string{"all"}})},
		{"backup download", do(http.MethodGet, "/api/system/backup", nil)},
		{"api session login", webtest.Do(t, b.app, http.MethodPost, "/v1/session/login", "",
			map[string]string{"username": admin.Username, "password": testPassword}, nil)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.r.Status != http.StatusOK {
				t.Fatalf("status %d: %s", tt.r.Status, tt.r.Body)
			}
			if got := tt.r.Header.Get("Cache-Control"); got != "no-store" {
				t.Errorf("Cache-Control %q, want no-store", got)
			}
		})
	}
}

// TestRequestIDs: a client's request id is kept only when it is a short
// safe token; anything else is replaced, never echoed into the header or
// the log.
func TestRequestIDs(t *testing.T) {
	var logged bytes.Buffer
	e := newEnv(t)
	e.app = New(Deps{Log: slog.New(slog.NewTextHandler(&logged, &slog.HandlerOptions{Level: slog.LevelDebug})),
		Tokens: e.toks, Overlay: e.ov})
	tests := []struct {
		name string
		id   string
		keep bool
	}{
		{"safe", "req-42.a_B", true},
		{"64 characters", strings.Repeat("a", 64), true},
		{"65 characters", strings.Repeat("a", 65), false},
		{"log injection", "x\" level=ERROR msg=forged", false},
		{"escape", "x%0d%0aSet-Cookie:a=b", false},
		{"non-ascii", "ïd", false},
		{"html", "<script>", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			logged.Reset()
			r := webtest.Do(t, e.app, http.MethodGet, "/api/peers", webtest.Authz(e.admin), nil,
				map[string]string{"X-Request-ID": tt.id})
			got := r.Header.Get("X-Request-ID")
			if tt.keep {
				if got != tt.id {
					t.Errorf("X-Request-ID %q, want the client's %q", got, tt.id)
				}
				return
			}
			if got == "" || strings.Contains(got, tt.id) || len(got) > 64 {
				t.Errorf("X-Request-ID %q for a client id %q, want a fresh one", got, tt.id)
			}
			if strings.Contains(logged.String(), tt.id) {
				t.Errorf("the client's id reached the log:\n%s", logged.String())
			}
			if !strings.Contains(logged.String(), "request_id="+got) {
				t.Errorf("the log lacks the fresh id %q:\n%s", got, logged.String())
			}
		})
	}
}
