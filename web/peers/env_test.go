package peers

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/gofiber/fiber/v2/middleware/requestid"

	"github.com/edgeward/edgeward/core/auth"
	"github.com/edgeward/edgeward/core/events"
	"github.com/edgeward/edgeward/core/jobs"
	"github.com/edgeward/edgeward/core/overlay"
	"github.com/edgeward/edgeward/core/store"
	"github.com/edgeward/edgeward/core/wgkey"
	"github.com/edgeward/edgeward/web/internal/apispec/apicheck"
	"github.com/edgeward/edgeward/web/internal/httpx"
)

// env is the dialect over real core services on a real store in a temp
// dir (no fake: the services are cheap and what the handlers must agree
// with), behind the same token check and error handler web.New puts in
// front of it.
type env struct {
	toks   *auth.Tokens
	ov     *overlay.Service
	jobs   *jobs.Service
	app    *fiber.App
	admin  string
	viewer string
}

func newEnv(t testing.TB) *env {
	t.Helper()
	ctx := context.Background()
	db, err := store.Open(ctx, store.Options{Dir: t.TempDir()}, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	e := &env{}
	if e.toks, err = auth.New(ctx, db, nil); err != nil {
		t.Fatal(err)
	}
	if e.ov, err = overlay.New(ctx, db, events.New(1024, nil), overlay.Config{
		Network: netip.MustParsePrefix("100.64.0.0/16"), DNSDomain: "ew.test", TempAccessTimeout: time.Minute}); err != nil {
		t.Fatal(err)
	}
	if e.jobs, err = jobs.New(ctx, db, e.ov, jobs.Config{Dir: t.TempDir(), Minute: time.Millisecond}); err != nil {
		t.Fatal(err)
	}
	for name, role := range map[string]string{"admin": auth.RoleAdmin, "viewer": auth.RoleViewer} {
		_, secret, err := e.toks.Create(ctx, name, role)
		if err != nil {
			t.Fatal(err)
		}
		if role == auth.RoleAdmin {
			e.admin = secret
		} else {
			e.viewer = secret
		}
	}
	e.mount(overlay.Gateway{})
	return e
}

// mount (re)builds the app with the client configs naming gw.
func (e *env) mount(gw overlay.Gateway) {
	e.app = fiber.New(fiber.Config{JSONEncoder: httpx.EncodeJSON, ErrorHandler: func(c *fiber.Ctx, err error) error {
		return WriteError(c, slog.New(slog.DiscardHandler), err)
	}})
	e.app.Use(requestid.New(requestid.Config{Header: fiber.HeaderXRequestID}))
	r := e.app.Group("/api", httpx.Guard{Log: slog.New(slog.DiscardHandler), Tokens: e.toks}.Authenticate(Deny))
	Mount(r, Deps{Peers: e.ov, Access: e.ov, Groups: e.ov, Policies: e.ov, Jobs: e.jobs, Tokens: e.toks, Gateway: gw})
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

// do sends a request with the token (empty: none) and checks the response
// against the OpenAPI document. A string body goes as it is.
func (e *env) do(t testing.TB, method, path, token string, body any) resp {
	t.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		rd = strings.NewReader(b)
	default:
		raw, err := json.Marshal(b)
		if err != nil {
			t.Fatal(err)
		}
		rd = bytes.NewReader(raw)
	}
	req := httptest.NewRequest(method, path, rd)
	if rd != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("Authorization", "Token "+token)
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

func newKey(t testing.TB) string {
	t.Helper()
	_, pub, err := wgkey.Generate()
	if err != nil {
		t.Fatal(err)
	}
	return pub.String()
}
