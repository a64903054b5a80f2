package p2p

import (
	"context"
	"errors"
	"math"
	"net/netip"
	"strconv"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/edgeward/edgeward/core/acl"
	"github.com/edgeward/edgeward/core/events"
	"github.com/edgeward/edgeward/core/p2pview"
	"github.com/edgeward/edgeward/web/internal/httpx"
)

// pointInfoJSON is the original's P2p_point.Info, as far as edgeward knows
// a point: greylisted_until is the ACL greylist's expiry (the original uses
// the field for its reconnection back-off), last_seen is set while a peer
// is connected from the point, and expected_peer_id is what a PATCH said.
type pointInfoJSON struct {
	Trusted         bool           `json:"trusted"`
	GreylistedUntil string         `json:"greylisted_until,omitempty"`
	State           pointStateJSON `json:"state"`
	P2PPeerID       string         `json:"p2p_peer_id,omitempty"`
	LastSeen        []string       `json:"last_seen,omitempty"` // [peer_id, timestamp]
	ExpectedPeerID  string         `json:"expected_peer_id,omitempty"`
}

// pointStateJSON is the original's point state.
type pointStateJSON struct {
	EventKind string `json:"event_kind"`
	P2PPeerID string `json:"p2p_peer_id,omitempty"`
}

func toPointInfo(p p2pview.Point) pointInfoJSON {
	info := pointInfoJSON{Trusted: p.Trusted, State: pointStateJSON{EventKind: p.State}, ExpectedPeerID: p.ExpectedPeerID}
	if !p.GreylistedTill.IsZero() {
		info.GreylistedUntil = stamp(p.GreylistedTill)
	}
	if p.State == p2pview.Running {
		info.State.P2PPeerID, info.P2PPeerID = p.PeerID, p.PeerID
		if !p.LastSeen.IsZero() {
			info.LastSeen = []string{p.PeerID, stamp(p.LastSeen)}
		}
	}
	return info
}

// pointList lists every known point whose state is in filter (nil: all).
func (h *handler) pointList(filter map[string]bool) [][2]any {
	b := h.View.Points(0)
	out := [][2]any{}
	for _, ap := range b.List() {
		p, _ := b.Info(ap)
		if filter == nil || filter[p.State] {
			out = append(out, [2]any{ap.String(), toPointInfo(p)})
		}
	}
	return out
}

func (h *handler) points(c *fiber.Ctx) error {
	filter, err := stateFilter(c, p2pview.Requested, "accepted", p2pview.Running, p2pview.Disconnected)
	if err != nil {
		return h.fail(c, err)
	}
	return httpx.OK(c, h.pointList(filter))
}

func (h *handler) point(c *fiber.Ctx) error {
	ap, err := pointArg(c)
	if err != nil {
		return h.fail(c, err)
	}
	p, known := h.View.Point(ap)
	if !known {
		return h.fail(c, unknown("unknown_point",
			"point %s is unknown: the ACL holds nothing for %s, no peer is connected from it and no client named it", ap, ap.Addr()))
	}
	return httpx.OK(c, toPointInfo(p))
}

// pointPatch is the PATCH body of a point.
type pointPatch struct {
	ACL    *string `json:"acl"`
	PeerID *string `json:"peer_id"`
	Force  bool    `json:"force"` // ban even loopback, the gateway or the caller
}

// patchPoint applies {"acl"?, "peer_id"?} and answers the point's info.
// As in the original's pool, a point a PATCH names is registered, so it
// stays known after an "open" lifts its last ACL entry: no PATCH that
// changed something answers 404. Every check runs before the change.
func (h *handler) patchPoint(c *fiber.Ctx) error {
	ap, err := pointArg(c)
	if err != nil {
		return h.fail(c, err)
	}
	var body pointPatch
	if err := decodeBody(c, &body); err != nil {
		return h.fail(c, err)
	}
	expected := deref(body.PeerID)
	if body.PeerID != nil {
		if err := checkPeerID("peer_id", expected); err != nil {
			return h.fail(c, err)
		}
	}
	if body.ACL != nil {
		cx, cancel := httpx.Ctx(c)
		defer cancel()
		// SetPoint checks the acl value before it changes anything.
		if err := h.ACL.SetPoint(cx, ap, *body.ACL, httpx.Caller(c).ID, guard(c, body.Force)); err != nil {
			return h.fail(c, err)
		}
	}
	if body.ACL != nil || body.PeerID != nil {
		h.View.Register(ap, expected)
	}
	return h.point(c)
}

// maxConnectTimeout bounds PUT's ?timeout: the request holds a connection
// and a goroutine while it waits.
const maxConnectTimeout = time.Minute

// connect is the original's "connect to this point" (PUT, ?timeout=
// seconds, default 10): it answers {} once a peer is connected from the
// point. The gateway cannot dial WireGuard peers, so it waits for one to
// come; until then the point is "requested". A banned point is refused
// (403, the original's Point_banned), a timeout answers 504 and withdraws
// the request, leaving nothing changed.
func (h *handler) connect(c *fiber.Ctx) error {
	ap, err := pointArg(c)
	if err != nil {
		return h.fail(c, err)
	}
	timeout := 10 * time.Second
	if s := c.Query("timeout"); s != "" {
		secs, err := strconv.ParseFloat(s, 64)
		if err != nil || math.IsNaN(secs) || secs <= 0 || secs > maxConnectTimeout.Seconds() {
			return h.fail(c, badArg("bad_query", "timeout %s must be a number of seconds above 0, at most %d", httpx.Quote(s), int(maxConnectTimeout.Seconds())))
		}
		timeout = time.Duration(secs * float64(time.Second))
	}
	cx, cancel := context.WithTimeout(c.UserContext(), timeout)
	defer cancel()
	switch err := h.View.Connect(cx, ap); {
	case err == nil:
		return httpx.OK(c, fiber.Map{})
	case errors.Is(err, p2pview.ErrPointBanned):
		return h.fail(c, &failure{status: fiber.StatusForbidden, id: "point_banned",
			msg: "point " + ap.String() + " is banned or greylisted: trust or open it first"})
	case errors.Is(err, context.DeadlineExceeded):
		return h.fail(c, &failure{status: fiber.StatusGatewayTimeout, id: "connection_timeout",
			msg: "no peer connected from " + ap.String() + " within " + timeout.String() + "; WireGuard peers dial the gateway, which cannot dial them"})
	default:
		return h.fail(c, err)
	}
}

// pointBanned answers whether the point's address is banned or greylisted
// (and not trusted); the port is ignored.
func (h *handler) pointBanned(c *fiber.Ctx) error {
	ap, err := pointArg(c)
	if err != nil {
		return h.fail(c, err)
	}
	return httpx.OK(c, h.ACL.Banned(ap.Addr()))
}

// pointEventJSON is the original's P2p_point.Pool_event kind, the second
// element of a point log item [timestamp, kind].
type pointEventJSON struct {
	EventKind string `json:"event_kind"`
	P2PPeerID string `json:"p2p_peer_id,omitempty"`
}

// pointLog answers the recent connection events of the point, as the
// original's [timestamp, {event_kind, p2p_peer_id}] items, or streams them
// with ?monitor. The original writes connection_established and the
// disconnections with event_kind "rejecting_request" (a bug); edgeward
// writes their own names.
func (h *handler) pointLog(c *fiber.Ctx) error {
	ap, err := pointArg(c)
	if err != nil {
		return h.fail(c, err)
	}
	ap = unmapped(ap)
	return h.eventLog(c, func(e events.Event) any {
		kind := connectionKind(e.Kind)
		ep, err := netip.ParseAddrPort(e.Fields["endpoint"])
		if kind == "" || err != nil || unmapped(ep) != ap {
			return nil
		}
		return []any{stamp(e.Time), pointEventJSON{EventKind: kind, P2PPeerID: e.Fields["peer_id"]}}
	})
}

// connectionKind names a connection event as the original's point and
// peer logs do; "" for other events.
func connectionKind(k events.Kind) string {
	switch k {
	case events.PeerConnected, events.PeerMoved:
		return "connection_established"
	case events.PeerDisconnected:
		return "disconnection"
	}
	return ""
}

// pointOp serves a deprecated GET /points/{point}/{op}. ban and trust are
// the PATCH acls; unban and untrust both map to "open", applied only when
// there is something to undo: a trusted address has no ban (trusting
// unbans), and an untrusted one has no trust.
func (h *handler) pointOp(op string) fiber.Handler {
	return func(c *fiber.Ctx) error {
		ap, err := pointArg(c)
		if err != nil {
			return h.fail(c, err)
		}
		force, err := forceArg(c)
		if err != nil {
			return h.fail(c, err)
		}
		if value, apply := deprecatedACL(op, h.ACL.Trusted(ap.Addr())); apply {
			cx, cancel := httpx.Ctx(c)
			defer cancel()
			if err := h.ACL.SetPoint(cx, ap, value, httpx.Caller(c).ID, guard(c, force)); err != nil {
				return h.fail(c, err)
			}
		}
		return httpx.OK(c, fiber.Map{})
	}
}

// deprecatedACL maps a deprecated op onto an acl value, and says whether
// there is anything to apply.
func deprecatedACL(op string, trusted bool) (string, bool) {
	switch op {
	case "ban":
		return acl.Ban, true
	case "trust":
		return acl.Trust, true
	case "unban":
		return acl.Open, !trusted
	default: // untrust
		return acl.Open, trusted
	}
}
