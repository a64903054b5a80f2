package peers

import (
	"log/slog"
	"net/http"
	"testing"

	"github.com/edgeward/edgeward/web/internal/webtest"

	"github.com/gofiber/fiber/v2"
	"github.com/gofiber/fiber/v2/middleware/requestid"

	"github.com/edgeward/edgeward/core/auth"
	"github.com/edgeward/edgeward/core/jobs"
	"github.com/edgeward/edgeward/core/overlay"
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
	c := webtest.NewCore(t, webtest.Options{})
	e := &env{toks: c.Tokens, ov: c.Overlay, jobs: c.Jobs,
		admin: c.Token(t, "admin", auth.RoleAdmin), viewer: c.Token(t, "viewer", auth.RoleViewer)}
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

func (r resp) json(t testing.TB, v any) { t.Helper(); webtest.Resp{Body: r.body}.JSON(t, v) }

// do sends a request with the token (empty: none) and checks the response
// against the OpenAPI document. A string body goes as it is.
func (e *env) do(t testing.TB, method, path, token string, body any) resp {
	t.Helper()
	r := webtest.Do(t, e.app, method, path, webtest.Authz(token), body, nil)
	return resp{r.Status, r.Header, r.Body}
}

func newKey(t testing.TB) string { return webtest.NewKey(t) }
