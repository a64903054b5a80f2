package interfaces

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"sync"
	"testing"

	"github.com/gofiber/fiber/v2"

	"github.com/edgeward/edgeward/core/admin"
	"github.com/edgeward/edgeward/core/auth"
	"github.com/edgeward/edgeward/core/links"
	"github.com/edgeward/edgeward/core/links/linkstest"
	"github.com/edgeward/edgeward/core/store"
	"github.com/edgeward/edgeward/web/internal/apispec/apicheck"
	"github.com/edgeward/edgeward/web/internal/httpx"
)

// adminPassword is the admin account's password in these tests.
const adminPassword = "correct horse battery"

// env is the dialect over real core services (links, tokens, the admin
// account) on a store in a temp dir. The links run over linkstest's
// in-memory kernel, which stages what a namespace cannot (speeds, DHCP
// leases); status_kernel_linux_test.go runs them over the real kernel.
type env struct {
	app    *fiber.App
	links  *links.Service
	kernel *linkstest.Kernel
	admin  *admin.Service
	token  string // an admin API token
	viewer string // a viewer API token

	mu     sync.Mutex
	failed []string // sources reported to the guard's OnFailure
}

type envOpts struct {
	readOnly bool
	kernel   links.Kernel // nil: linkstest's
}

func newEnv(t testing.TB) *env { return newEnvWith(t, envOpts{}) }

func newEnvWith(t testing.TB, o envOpts) *env {
	t.Helper()
	ctx := context.Background()
	db, err := store.Open(ctx, store.Options{Dir: t.TempDir()}, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	e := &env{}
	if o.kernel == nil {
		e.kernel = linkstest.New()
		o.kernel = e.kernel
	}
	if e.links, err = links.New(ctx, db, o.kernel, nil, links.Config{NodeName: "edge-1", ReadOnly: o.readOnly,
		ResolvConf: filepath.Join(t.TempDir(), "resolv.conf")}); err != nil {
		t.Fatal(err)
	}
	toks, err := auth.New(ctx, db, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, e.token, err = toks.Create(ctx, "admin", auth.RoleAdmin); err != nil {
		t.Fatal(err)
	}
	if _, e.viewer, err = toks.Create(ctx, "viewer", auth.RoleViewer); err != nil {
		t.Fatal(err)
	}
	if e.admin, err = admin.New(ctx, db, nil); err != nil {
		t.Fatal(err)
	}
	code, err := e.admin.IssueSetupCode(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.admin.Setup(ctx, code, adminPassword); err != nil {
		t.Fatal(err)
	}
	e.app = fiber.New(fiber.Config{JSONEncoder: httpx.EncodeJSON})
	Mount(e.app, Deps{Links: e.links, Sessions: e.admin, Guard: httpx.Guard{Tokens: toks,
		OnFailure: func(ip string) {
			e.mu.Lock()
			defer e.mu.Unlock()
			e.failed = append(e.failed, ip)
		}}})
	return e
}

func (e *env) failures() int {
	e.mu.Lock()
	defer e.mu.Unlock()
	return len(e.failed)
}

type resp struct {
	status int
	header http.Header
	body   []byte
}

func (r resp) json(t testing.TB, v any) {
	t.Helper()
	if err := json.Unmarshal(r.body, v); err != nil {
		t.Fatalf("decode %s: %v", r.body, err)
	}
}

// send sends a request with the Authorization header auth ("" for none)
// and extra headers, and checks the answer against openapi.json.
func (e *env) send(t testing.TB, method, path, auth string, body any, hdr map[string]string) resp {
	t.Helper()
	var rd io.Reader
	if body != nil {
		raw, ok := body.(string)
		if !ok {
			b, err := json.Marshal(body)
			if err != nil {
				t.Fatal(err)
			}
			raw = string(b)
		}
		rd = bytes.NewReader([]byte(raw))
	}
	req := httptest.NewRequest(method, path, rd)
	if rd != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if auth != "" {
		req.Header.Set("Authorization", auth)
	}
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	res, err := e.app.Test(req, 10_000)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer res.Body.Close()
	raw, _ := io.ReadAll(res.Body)
	apicheck.Response(t, method, path, req.Header, res.StatusCode, res.Header, raw)
	return resp{status: res.StatusCode, header: res.Header, body: raw}
}

// doV2 sends a request with the admin API token.
func (e *env) doV2(t testing.TB, method, path string, body any, hdr map[string]string) resp {
	t.Helper()
	return e.send(t, method, path, "Token "+e.token, body, hdr)
}
