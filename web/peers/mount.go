// Package peers serves the peers dialect under /api: peers, groups,
// policies, tokens and debug-bundle jobs, shaped as NetBird's management API
// (its field names, types and error body {"message","code"}), so NetBird's
// clients can manage the gateway's WireGuard peers.
package peers

import (
	"context"
	"log/slog"
	"os"
	"sync/atomic"

	"github.com/gofiber/fiber/v2"

	"github.com/edgeward/edgeward/core"
	"github.com/edgeward/edgeward/core/auth"
	"github.com/edgeward/edgeward/core/jobs"
	"github.com/edgeward/edgeward/core/overlay"
	"github.com/edgeward/edgeward/web/internal/apispec"
	"github.com/edgeward/edgeward/web/internal/httpx"
)

// Peers is what the peer routes need of the overlay.
type Peers interface {
	EachPeer(f overlay.Filter, fn func(*overlay.PeerRow))
	Peer(id string) (overlay.PeerInfo, error)
	CreatePeer(ctx context.Context, req overlay.NewPeer) (overlay.Created, error)
	UpdatePeer(ctx context.Context, id string, u overlay.PeerUpdate) (overlay.PeerInfo, error)
	DeletePeer(ctx context.Context, id string) error
}

// Access is what the accessible-peers and temporary-access routes need, and
// the client config handed over with a peer whose key the gateway made.
type Access interface {
	Accessible(id string) ([]overlay.PeerInfo, error)
	CreateTempAccess(ctx context.Context, target string, req overlay.TempAccess) (overlay.TempAccessResult, error)
	ClientConfig(p overlay.Created, gw overlay.Gateway) string
}

// Groups is what the group routes need of the overlay.
type Groups interface {
	Groups(name string) []overlay.GroupInfo
	Group(id string) (overlay.GroupInfo, error)
	SaveGroup(ctx context.Context, id string, spec overlay.GroupSpec) (overlay.GroupInfo, error)
	DeleteGroup(ctx context.Context, id string) error
}

// Policies is what the policy routes need of the overlay.
type Policies interface {
	Policies() []overlay.PolicyInfo
	Policy(id string) (overlay.PolicyInfo, error)
	SavePolicy(ctx context.Context, id string, p overlay.Policy) (overlay.PolicyInfo, error)
	DeletePolicy(ctx context.Context, id string) error
}

// Jobs is what the job and bundle routes need.
type Jobs interface {
	Create(ctx context.Context, peerID, typ string, p jobs.Params, by string) (jobs.Job, error)
	List(ctx context.Context, peerID string) ([]jobs.Job, error)
	Get(ctx context.Context, peerID, jobID string) (jobs.Job, error)
	Open(uploadKey string) (*os.File, int64, error)
}

// Tokens is what the token routes need.
type Tokens interface {
	List() []auth.Token
	Create(ctx context.Context, name, role string) (auth.Token, string, error)
	Revoke(ctx context.Context, id string) error
}

// Deps are the services the dialect calls. The zero Deps is enough to
// mount (and list) the routes; a route whose service is nil must not be
// called.
type Deps struct {
	Log      *slog.Logger
	Peers    Peers
	Access   Access
	Groups   Groups
	Policies Policies
	Jobs     Jobs
	Tokens   Tokens
	// Gateway goes into the client config of a peer whose key the
	// gateway made.
	Gateway overlay.Gateway
}

type handler struct {
	d    Deps
	list atomic.Pointer[listCache]
	// listSize is the length of the last unfiltered list.
	listSize atomic.Int64
}

// Mount adds the dialect's routes to r, which must already check tokens
// (httpx.Guard with Deny), so each route can rely on httpx.Caller.
func Mount(r fiber.Router, d Deps) {
	if d.Log == nil {
		d.Log = slog.New(slog.DiscardHandler)
	}
	h := &handler{d: d}
	r.Get("/openapi.json", apispec.Serve)
	r.Get("/peers", h.listPeers)
	r.Post("/peers", h.createPeer)
	r.Get("/peers/:id", h.getPeer)
	r.Put("/peers/:id", h.updatePeer)
	r.Delete("/peers/:id", h.deletePeer)
	r.Get("/peers/:id/accessible-peers", h.accessiblePeers)
	r.Post("/peers/:id/temporary-access", h.tempAccess)
	r.Get("/peers/:id/jobs", h.jobsOn, h.listJobs)
	r.Post("/peers/:id/jobs", h.jobsOn, h.createJob)
	r.Get("/peers/:id/jobs/:job", h.jobsOn, h.getJob)
	r.Get("/bundles/:sum/:uuid", h.jobsOn, h.downloadBundle)
	r.Get("/groups", h.listGroups)
	r.Post("/groups", h.createGroup)
	r.Get("/groups/:id", h.getGroup)
	r.Put("/groups/:id", h.updateGroup)
	r.Delete("/groups/:id", h.deleteGroup)
	r.Get("/policies", h.listPolicies)
	r.Post("/policies", h.createPolicy)
	r.Get("/policies/:id", h.getPolicy)
	r.Put("/policies/:id", h.updatePolicy)
	r.Delete("/policies/:id", h.deletePolicy)
	r.Get("/tokens", httpx.AdminOnly(Deny), h.listTokens)
	r.Post("/tokens", h.createToken)
	r.Delete("/tokens/:id", h.revokeToken)
}

func (h *handler) fail(c *fiber.Ctx, err error) error { return WriteError(c, h.d.Log, err) }

// jobsOn refuses the job routes when the process runs without jobs.
func (h *handler) jobsOn(c *fiber.Ctx) error {
	if h.d.Jobs == nil {
		return h.fail(c, &core.Error{Kind: core.ErrUnsupported, Msg: "debug-bundle jobs are not enabled on this gateway"})
	}
	return c.Next()
}

func deref[T any](p *T) T {
	var zero T
	if p == nil {
		return zero
	}
	return *p
}
