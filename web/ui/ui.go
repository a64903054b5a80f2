// Package ui serves the admin pages: server-rendered templ views over the
// core services, with a session cookie, CSRF protection and a CSP. It uses
// the core services themselves rather than small interfaces: the pages
// show nearly everything each service offers, so an interface would
// repeat the service's whole method set; its tests run over real services.
package ui

import (
	"bytes"
	"errors"
	"fmt"
	"log/slog"
	"net/netip"
	"slices"
	"strings"
	"time"

	"github.com/edgeward/edgeward/firmware/slots"

	"github.com/a-h/templ"
	"github.com/gofiber/fiber/v2"
	"github.com/gofiber/fiber/v2/middleware/compress"
	"github.com/gofiber/fiber/v2/middleware/helmet"
	"github.com/gofiber/fiber/v2/utils"

	"github.com/edgeward/edgeward/core"
	"github.com/edgeward/edgeward/core/acl"
	"github.com/edgeward/edgeward/core/admin"
	"github.com/edgeward/edgeward/core/auth"
	corebackup "github.com/edgeward/edgeward/core/backup"
	"github.com/edgeward/edgeward/core/dataplane"
	"github.com/edgeward/edgeward/core/events"
	"github.com/edgeward/edgeward/core/host"
	"github.com/edgeward/edgeward/core/jobs"
	"github.com/edgeward/edgeward/core/links"
	"github.com/edgeward/edgeward/core/netstat"
	"github.com/edgeward/edgeward/core/overlay"
	"github.com/edgeward/edgeward/core/p2pview"
	"github.com/edgeward/edgeward/views/layouts"
	"github.com/edgeward/edgeward/views/pages"
	"github.com/edgeward/edgeward/web/internal/httpx"
)

// The admin pages live outside /api, /network and /v2: they authenticate
// with a session cookie instead of a token and need CSRF protection and a
// CSP, which the JSON dialects must not get (safeweb's split).

// pageCSP allows only same-origin scripts and styles: the pages have no
// inline script or style, and htmx is served from /static.
const pageCSP = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; " +
	"form-action 'self'; frame-ancestors 'none'; base-uri 'self'"

// Cookie names. Browsers accept a __Host- cookie only with Secure, which
// they refuse to store over plain http, so plain-http pages use the
// unprefixed name.
const (
	sessionCookieTLS   = "__Host-edgeward"
	SessionCookiePlain = "edgeward_session"
	csrfCookieTLS      = "__Host-edgeward_csrf"
	csrfCookiePlain    = "edgeward_csrf"
)

// BackgroundHeader marks a request a page makes on its own (htmx
// polling), which must not slide the session's expiry. Pages set it with
// hx-headers on the polling element.
const BackgroundHeader = "X-Edgeward-Background"

// Locals keys.
const (
	csrfKey    = "csrf"
	sessionKey = "admin_session"
)

// LoginLimit is how many refused credential posts (login, setup code,
// current password) one address may make per minute.
const LoginLimit = 5

// Deps are the core services the pages use. A nil service leaves its
// pages out; without Admin there are no pages at all.
type Deps struct {
	Log     *slog.Logger
	Admin   *admin.Service
	Tokens  *auth.Tokens
	Overlay *overlay.Service
	Jobs    *jobs.Service
	ACL     *acl.Service
	// P2P is the read model of points, peers and connections the network
	// page shows; set whenever ACL is.
	P2P     *p2pview.View
	Journal *events.Journal
	Stats   *netstat.Sampler
	Links   *links.Service
	// Plane is the WireGuard data plane; nil shows the overlay's
	// bookkeeping alone.
	Plane *dataplane.Plane
	// Gateway is what generated client configs say about this gateway.
	Gateway overlay.Gateway
	// System reads the box's load, memory and uptime for the dashboard
	// (nil: the card says it cannot); StoreSize is the store's size on
	// disk in bytes (nil: left out).
	System    host.Read
	StoreSize func() int64
	// NodeName and NodeID are shown on the dashboard, Version in the footer.
	NodeName, NodeID, Version string
	// Backups backs the store up and restores it (Settings → Backup);
	// nil leaves the page out.
	Backups *corebackup.Service
	// Updates are the signed A/B update slots (nil: updates are off);
	// Slot is the slot this process runs from and Restart ends it after
	// an update is installed, so its launcher starts the new version.
	Updates *slots.Slots
	Slot    string
	Restart func()
	// OnAuthFailure is told the source address of every refused login.
	// May be nil.
	OnAuthFailure func(ip string)
}

// ui serves the admin pages.
type ui struct {
	d Deps
	// started is when the app was built, which is when edgeward started:
	// the dashboard's uptime.
	started time.Time
	// chain is the middleware every page runs through; refused counts
	// refused credential posts.
	chain   []fiber.Handler
	refused *refusals
}

// Mount adds the static assets and the page routes to app. Every page
// route carries its own middleware chain, so none of it reaches the API
// groups.
func Mount(app *fiber.App, d Deps) {
	u := &ui{d: d, started: time.Now()}
	// No HSTS: an appliance with a self-signed certificate must stay reachable.
	// same-origin rather than helmet's no-referrer: under no-referrer a
	// browser sends "Origin: null" with a form post, which the CSRF
	// check must refuse; no address leaves for another site either way.
	secure := helmet.New(helmet.Config{ContentSecurityPolicy: pageCSP, ReferrerPolicy: "same-origin"})
	// htmx is 51 KB and compresses to 16: worth it on a slow Wi-Fi.
	app.Use("/static", secure, compress.New(), staticFiles())

	guard := newCSRFGuard(func(c *fiber.Ctx) error {
		return u.errorPage(c, fiber.StatusForbidden,
			"This form has expired or did not come from edgeward's own page. Reload the page and try again.")
	})
	u.chain = []fiber.Handler{u.errorsAsPages, secure, noStore, u.refuseBanned, guard.handle}
	u.refused = newRefusals(LoginLimit, time.Minute)

	app.Get("/", u.authed(u.dashboard)...)
	app.Get("/setup", u.public(u.setupForm)...)
	app.Post("/setup", u.public(u.limit, u.setup)...)
	app.Get("/login", u.public(u.setupFirst, u.loginForm)...)
	app.Post("/login", u.public(u.setupFirst, u.limit, u.login)...)
	app.Post("/logout", u.public(u.logout)...)
	app.Get("/settings/password", u.authed(u.passwordForm)...)
	app.Post("/settings/password", u.authed(u.limit, u.changePassword)...)
	u.eventRoutes(app)
	if d.Tokens != nil {
		u.tokenRoutes(app)
	}
	if d.Overlay != nil {
		u.peerRoutes(app)
		u.groupRoutes(app)
	}
	if d.ACL != nil {
		u.networkRoutes(app)
	}
	if d.Links != nil {
		u.interfaceRoutes(app)
	}
	if d.Backups != nil {
		u.backupRoutes(app)
	}
	// Always: without slots the page says updates are off and how to
	// turn them on.
	u.updateRoutes(app)
	// Last: a path nothing above answered. The JSON dialects keep their
	// own 404 body; anything else is a page a browser asked for.
	last := []any{func(c *fiber.Ctx) error {
		if apiPath(c.Path()) {
			return fiber.ErrNotFound
		}
		return c.Next()
	}}
	for _, h := range u.public(u.notFound) {
		last = append(last, h)
	}
	app.Use(last...)
}

// apiPath reports whether p belongs to one of the JSON dialects.
func apiPath(p string) bool {
	for _, prefix := range []string{"/api", "/network", "/v2"} {
		if p == prefix || strings.HasPrefix(p, prefix+"/") {
			return true
		}
	}
	return false
}

// notFound answers a page path that does not exist.
func (u *ui) notFound(c *fiber.Ctx) error {
	return u.errorPage(c, fiber.StatusNotFound, "There is no page at this address.")
}

// public is the chain of a page anyone may load, ending in hs.
func (u *ui) public(hs ...fiber.Handler) []fiber.Handler {
	return append(append([]fiber.Handler(nil), u.chain...), hs...)
}

// authed is the chain of a page behind the login, ending in hs.
func (u *ui) authed(hs ...fiber.Handler) []fiber.Handler {
	return u.public(append([]fiber.Handler{u.setupFirst, u.needSession}, hs...)...)
}

func sessionCookieName(c *fiber.Ctx) string {
	if c.Context().IsTLS() {
		return sessionCookieTLS
	}
	return SessionCookiePlain
}

func setSessionCookie(c *fiber.Ctx, s admin.Session) {
	c.Cookie(&fiber.Cookie{Name: sessionCookieName(c), Value: s.ID, Path: "/", HTTPOnly: true,
		Secure: c.Context().IsTLS(), SameSite: fiber.CookieSameSiteStrictMode, SessionOnly: true})
}

func clearSessionCookie(c *fiber.Ctx) {
	c.Cookie(&fiber.Cookie{Name: sessionCookieName(c), Value: "", Path: "/", HTTPOnly: true,
		Secure: c.Context().IsTLS(), SameSite: fiber.CookieSameSiteStrictMode, Expires: time.Unix(1, 0)})
}

// noStore keeps pages, which carry CSRF tokens and node details, out of
// caches.
func noStore(c *fiber.Ctx) error {
	c.Set(fiber.HeaderCacheControl, "no-store")
	return c.Next()
}

// refuseBanned turns away banned and greylisted sources, as the API does,
// for when the kernel does not enforce the ACL.
func (u *ui) refuseBanned(c *fiber.Ctx) error {
	if u.d.ACL != nil {
		if ip, err := netip.ParseAddr(c.IP()); err == nil && u.d.ACL.Banned(ip) {
			return u.errorPage(c, fiber.StatusForbidden, "This address is banned or greylisted.")
		}
	}
	return c.Next()
}

// setupFirst sends every page to the setup form until a password is set.
func (u *ui) setupFirst(c *fiber.Ctx) error {
	if u.d.Admin.NeedsSetup() {
		return c.Redirect("/setup", fiber.StatusSeeOther)
	}
	return c.Next()
}

// needSession lets only logged-in browsers through; the others go to the
// login page (htmx requests are told to go there with HX-Redirect).
func (u *ui) needSession(c *fiber.Ctx) error {
	cx, cancel := httpx.Ctx(c)
	defer cancel()
	check := u.d.Admin.Check
	stream := strings.HasPrefix(c.Get(fiber.HeaderAccept), "text/event-stream")
	if stream || c.Get(BackgroundHeader) == "1" {
		// Polls and streams run without the admin: they must not keep
		// the session alive.
		check = u.d.Admin.Peek
	}
	sess, err := check(cx, c.Cookies(sessionCookieName(c)))
	if errors.Is(err, core.ErrPermission) {
		if stream {
			// An EventSource cannot follow a login page: it gets an
			// error and stops.
			return c.SendStatus(fiber.StatusUnauthorized)
		}
		if c.Get("HX-Request") == "true" {
			c.Set("HX-Redirect", "/login")
			return c.SendStatus(fiber.StatusUnauthorized)
		}
		return c.Redirect("/login", fiber.StatusSeeOther)
	}
	if err != nil {
		return err
	}
	c.Locals(sessionKey, sess)
	return c.Next()
}

// errorsAsPages renders what the page chain returns or panics with as an
// error page: public messages as they are, anything else as "internal
// error", logged once with the request id. No stack trace reaches the
// browser.
func (u *ui) errorsAsPages(c *fiber.Ctx) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = u.internalError(c, fmt.Errorf("panic: %v", r))
		}
	}()
	err = c.Next()
	if err == nil {
		return nil
	}
	var fe *fiber.Error
	if errors.As(err, &fe) {
		return u.errorPage(c, fe.Code, fe.Message)
	}
	// Every core error kind (validation, conflict, not found, busy, ...)
	// has its status and a public message; only the rest is internal.
	f := httpx.Classify(err)
	if f.Internal {
		return u.internalError(c, err)
	}
	return u.errorPage(c, f.Status, sentence(f.Msg))
}

func (u *ui) internalError(c *fiber.Ctx, err error) error {
	u.d.Log.Error("page failed", "request_id", httpx.RequestID(c), "method", c.Method(), "path", c.Path(), "err", err)
	return u.errorPage(c, fiber.StatusInternalServerError, "Internal error.")
}

func (u *ui) errorPage(c *fiber.Ctx, status int, msg string) error {
	c.Set(fiber.HeaderCacheControl, "no-store")
	title := fmt.Sprintf("%d %s", status, statusText(status))
	page := u.page(c, title)
	if u.loggedIn(c) {
		// Inside the normal layout, so the way on is one click away.
		page = u.navPage(c, title, c.Path())
	}
	return render(c, status, pages.Error(pages.ErrorProps{Page: page, Message: msg, RequestID: httpx.RequestID(c), At: time.Now()}))
}

// loggedIn reports whether c comes from a logged-in browser: the session
// an authed chain found, or else a look at the cookie that does not slide
// its expiry (pages outside the login, such as a 404).
func (u *ui) loggedIn(c *fiber.Ctx) bool {
	if _, ok := c.Locals(sessionKey).(admin.Session); ok {
		return true
	}
	id := c.Cookies(sessionCookieName(c))
	if id == "" || u.d.Admin.NeedsSetup() {
		return false
	}
	cx, cancel := httpx.Ctx(c)
	defer cancel()
	_, err := u.d.Admin.Peek(cx, id)
	return err == nil
}

func statusText(status int) string {
	if status == fiber.StatusForbidden {
		return "Refused"
	}
	return utils.StatusMessage(status)
}

// render writes comp as the HTML body with status. It renders into a
// buffer first, so a failing component never leaves half a page behind.
func render(c *fiber.Ctx, status int, comp templ.Component) error {
	var b bytes.Buffer
	if err := comp.Render(c.UserContext(), &b); err != nil {
		return fmt.Errorf("render page: %w", err)
	}
	c.Type("html", "utf-8")
	return c.Status(status).Send(b.Bytes())
}

func csrfOf(c *fiber.Ctx) string {
	t, _ := c.Locals(csrfKey).(string)
	return t
}

// page is the shell model for a page before login (no navigation).
func (u *ui) page(c *fiber.Ctx, title string) layouts.Page {
	return layouts.Page{Title: title, CSRF: csrfOf(c)}
}

// navSection is one entry of the main navigation: its label, the page it
// links to, and the first path segments of every page that belongs to it.
type navSection struct {
	label, href string
	segments    []string
	off         bool
}

// navSections are the main navigation's sections, in order. Paths stay
// where they were; only the grouping is the navigation's.
func (u *ui) navSections() []navSection {
	system := "/settings/tokens"
	if u.d.Tokens == nil {
		system = "/settings/password"
	}
	return []navSection{
		{label: "Dashboard", href: "/", segments: []string{""}},
		{label: "Peers", href: "/peers", segments: []string{"peers"}, off: u.d.Overlay == nil},
		{label: "Access", href: "/groups", segments: []string{"groups", "policies"}, off: u.d.Overlay == nil},
		{label: "Firewall", href: "/p2p", segments: []string{"p2p"}, off: u.d.ACL == nil},
		{label: "Interfaces", href: "/interfaces", segments: []string{"interfaces"}, off: u.d.Links == nil},
		{label: "System", href: system, segments: []string{"settings"}},
	}
}

// navPage is the shell model for a logged-in page. The section lit is the
// one the request's path belongs to, or else the one of active (a page
// path).
func (u *ui) navPage(c *fiber.Ctx, title, active string) layouts.Page {
	p := u.page(c, title)
	secs := u.navSections()
	lit := -1
	for _, path := range []string{c.Path(), active} {
		for i, s := range secs {
			if lit < 0 && slices.Contains(s.segments, section(path)) {
				lit = i
			}
		}
	}
	for i, s := range secs {
		p.Nav = append(p.Nav, layouts.NavItem{Label: s.label, Href: s.href, Active: i == lit, Soon: s.off})
	}
	return p
}

// section is the first segment of a page path: every page under it
// lights the same navigation entry.
func section(path string) string {
	s, _, _ := strings.Cut(strings.TrimPrefix(path, "/"), "/")
	return s
}

// formErrors maps a core error about input fields onto the form's fields.
// ok is false for any other error.
func formErrors(err error) (fields map[string]string, ok bool) {
	var ve *core.ValidationError
	var pub *core.Error
	switch {
	case errors.As(err, &ve):
		fields = map[string]string{}
		for _, f := range ve.Fields {
			if _, seen := fields[f.Field]; !seen {
				fields[f.Field] = sentence(f.Msg)
			}
		}
		return fields, true
	case errors.As(err, &pub) && pub.Field != "":
		return map[string]string{pub.Field: fieldMessage(pub)}, true
	}
	return nil, false
}

// fieldMessage is a field's error as the page shows it next to the
// field: a conflict's message starts with the field's name (the API needs
// it), which the page already shows as the input's label.
func fieldMessage(pub *core.Error) string {
	return sentence(strings.TrimPrefix(pub.Msg, pub.Field+": "))
}

// sentence turns a core message ("must be at least 10 characters") into
// one a page can show on its own.
func sentence(msg string) string {
	if msg == "" {
		return msg
	}
	msg = strings.ToUpper(msg[:1]) + msg[1:]
	if !strings.HasSuffix(msg, ".") && !strings.HasSuffix(msg, "?") && !strings.HasSuffix(msg, "!") {
		msg += "."
	}
	return msg
}
