package web

import (
	"context"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"
	"github.com/gofiber/fiber/v2"

	"github.com/edgeward/edgeward/core/admin"
	"github.com/edgeward/edgeward/core/auth"
	"github.com/edgeward/edgeward/core/netstat"
)

// uiEnv is the app with its pages over a real admin service and a real
// store in a temp dir.
type uiEnv struct {
	services
	app   *fiber.App
	admin *admin.Service
	stats *netstat.Sampler
	// counters and clock feed stats; guarded by mu.
	counters []netstat.Link
	clock    time.Time
	token    string // an admin API token
	code     string // the setup code issued at "first start"

	mu     sync.Mutex
	failed []string // addresses reported to OnAuthFailure
}

const testNodeName = "edge-test-1"

func newUIEnv(t testing.TB) *uiEnv {
	t.Helper()
	return newUIEnvWith(t, newServices(t, testNodeName))
}

func newUIEnvWith(t testing.TB, svc services) *uiEnv {
	t.Helper()
	ctx := context.Background()
	e := &uiEnv{services: svc}
	var err error
	if _, e.token, err = e.toks.Create(ctx, "admin", auth.RoleAdmin); err != nil {
		t.Fatal(err)
	}
	if e.admin, err = admin.New(ctx, e.db, nil); err != nil {
		t.Fatal(err)
	}
	if e.code, err = e.admin.IssueSetupCode(ctx); err != nil {
		t.Fatal(err)
	}
	// The traffic sampler reads counters the test moves (see traffic),
	// on a clock the test moves: the kernel side is tested in hw/nic.
	e.counters = []netstat.Link{{Name: "lo", Loopback: true, Up: true},
		{Name: "eth0", Up: true, SpeedMbps: 1000, RxBytes: 1 << 40, TxBytes: 12345},
		{Name: "eth1", SpeedMbps: 0}}
	e.clock = time.Now().Truncate(netstat.Step)
	e.stats = netstat.New(func(context.Context) ([]netstat.Link, error) {
		e.mu.Lock()
		defer e.mu.Unlock()
		return slices.Clone(e.counters), nil
	}, func() time.Time {
		e.mu.Lock()
		defer e.mu.Unlock()
		return e.clock
	})
	if err := e.stats.Sample(ctx); err != nil {
		t.Fatal(err)
	}
	e.rebuild(func(*Deps) {})
	return e
}

// rebuild builds e's app with the env's deps, changed by change (a data
// plane, the gateway's WireGuard identity).
func (e *uiEnv) rebuild(change func(*Deps)) {
	d := Deps{Tokens: e.toks, Overlay: e.ov, ACL: e.acl, Journal: e.journal, Version: "1.2.3-test",
		Jobs: e.jobs, Links: e.links, Stats: e.stats,
		NodeID: "node-id-test", NodeName: testNodeName, Admin: e.admin,
		OnAuthFailure: func(ip string) {
			e.mu.Lock()
			defer e.mu.Unlock()
			e.failed = append(e.failed, ip)
		}}
	change(&d)
	e.app = New(d)
}

// traffic moves eth0's counters through steps samples of netstat.Step,
// receiving rx(i) and sending tx(i) bytes per second in step i.
func (e *uiEnv) traffic(t testing.TB, steps int, rx, tx func(i int) int) {
	t.Helper()
	for i := range steps {
		e.mu.Lock()
		e.clock = e.clock.Add(netstat.Step)
		e.counters[1].RxBytes += uint64(rx(i)) * uint64(netstat.Step/time.Second)
		e.counters[1].TxBytes += uint64(tx(i)) * uint64(netstat.Step/time.Second)
		e.mu.Unlock()
		if err := e.stats.Sample(t.Context()); err != nil {
			t.Fatal(err)
		}
	}
}

func (e *uiEnv) failures() int {
	e.mu.Lock()
	defer e.mu.Unlock()
	return len(e.failed)
}

// browser sends requests through app.Test with a cookie jar, as a browser
// without JavaScript would.
type browser struct {
	t   testing.TB
	app *fiber.App
	jar *cookiejar.Jar
}

var origin = &url.URL{Scheme: "http", Host: "edgeward.test", Path: "/"}

func (e *uiEnv) browser(t testing.TB) *browser {
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	return &browser{t: t, app: e.app, jar: jar}
}

// page is one response with its parsed HTML.
type page struct {
	status int
	header http.Header
	body   string
	doc    *goquery.Document
}

// text is the trimmed text of the element with this data-testid.
func (p page) text(testID string) string {
	return strings.TrimSpace(p.doc.Find(`[data-testid="` + testID + `"]`).Text())
}

func (p page) has(testID string) bool {
	return p.doc.Find(`[data-testid="`+testID+`"]`).Length() > 0
}

// csrf is the token in the page's hidden form field.
func (p page) csrf() string {
	v, _ := p.doc.Find(`input[name="_csrf"]`).First().Attr("value")
	return v
}

func (b *browser) do(req *http.Request) page {
	b.t.Helper()
	for _, c := range b.jar.Cookies(origin) {
		req.AddCookie(c)
	}
	res, err := b.app.Test(req, 10_000)
	if err != nil {
		b.t.Fatalf("%s %s: %v", req.Method, req.URL.Path, err)
	}
	defer res.Body.Close()
	b.jar.SetCookies(origin, res.Cookies())
	raw, err := io.ReadAll(res.Body)
	if err != nil {
		b.t.Fatal(err)
	}
	doc, err := goquery.NewDocumentFromReader(strings.NewReader(string(raw)))
	if err != nil {
		b.t.Fatalf("parse %s: %v", req.URL.Path, err)
	}
	return page{status: res.StatusCode, header: res.Header, body: string(raw), doc: doc}
}

func (b *browser) get(path string, header ...string) page {
	b.t.Helper()
	req := httptest.NewRequest(http.MethodGet, path, nil)
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	return b.do(req)
}

// post sends form as application/x-www-form-urlencoded.
func (b *browser) post(path string, form url.Values, header ...string) page {
	b.t.Helper()
	req := httptest.NewRequest(http.MethodPost, path, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	return b.do(req)
}

// submit loads the form page at path and posts fields to it with the
// page's CSRF token.
func (b *browser) submit(path string, fields map[string]string) page {
	b.t.Helper()
	return b.submitFrom(path, path, fields)
}

// submitFrom takes the CSRF token from the page at from and posts fields
// to action, as a form on that page would.
func (b *browser) submitFrom(from, action string, fields map[string]string) page {
	b.t.Helper()
	form := url.Values{"_csrf": {b.get(from).csrf()}}
	for k, v := range fields {
		form.Set(k, v)
	}
	return b.post(action, form)
}

// logout presses the dashboard's logout button.
func (b *browser) logout() page {
	b.t.Helper()
	return b.submitFrom("/", "/logout", nil)
}

func (b *browser) cookie(name string) *http.Cookie {
	for _, c := range b.jar.Cookies(origin) {
		if c.Name == name {
			return c
		}
	}
	return nil
}

const testPassword = "correct horse battery"

// setUp runs first-start setup in b and leaves it logged in.
func (e *uiEnv) setUp(t testing.TB, b *browser) {
	t.Helper()
	p := b.submit("/setup", map[string]string{"code": e.code, "password": testPassword, "repeat": testPassword})
	if p.status != http.StatusSeeOther || p.header.Get("Location") != "/" {
		t.Fatalf("setup: status %d, location %q, want 303 to /\n%s", p.status, p.header.Get("Location"), p.body)
	}
}

func wantRedirect(t testing.TB, p page, to string) {
	t.Helper()
	if p.status != http.StatusSeeOther || p.header.Get("Location") != to {
		t.Errorf("status %d, location %q; want 303 to %s", p.status, p.header.Get("Location"), to)
	}
}
