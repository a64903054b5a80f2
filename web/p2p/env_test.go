package p2p

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

	"github.com/edgeward/edgeward/core/acl"
	"github.com/edgeward/edgeward/core/auth"
	"github.com/edgeward/edgeward/core/events"
	"github.com/edgeward/edgeward/core/netstat"
	"github.com/edgeward/edgeward/core/overlay"
	"github.com/edgeward/edgeward/core/p2pid"
	"github.com/edgeward/edgeward/core/p2pview"
	"github.com/edgeward/edgeward/core/store"
	"github.com/edgeward/edgeward/core/wgkey"
	"github.com/edgeward/edgeward/web/internal/apispec/apicheck"
	"github.com/edgeward/edgeward/web/internal/httpx"
)

// env is the dialect over real core services in a temp store, with no
// kernel firewall (enforcement is reported as unavailable) and no data
// plane: the ACL's and the overlay's rules are part of what the answers
// show, so no fake stands in for them.
type env struct {
	toks    *auth.Tokens
	journal *events.Journal
	ov      *overlay.Service
	acl     *acl.Service
	view    *p2pview.View
	app     *fiber.App
	nodeID  string
	admin   string
	viewer  string
	revoked string
}

// apiError stands in for the token middleware's refusals, which the app
// (web.New) writes in the peers dialect's shape.
type apiError struct {
	Message string `json:"message"`
	Code    int    `json:"code"`
}

func newEnv(t testing.TB) *env {
	t.Helper()
	ctx := context.Background()
	db, err := store.Open(ctx, store.Options{Dir: t.TempDir()}, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	e := &env{journal: events.New(1024, nil)}
	if e.toks, err = auth.New(ctx, db, nil); err != nil {
		t.Fatal(err)
	}
	if e.ov, err = overlay.New(ctx, db, e.journal, overlay.Config{
		Network: netip.MustParsePrefix("100.64.0.0/16"), DNSDomain: "ew.test", TempAccessTimeout: time.Minute}); err != nil {
		t.Fatal(err)
	}
	if e.acl, err = acl.New(ctx, db, nil, e.journal, acl.Config{PeersFrom: e.ov.PeersFrom}); err != nil {
		t.Fatal(err)
	}
	mk := func(name, role string) string {
		_, secret, err := e.toks.Create(ctx, name, role)
		if err != nil {
			t.Fatal(err)
		}
		return secret
	}
	e.admin, e.viewer, e.revoked = mk("admin", auth.RoleAdmin), mk("viewer", auth.RoleViewer), mk("old", auth.RoleAdmin)
	if err := e.toks.Revoke(ctx, e.tokenID(t, "old")); err != nil {
		t.Fatal(err)
	}
	stats := netstat.New(func(context.Context) ([]netstat.Link, error) {
		return []netstat.Link{{Name: "eth0", Up: true, SpeedMbps: 1000, RxBytes: 1 << 40, TxBytes: 12345}}, nil
	}, nil)
	if err := stats.Sample(ctx); err != nil {
		t.Fatal(err)
	}
	_, node, err := wgkey.Generate()
	if err != nil {
		t.Fatal(err)
	}
	e.nodeID = p2pid.FromKey(node).String()
	e.app = fiber.New(fiber.Config{Immutable: true, JSONEncoder: httpx.EncodeJSON})
	deny := func(c *fiber.Ctx, status int, msg string) error {
		return c.Status(status).JSON(apiError{Message: msg, Code: status})
	}
	guard := httpx.Guard{Log: slog.New(slog.DiscardHandler), Tokens: e.toks, Banned: e.acl.Banned}
	e.app.Use(func(c *fiber.Ctx) error { c.Set(fiber.HeaderXRequestID, "test"); return c.Next() })
	e.view = p2pview.New(e.acl, e.ov, nil)
	Mount(e.app.Group("/network", guard.Authenticate(deny)),
		Deps{ACL: e.acl, Overlay: e.ov, View: e.view, Journal: e.journal, Stats: stats, NodeID: e.nodeID})
	return e
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

// do sends a request with the given token (empty: none) and checks the
// response against the OpenAPI document.
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
