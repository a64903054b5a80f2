// Package web serves edgeward's JSON API and its admin pages with fiber.
// Handlers decode and shape-check a request, make one core call and write
// the dialect's JSON or render a page; the rules live in core.
package web

import (
	"context"
	"log/slog"
	"net/netip"
	"sync"
	"time"

	"github.com/edgeward/edgeward/firmware/slots"

	"github.com/gofiber/fiber/v2"
	"github.com/gofiber/fiber/v2/middleware/recover"

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
	"github.com/edgeward/edgeward/web/backup"
	"github.com/edgeward/edgeward/web/interfaces"
	"github.com/edgeward/edgeward/web/internal/httpx"
	"github.com/edgeward/edgeward/web/p2p"
	"github.com/edgeward/edgeward/web/peers"
	"github.com/edgeward/edgeward/web/system"
	"github.com/edgeward/edgeward/web/ui"
	"github.com/edgeward/edgeward/web/update"
)

// Deps are the core services the web layer calls.
type Deps struct {
	Log     *slog.Logger
	Tokens  *auth.Tokens
	Overlay *overlay.Service
	Jobs    *jobs.Service
	Version string
	// GatewayKey is the gateway's WireGuard public key and Endpoint its
	// host:port as peers dial it; both go into generated client configs.
	GatewayKey string
	Endpoint   string
	// DNS, when valid, is the overlay's resolver (the gateway's overlay
	// address) written into client configs.
	DNS netip.Addr
	// OnAuthFailure is told the source address of every refused token, so
	// the firewall can greylist sources that keep guessing. May be nil.
	OnAuthFailure func(ip string)

	// The P2P network dialect (/network).
	ACL     *acl.Service
	Journal *events.Journal
	Stats   *netstat.Sampler
	// NodeID is the node's P2P id (Base58Check of its public key).
	NodeID string

	// P2P is the read model of points, peers and connections the /network
	// dialect and the network page share; nil builds one over ACL and
	// Overlay.
	P2P *p2pview.View

	// Plane is the WireGuard data plane: it kicks peers and reports its
	// state. nil leaves kicks to the overlay's bookkeeping alone.
	Plane *dataplane.Plane

	// Links serves the network-interface dialect (/v2/network) and the
	// interfaces pages; nil leaves them out. A read-only service (no
	// --manage-links) serves both read-only. With Admin set, the dialect's
	// clients may sign in at /v1/session/login for a bearer token.
	Links *links.Service

	// Admin is the admin account behind the web pages (/, /login, ...);
	// nil leaves the pages out. NodeName is shown on the dashboard.
	Admin    *admin.Service
	NodeName string

	// Backups backs the store up and restores it (/api/system and the
	// Settings → Backup page); nil leaves them out.
	Backups *corebackup.Service

	// Updater, when not nil, serves the signed A/B updates under
	// /api/system/update; Slot is the slot this process runs from and
	// Restart ends it after an update is installed, so its launcher starts
	// the new version on trial.
	Updater *slots.Slots
	Slot    string
	Restart func()

	// Requests, when not nil, is held by every request while its handler
	// runs, so the caller can wait for requests still in flight after a
	// shutdown timeout before it closes the store. Stop, when not nil,
	// ends the context of every request (and so its core calls) once done.
	Requests *sync.WaitGroup
	Stop     context.Context

	// Health answers /healthz (nil: healthy while the app answers).
	// GreySize is the kernel greylist's capacity and StoreSize the store's
	// size on disk, for /metrics (and the dashboard); zero and nil leave
	// them out.
	Health    func(ctx context.Context) error
	GreySize  int
	StoreSize func() int64
	// System reads the box's load, memory and uptime for the dashboard.
	System host.Read
}

// bodyLimit is the largest request body but an update's: POST
// /network/acl/bulk with 100,000 IPv4 entries is about 1.6 MiB.
const bodyLimit = 4 << 20

// New builds the fiber app with every route.
func New(d Deps) *fiber.App {
	if d.Log == nil {
		d.Log = slog.New(slog.DiscardHandler)
	}
	app := fiber.New(fiber.Config{
		// Values from the request are copied, so nothing handed to core
		// can change under it when fasthttp reuses its buffers.
		Immutable:             true,
		DisableStartupMessage: true,
		BodyLimit:             bodyLimit,
		ReadTimeout:           10 * time.Second,
		WriteTimeout:          60 * time.Second,
		IdleTimeout:           60 * time.Second,
		// Plain JSON: "<token>" rather than "\u003ctoken\u003e" in messages.
		JSONEncoder: httpx.EncodeJSON,
		ErrorHandler: func(c *fiber.Ctx, err error) error {
			return peers.WriteError(c, d.Log, err)
		},
		// A body over BodyLimit is streamed rather than refused, so an
		// update binary goes to flash without being held in memory;
		// onlyUpdateStreams refuses such a body everywhere else.
		StreamRequestBody: d.Updater != nil,
		// Left to fasthttp, a multipart body is parsed into a map before
		// the handler runs and Body() then writes it out again in the
		// map's random order: a signed upload's signature part must come
		// before its file part, as sent.
		DisablePreParseMultipartForm: true,
	})
	if d.Updater != nil {
		app.Use(onlyUpdateStreams)
	}
	if d.Requests != nil || d.Stop != nil {
		app.Use(inFlight(d.Requests, d.Stop))
	}
	app.Use(httpx.RequestIDs)
	app.Use(recover.New(recover.Config{EnableStackTrace: false}))
	app.Use(httpx.AccessLog(d.Log))
	sys := system.New(systemDeps(d))
	app.Use(sys.Observe)
	system.Mount(app, sys)

	if d.P2P == nil && d.ACL != nil && d.Overlay != nil {
		d.P2P = p2pview.New(d.ACL, d.Overlay, nil)
	}
	pd := peers.Deps{Log: d.Log, Peers: d.Overlay, Access: d.Overlay,
		Groups: d.Overlay, Policies: d.Overlay, Tokens: d.Tokens, Gateway: gateway(d)}
	if d.Jobs != nil { // a nil *jobs.Service must not become a non-nil interface
		pd.Jobs = d.Jobs
	}
	api := app.Group("/api", authenticate(d))
	if d.Updater != nil {
		update.Mount(api, update.Deps{Log: d.Log, Updater: d.Updater, Version: d.Version, Slot: d.Slot, Restart: d.Restart})
	}
	peers.Mount(api, pd)
	if d.Backups != nil {
		backup.Mount(api, backup.Deps{Log: d.Log, Backups: d.Backups, Deny: peers.Deny,
			Fail: func(c *fiber.Ctx, err error) error { return peers.WriteError(c, d.Log, err) }})
	}
	if d.ACL != nil {
		p2p.Mount(app.Group("/network", authenticate(d)), p2pDeps(d))
	}
	if d.Links != nil {
		nic := interfaces.Deps{Log: d.Log, Links: d.Links, Guard: guard(d)}
		if d.Admin != nil {
			nic.Sessions = d.Admin
		}
		interfaces.Mount(app, nic)
	}
	if d.Admin != nil {
		ui.Mount(app, ui.Deps{Log: d.Log, Admin: d.Admin, Tokens: d.Tokens, Overlay: d.Overlay,
			Jobs: d.Jobs, ACL: d.ACL, P2P: d.P2P, Journal: d.Journal, Stats: d.Stats, Links: d.Links,
			Plane: d.Plane, Gateway: gateway(d), NodeName: d.NodeName, NodeID: d.NodeID,
			Version: d.Version, Backups: d.Backups, OnAuthFailure: d.OnAuthFailure,
			Updates: d.Updater, Slot: d.Slot, Restart: d.Restart, System: d.System, StoreSize: d.StoreSize})
	}
	return app
}

// p2pDeps are the /network dialect's deps. A nil pointer must not become
// a non-nil interface: the dialect checks Stats and Plane for nil.
func p2pDeps(d Deps) p2p.Deps {
	out := p2p.Deps{Log: d.Log, ACL: d.ACL, Overlay: d.Overlay, View: d.P2P, Journal: d.Journal, NodeID: d.NodeID}
	if d.Stats != nil {
		out.Stats = d.Stats
	}
	if d.Plane != nil {
		out.Plane = d.Plane
	}
	return out
}

// systemDeps are /healthz's and /metrics' deps. A nil pointer must not
// become a non-nil interface: the part leaves out the series of nil ones.
func systemDeps(d Deps) system.Deps {
	out := system.Deps{Log: d.Log, Guard: guard(d).Scrape(peers.Deny), Health: d.Health,
		GreySize: d.GreySize, StoreSize: d.StoreSize}
	if d.ACL != nil {
		out.ACL = d.ACL
	}
	if d.Overlay != nil {
		out.Peers = d.Overlay
	}
	if d.Plane != nil {
		out.Plane = d.Plane
	}
	if d.Journal != nil {
		out.Journal = d.Journal
	}
	return out
}

// gateway is what client configs say about this gateway.
func gateway(d Deps) overlay.Gateway {
	return overlay.Gateway{PublicKey: d.GatewayKey, Endpoint: d.Endpoint, DNS: d.DNS}
}

// onlyUpdateStreams refuses a body larger than the body limit on every
// route but the update uploads (the API's and the page's). A streamed body is not always a large one:
// fasthttp also streams a small body that arrives after its headers, so
// the length decides (an unknown length, chunked, is refused too).
func onlyUpdateStreams(c *fiber.Ctx) error {
	upload := c.Method() == fiber.MethodPost && (c.Path() == update.Path || c.Path() == ui.UpdatePath)
	if c.Request().IsBodyStream() && !upload {
		if n := c.Request().Header.ContentLength(); n < 0 || n > bodyLimit {
			return peers.Deny(c, fiber.StatusRequestEntityTooLarge, "request body too large")
		}
	}
	return c.Next()
}

// inFlight holds reqs while a request's handler runs and ends its context
// when stop is done.
func inFlight(reqs *sync.WaitGroup, stop context.Context) fiber.Handler {
	return func(c *fiber.Ctx) error {
		if reqs != nil {
			reqs.Add(1)
			defer reqs.Done()
		}
		if stop != nil {
			ctx, cancel := context.WithCancel(c.UserContext())
			defer context.AfterFunc(stop, cancel)()
			defer cancel()
			c.SetUserContext(ctx)
		}
		return c.Next()
	}
}
