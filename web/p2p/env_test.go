package p2p

import (
	"context"
	"log/slog"
	"net/http"
	"testing"

	"github.com/edgeward/edgeward/web/internal/webtest"

	"github.com/gofiber/fiber/v2"

	"github.com/edgeward/edgeward/core/acl"
	"github.com/edgeward/edgeward/core/auth"
	"github.com/edgeward/edgeward/core/events"
	"github.com/edgeward/edgeward/core/netstat"
	"github.com/edgeward/edgeward/core/overlay"
	"github.com/edgeward/edgeward/core/p2pid"
	"github.com/edgeward/edgeward/core/p2pview"
	"github.com/edgeward/edgeward/core/wgkey"
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
	c := webtest.NewCore(t, webtest.Options{})
	e := &env{toks: c.Tokens, journal: c.Journal, ov: c.Overlay, acl: c.ACL,
		admin: c.Token(t, "admin", auth.RoleAdmin), viewer: c.Token(t, "viewer", auth.RoleViewer),
		revoked: c.RevokedToken(t, "old")}
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

func (r resp) json(t testing.TB, v any) { t.Helper(); webtest.Resp{Body: r.body}.JSON(t, v) }

// do sends a request with the given token (empty: none) and checks the
// response against the OpenAPI document.
func (e *env) do(t testing.TB, method, path, token string, body any) resp {
	t.Helper()
	r := webtest.Do(t, e.app, method, path, webtest.Authz(token), body, nil)
	return resp{r.Status, r.Header, r.Body}
}

func newKey(t testing.TB) string { return webtest.NewKey(t) }
