package web

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/edgeward/edgeward/core/acl"
	"github.com/edgeward/edgeward/core/auth"
	"github.com/edgeward/edgeward/core/events"
	"github.com/edgeward/edgeward/core/jobs"
	"github.com/edgeward/edgeward/core/links"
	"github.com/edgeward/edgeward/core/netstat"
	"github.com/edgeward/edgeward/core/overlay"
	"github.com/edgeward/edgeward/core/p2pid"
	"github.com/edgeward/edgeward/core/store"
	"github.com/edgeward/edgeward/core/wgkey"
	"github.com/edgeward/edgeward/web/internal/apispec/apicheck"
	"github.com/edgeward/edgeward/web/peers"
)

// services are the core services behind the app in web tests: real ones
// over a real store in a temp dir, with no kernel firewall (enforcement
// is reported as unavailable) and the fake NIC layer of
// interfaces_fake_test.go (the real one is tested against the kernel in
// hw/nic and cmd/edgeward).
type services struct {
	db      *store.DB
	toks    *auth.Tokens
	journal *events.Journal
	ov      *overlay.Service
	acl     *acl.Service
	jobs    *jobs.Service
	kernel  *fakeKernel // nil when the links run over the real kernel
	links   *links.Service
}

// newServices builds them; nodeName is the node the interface status names.
func newServices(t testing.TB, nodeName string) services {
	t.Helper()
	k := newFakeKernel()
	s := newServicesOn(t, nodeName, k, nil)
	s.kernel = k
	return s
}

// newServicesOn builds them with the links over kernel and the ACL over fw
// (hw/nic and hw/nft in a namespace of the test's, for the page tests
// against the real kernel; a nil fw is no kernel firewall).
func newServicesOn(t testing.TB, nodeName string, kernel links.Kernel, fw acl.Firewall) services {
	t.Helper()
	ctx := context.Background()
	db, err := store.Open(ctx, store.Options{Dir: t.TempDir()}, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	s := services{db: db, journal: events.New(1024, nil)}
	if s.toks, err = auth.New(ctx, db, nil); err != nil {
		t.Fatal(err)
	}
	if s.ov, err = overlay.New(ctx, db, s.journal, overlay.Config{
		Network: netip.MustParsePrefix("100.64.0.0/16"), DNSDomain: "ew.test", TempAccessTimeout: time.Minute}); err != nil {
		t.Fatal(err)
	}
	if s.jobs, err = jobs.New(ctx, db, s.ov, jobs.Config{Dir: t.TempDir(), Minute: time.Millisecond}); err != nil {
		t.Fatal(err)
	}
	if s.acl, err = acl.New(ctx, db, fw, s.journal, acl.Config{PeersFrom: s.ov.PeersFrom}); err != nil {
		t.Fatal(err)
	}
	if fw != nil {
		if err := s.acl.Install(ctx); err != nil {
			t.Fatal(err)
		}
	}
	if s.links, err = links.New(ctx, db, kernel, s.journal, links.Config{NodeName: nodeName,
		ResolvConf: filepath.Join(t.TempDir(), "resolv.conf")}); err != nil {
		t.Fatal(err)
	}
	return s
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

func (r resp) json(t testing.TB, v any) {
	t.Helper()
	if err := json.Unmarshal(r.body, v); err != nil {
		t.Fatalf("decode %s: %v", r.body, err)
	}
}

// do sends a request with the given Authorization value (empty: none) and
// checks the response against the OpenAPI document.
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
