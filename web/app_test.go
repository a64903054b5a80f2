package web

import (
	"context"
	"net/http"
	"testing"

	"github.com/edgeward/edgeward/web/internal/webtest"

	"github.com/gofiber/fiber/v2"

	"github.com/edgeward/edgeward/core/acl"
	"github.com/edgeward/edgeward/core/auth"
	"github.com/edgeward/edgeward/core/events"
	"github.com/edgeward/edgeward/core/jobs"
	"github.com/edgeward/edgeward/core/links"
	"github.com/edgeward/edgeward/core/links/linkstest"
	"github.com/edgeward/edgeward/core/netstat"
	"github.com/edgeward/edgeward/core/overlay"
	"github.com/edgeward/edgeward/core/p2pid"
	"github.com/edgeward/edgeward/core/store"
	"github.com/edgeward/edgeward/core/wgkey"
	"github.com/edgeward/edgeward/web/peers"
)

// services are the core services behind the app in web tests: real ones
// over a real store in a temp dir, with no kernel firewall (enforcement
// is reported as unavailable) and the fake NIC layer of
// core/links/linkstest (the real one is tested against the kernel in
// hw/nic and cmd/edgeward).
type services struct {
	db      *store.DB
	toks    *auth.Tokens
	journal *events.Journal
	ov      *overlay.Service
	acl     *acl.Service
	jobs    *jobs.Service
	kernel  *linkstest.Kernel // nil when the links run over the real kernel
	links   *links.Service
}

// newServices builds them; nodeName is the node the interface status names.
func newServices(t testing.TB, nodeName string) services {
	t.Helper()
	return newServicesOn(t, nodeName, nil, nil)
}

// newServicesOn builds them with the links over kernel and the ACL over fw
// (hw/nic and hw/nft in a namespace of the test's, for the page tests
// against the real kernel; a nil fw is no kernel firewall).
func newServicesOn(t testing.TB, nodeName string, kernel links.Kernel, fw acl.Firewall) services {
	t.Helper()
	c := webtest.NewCore(t, webtest.Options{NodeName: nodeName, Kernel: kernel, Firewall: fw})
	return services{db: c.DB, toks: c.Tokens, journal: c.Journal, ov: c.Overlay, acl: c.ACL, jobs: c.Jobs,
		kernel: c.Kernel, links: c.Links}
}

// env is the JSON API over the services.
type env struct {
	services
	app     *fiber.App
	nodeID  string
	admin   string
	viewer  string
	revoked string
	failed  []string
}

func newEnv(t testing.TB) *env {
	t.Helper()
	ctx := context.Background()
	e := &env{services: newServices(t, "edge-1")}
	mk := func(name, role string) string {
		_, secret, err := e.toks.Create(ctx, name, role)
		if err != nil {
			t.Fatal(err)
		}
		return secret
	}
	e.admin, e.viewer, e.revoked = mk("admin", auth.RoleAdmin), mk("viewer", auth.RoleViewer), mk("old", auth.RoleAdmin)
	for _, tok := range e.toks.List() {
		if tok.Name == "old" {
			if err := e.toks.Revoke(ctx, tok.ID); err != nil {
				t.Fatal(err)
			}
		}
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
	e.app = New(Deps{Tokens: e.toks, Overlay: e.ov, Jobs: e.jobs, OnAuthFailure: func(ip string) { e.failed = append(e.failed, ip) },
		ACL: e.acl, Journal: e.journal, Stats: stats, NodeID: e.nodeID, Links: e.links})
	return e
}

// apiError is the error body the token check writes in front of every
// dialect (the peers dialect's shape).
type apiError = peers.Error

type resp struct {
	status int
	header http.Header
	body   []byte
}

func (r resp) json(t testing.TB, v any) { t.Helper(); webtest.Resp{Body: r.body}.JSON(t, v) }

// do sends a request with the given Authorization value (empty: none) and
// checks the response against the OpenAPI document.
func (e *env) do(t testing.TB, method, path, token string, body any) resp {
	t.Helper()
	r := webtest.Do(t, e.app, method, path, webtest.Authz(token), body, nil)
	return resp{r.Status, r.Header, r.Body}
}

func newKey(t testing.TB) string { return webtest.NewKey(t) }
