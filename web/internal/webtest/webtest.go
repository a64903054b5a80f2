// Package webtest builds what the web layer's tests run on: real core
// services over a real store in a temp dir, and requests whose answers are
// checked against the OpenAPI document. Only tests import it.
package webtest

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
	"github.com/edgeward/edgeward/core/links/linkstest"
	"github.com/edgeward/edgeward/core/overlay"
	"github.com/edgeward/edgeward/core/store"
	"github.com/edgeward/edgeward/core/wgkey"
	"github.com/edgeward/edgeward/web/internal/apispec/apicheck"
)

// Core is every core service the web layer calls, real, over one store.
type Core struct {
	DB      *store.DB
	Tokens  *auth.Tokens
	Journal *events.Journal
	Overlay *overlay.Service
	ACL     *acl.Service
	Jobs    *jobs.Service
	Links   *links.Service
	// Kernel is the in-memory NIC layer the links run over, nil when a
	// test gave its own (the real one is tested against the kernel in
	// hw/nic and in namespaces).
	Kernel *linkstest.Kernel
}

// Options change what NewCore builds.
type Options struct {
	// NodeName is the node the interface status names; "edge-1" if empty.
	NodeName string
	// Kernel is the NIC layer under the links; nil is linkstest's.
	Kernel links.Kernel
	// Firewall is the ACL's kernel firewall, installed at once; nil is
	// none (enforcement is reported as unavailable).
	Firewall acl.Firewall
	// ReadOnlyLinks serves the links as without --manage-links.
	ReadOnlyLinks bool
	// StoreDir is where the store is opened (a restored one, say); a new
	// temp dir if empty.
	StoreDir string
}

// NewCore builds the services; the store closes when t ends.
func NewCore(t testing.TB, o Options) *Core {
	t.Helper()
	ctx := context.Background()
	if o.StoreDir == "" {
		o.StoreDir = t.TempDir()
	}
	db, err := store.Open(ctx, store.Options{Dir: o.StoreDir}, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	c := &Core{DB: db, Journal: events.New(1024, nil)}
	if o.NodeName == "" {
		o.NodeName = "edge-1"
	}
	if o.Kernel == nil {
		c.Kernel = linkstest.New()
		o.Kernel = c.Kernel
	}
	if c.Tokens, err = auth.New(ctx, db, nil); err != nil {
		t.Fatal(err)
	}
	if c.Overlay, err = overlay.New(ctx, db, c.Journal, overlay.Config{
		Network: netip.MustParsePrefix("100.64.0.0/16"), DNSDomain: "ew.test", TempAccessTimeout: time.Minute}); err != nil {
		t.Fatal(err)
	}
	if c.Jobs, err = jobs.New(ctx, db, c.Overlay, jobs.Config{Dir: t.TempDir(), Minute: time.Millisecond}); err != nil {
		t.Fatal(err)
	}
	if c.ACL, err = acl.New(ctx, db, o.Firewall, c.Journal, acl.Config{PeersFrom: c.Overlay.PeersFrom}); err != nil {
		t.Fatal(err)
	}
	if o.Firewall != nil {
		if err := c.ACL.Install(ctx); err != nil {
			t.Fatal(err)
		}
	}
	if c.Links, err = links.New(ctx, db, o.Kernel, c.Journal, links.Config{NodeName: o.NodeName,
		ReadOnly: o.ReadOnlyLinks, ResolvConf: filepath.Join(t.TempDir(), "resolv.conf")}); err != nil {
		t.Fatal(err)
	}
	return c
}

// Token creates an API token and returns its secret.
func (c *Core) Token(t testing.TB, name, role string) string {
	t.Helper()
	_, secret, err := c.Tokens.Create(context.Background(), name, role)
	if err != nil {
		t.Fatal(err)
	}
	return secret
}

// RevokedToken creates an API token, revokes it and returns its secret.
func (c *Core) RevokedToken(t testing.TB, name string) string {
	t.Helper()
	ctx := context.Background()
	tok, secret, err := c.Tokens.Create(ctx, name, auth.RoleAdmin)
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Tokens.Revoke(ctx, tok.ID); err != nil {
		t.Fatal(err)
	}
	return secret
}

// Resp is an answer: its status, headers and body.
type Resp struct {
	Status int
	Header http.Header
	Body   []byte
}

// JSON decodes the body into v.
func (r Resp) JSON(t testing.TB, v any) {
	t.Helper()
	if err := json.Unmarshal(r.Body, v); err != nil {
		t.Fatalf("decode %s: %v", apicheck.Shorten(r.Body, 512), err)
	}
}

// Do sends a request to app with the Authorization value authz (empty:
// none) and the extra headers hdr, and checks the answer against the
// OpenAPI document. A string body goes as it is, anything else as JSON.
func Do(t testing.TB, app *fiber.App, method, path, authz string, body any, hdr map[string]string) Resp {
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
	if authz != "" {
		req.Header.Set("Authorization", authz)
	}
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	res, err := app.Test(req, 10_000)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer res.Body.Close()
	raw, _ := io.ReadAll(res.Body)
	apicheck.Response(t, method, path, req.Header, res.StatusCode, res.Header, raw)
	return Resp{Status: res.StatusCode, Header: res.Header, Body: raw}
}

// NewKey returns a fresh WireGuard public key.
func NewKey(t testing.TB) string {
	t.Helper()
	_, pub, err := wgkey.Generate()
	if err != nil {
		t.Fatal(err)
	}
	return pub.String()
}

// Authz is the Authorization value of an API token; none for "".
func Authz(token string) string {
	if token == "" {
		return ""
	}
	return "Token " + token
}
