package interfaces

import (
	"context"
	"net/http"
	"sync"
	"testing"

	"github.com/edgeward/edgeward/web/internal/webtest"

	"github.com/gofiber/fiber/v2"

	"github.com/edgeward/edgeward/core/admin"
	"github.com/edgeward/edgeward/core/auth"
	"github.com/edgeward/edgeward/core/links"
	"github.com/edgeward/edgeward/core/links/linkstest"
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
	c := webtest.NewCore(t, webtest.Options{Kernel: o.kernel, ReadOnlyLinks: o.readOnly})
	e := &env{links: c.Links, kernel: c.Kernel,
		token: c.Token(t, "admin", auth.RoleAdmin), viewer: c.Token(t, "viewer", auth.RoleViewer)}
	toks, db := c.Tokens, c.DB
	var err error
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

func (r resp) json(t testing.TB, v any) { t.Helper(); webtest.Resp{Body: r.body}.JSON(t, v) }

// send sends a request with the Authorization header auth ("" for none)
// and extra headers, and checks the answer against openapi.json.
func (e *env) send(t testing.TB, method, path, auth string, body any, hdr map[string]string) resp {
	t.Helper()
	r := webtest.Do(t, e.app, method, path, auth, body, hdr)
	return resp{r.Status, r.Header, r.Body}
}

// doV2 sends a request with the admin API token.
func (e *env) doV2(t testing.TB, method, path string, body any, hdr map[string]string) resp {
	t.Helper()
	return e.send(t, method, path, "Token "+e.token, body, hdr)
}
