// Package p2p serves the /network dialect: the shape of the Octez node's
// P2P RPCs (points, peers, connections, greylists, event streams), backed
// by edgeward's ACL, overlay and event journal, plus edgeward's own ACL
// routes beside them (/network/acl/..., /network/tunnel,
// /network/edgeward/log). Its errors are the original's error list (see
// netError); 401 and the read-only check of viewer tokens stay with the
// token middleware the router comes with.
package p2p

import (
	"context"
	"log/slog"
	"net/netip"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/edgeward/edgeward/core/acl"
	"github.com/edgeward/edgeward/core/dataplane"
	"github.com/edgeward/edgeward/core/events"
	"github.com/edgeward/edgeward/core/netstat"
	"github.com/edgeward/edgeward/core/p2pview"
)

// PointACL changes and reads the ACL of addresses.
type PointACL interface {
	SetPoint(ctx context.Context, p netip.AddrPort, acl, by string, g acl.Guard) error
	Trusted(addr netip.Addr) bool
}

// PeerACL changes the ACL of peer ids.
type PeerACL interface {
	SetPeer(ctx context.Context, id, acl, by string) error
}

// Greylists reads and clears the automatic greylists.
type Greylists interface {
	ClearGreylist(ctx context.Context) error
	GreylistIPs() ([]netip.Addr, time.Time)
	GreylistedPeers() []string
}

// BulkACL bans, trusts and lifts many entries at once.
type BulkACL interface {
	Bulk(ctx context.Context, acl string, entries []string, ttl time.Duration, by string, g acl.Guard) (int, error)
	Lift(ctx context.Context, targets []string, by string) (int, error)
}

// ACLLists lists the bans and the trusts.
type ACLLists interface {
	Bans(limit int) ([]acl.Listed, int)
	Trusts(limit int) ([]acl.Listed, int)
	PeerBans(limit int) ([]acl.Listed, int)
	PeerTrusts(limit int) ([]acl.Listed, int)
}

// ACLStatus says how the ACL stands.
type ACLStatus interface {
	Enforcement() acl.Enforcement
	Counts() acl.Counts
}

// ACL is every part of the ACL the dialect uses: the small interfaces
// above and what the read model reads.
type ACL interface {
	PointACL
	PeerACL
	Greylists
	BulkACL
	ACLLists
	ACLStatus
	p2pview.ACL
}

// Overlay is what the dialect asks the overlay besides the read model.
type Overlay interface {
	p2pview.Overlay
	Disconnect(ctx context.Context, peerID string) (bool, error)
}

// Stats is the traffic sampler.
type Stats interface {
	Stat() netstat.Stat
}

// Plane is the WireGuard data plane: it kicks peers and reports its state.
type Plane interface {
	Kick(ctx context.Context, publicKey string) (bool, error)
	Status() dataplane.Status
}

// Deps are what the dialect calls. Zero Deps are enough to mount the
// routes (to list them); serving needs ACL and Overlay.
type Deps struct {
	Log     *slog.Logger
	ACL     ACL
	Overlay Overlay
	// View is the read model the pages share; nil builds one over ACL and
	// Overlay.
	View    *p2pview.View
	Journal *events.Journal
	// Stats may be nil: the totals are then zero.
	Stats Stats
	// NodeID is the node's P2P id (Base58Check of its public key).
	NodeID string
	// Plane may be nil: kicks are then left to the overlay's bookkeeping.
	Plane Plane
}

// handler serves the routes.
type handler struct {
	Deps
	routes []route // what Mount registered, for the 404 and 405 answers
}

// route is one registered method and path.
type route struct{ method, path string }

// Mount registers the dialect's routes on r, a router for /network that
// already authenticates tokens.
func Mount(r fiber.Router, d Deps) {
	if d.Log == nil {
		d.Log = slog.New(slog.DiscardHandler)
	}
	if d.Journal == nil {
		// Nothing publishes to it: logs are empty and streams stay idle.
		d.Journal = events.New(1, nil)
	}
	if d.View == nil && d.ACL != nil && d.Overlay != nil {
		d.View = p2pview.New(d.ACL, d.Overlay, nil)
	}
	h := &handler{Deps: d}
	add := func(method, path string, hs ...fiber.Handler) {
		h.routes = append(h.routes, route{method, path})
		r.Add(method, path, hs...)
	}
	get := func(path string, hs ...fiber.Handler) {
		h.routes = append(h.routes, route{fiber.MethodGet, path})
		r.Get(path, hs...) // and HEAD
	}
	get("/self", h.self)
	get("/stat", h.stat)
	get("/full_stat", h.fullStat)
	get("/version", h.version)
	get("/versions", h.versions)
	get("/log", h.log)
	get("/edgeward/log", h.edgewardLog)

	get("/connections", h.connections)
	get("/connections/:peer_id", h.connection)
	add(fiber.MethodDelete, "/connections/:peer_id", h.disconnect)
	get("/tunnel", h.tunnel)

	get("/points", h.points)
	get("/points/:point", h.point)
	add(fiber.MethodPut, "/points/:point", h.connect)
	add(fiber.MethodPatch, "/points/:point", h.patchPoint)
	get("/points/:point/banned", h.pointBanned)
	get("/points/:point/log", h.pointLog)
	for _, op := range deprecatedOps {
		get("/points/:point/"+op, h.adminOnly, h.pointOp(op))
	}

	get("/peers", h.peers)
	get("/peers/:peer_id", h.peer)
	add(fiber.MethodPatch, "/peers/:peer_id", h.patchPeer)
	get("/peers/:peer_id/banned", h.peerBanned)
	get("/peers/:peer_id/log", h.peerLog)
	for _, op := range deprecatedOps {
		get("/peers/:peer_id/"+op, h.adminOnly, h.peerOp(op))
	}

	add(fiber.MethodDelete, "/greylist", h.clearGreylist)
	get("/greylist/clear", h.adminOnly, h.clearGreylist)
	get("/greylist/ips", h.greylistIPs)
	get("/greylist/peers", h.greylistPeers)

	add(fiber.MethodPost, "/acl/bulk", h.bulk)
	get("/acl/status", h.aclStatus)
	get("/acl/entries", h.aclEntries)
	add(fiber.MethodPost, "/acl/lift", h.aclLift)

	// Last: what no route above took is the dialect's 404 or 405.
	r.Use(h.unmatched)
}

// deprecatedOps are the original's state-changing GETs, kept for old
// clients; each needs an admin token.
var deprecatedOps = []string{"ban", "unban", "trust", "untrust"}
