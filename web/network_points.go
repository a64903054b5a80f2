package web

import (
	"github.com/edgeward/edgeward/web/internal/httpx"
	"maps"
	"net/netip"
	"slices"

	"github.com/edgeward/edgeward/core/acl"
	"github.com/edgeward/edgeward/core/events"
	"github.com/edgeward/edgeward/core/overlay"
	"github.com/gofiber/fiber/v2"
)

// pointInfoJSON is the original's P2p_point.Info, as far as edgeward knows
// a point: greylisted_until is the ACL greylist's expiry (the original uses
// the field for its reconnection back-off), last_seen is set while a peer is
// connected from the point, and expected_peer_id only echoes a PATCH.
type pointInfoJSON struct {
	Trusted         bool           `json:"trusted"`
	GreylistedUntil string         `json:"greylisted_until,omitempty"`
	State           pointStateJSON `json:"state"`
	P2PPeerID       string         `json:"p2p_peer_id,omitempty"`
	LastSeen        []string       `json:"last_seen,omitempty"` // [peer_id, timestamp]
	ExpectedPeerID  string         `json:"expected_peer_id,omitempty"`
}

// pointStateJSON is the original's point state: edgeward's points are
// either running (a peer is connected from them) or disconnected.
type pointStateJSON struct {
	EventKind string `json:"event_kind"`
	P2PPeerID string `json:"p2p_peer_id,omitempty"`
}

const (
	stateRunning      = "running"
	stateDisconnected = "disconnected"
)

// pointBook is what the ACL and the overlay know of points at one moment.
type pointBook struct {
	acl   map[netip.Addr]acl.PointState
	conns map[netip.AddrPort]overlay.Connection
	// left is how many ACL addresses a limited book left out. Each names
	// one point (see acl.PointState), none of them a connection's.
	left int
}

func (n *network) pointBook() pointBook { return n.pointBookFirst(0) }

// pointBookFirst is the book of the first limit (0: all) addresses the ACL
// holds and of every connection. The network page shows 200 points where
// 100,000 bans may be held: list()'s first 200 are the whole book's, as
// every address up to the limit-th is in.
func (n *network) pointBookFirst(limit int) pointBook {
	states, addrs := n.d.ACL.Points(limit)
	b := pointBook{acl: make(map[netip.Addr]acl.PointState, len(states)), conns: map[netip.AddrPort]overlay.Connection{}}
	for _, ps := range states {
		b.acl[ps.Addr] = ps
	}
	for _, c := range n.d.Overlay.Connections() {
		if c.Endpoint.IsValid() && c.PeerID != "" {
			ep := netip.AddrPortFrom(c.Endpoint.Addr().Unmap(), c.Endpoint.Port())
			b.conns[ep] = c
			// A connection past the limit: its address's entries tell
			// whether it is also the point the ACL names there.
			if _, in := b.acl[ep.Addr()]; !in && len(states) < addrs {
				if ps, known := n.d.ACL.Point(ep.Addr()); known {
					b.acl[ep.Addr()] = ps
				}
			}
		}
	}
	b.left = addrs - len(b.acl)
	return b
}

// pointBookOf is the book of one point: an O(1) ACL lookup, where the
// full book would walk every entry (100,000 bans and more).
func (n *network) pointBookOf(p netip.AddrPort) pointBook {
	b := pointBook{acl: map[netip.Addr]acl.PointState{}, conns: map[netip.AddrPort]overlay.Connection{}}
	if ps, known := n.d.ACL.Point(p.Addr()); known {
		b.acl[ps.Addr] = ps
	}
	for _, c := range n.d.Overlay.Connections() {
		if ep := netip.AddrPortFrom(c.Endpoint.Addr().Unmap(), c.Endpoint.Port()); ep == p && c.PeerID != "" {
			b.conns[ep] = c
		}
	}
	return b
}

// info describes point p. A point is known when the ACL holds an entry for
// its address (whatever the port) or a peer is connected from it.
func (b pointBook) info(p netip.AddrPort) (info pointInfoJSON, known bool) {
	ps, inACL := b.acl[p.Addr()]
	conn, running := b.conns[p]
	info = pointInfoJSON{Trusted: ps.Trusted, State: pointStateJSON{EventKind: stateDisconnected}}
	if !ps.GreylistedTill.IsZero() {
		info.GreylistedUntil = stamp(ps.GreylistedTill)
	}
	if running {
		info.State = pointStateJSON{EventKind: stateRunning, P2PPeerID: conn.PeerID}
		info.P2PPeerID = conn.PeerID
		if !conn.LastSeen.IsZero() {
			info.LastSeen = []string{conn.PeerID, stamp(conn.LastSeen)}
		}
	}
	return info, inACL || running
}

// list returns every known point, sorted: the points named for each ACL
// address ("<addr>:0" when none was), then every connection endpoint.
func (b pointBook) list() []netip.AddrPort {
	seen := map[netip.AddrPort]bool{}
	for a, ps := range b.acl {
		if len(ps.Points) == 0 {
			seen[netip.AddrPortFrom(a, 0)] = true
		}
		for _, s := range ps.Points {
			if ap, err := acl.ParsePoint(s); err == nil {
				seen[ap] = true
			}
		}
	}
	for ap := range b.conns {
		seen[ap] = true
	}
	return slices.SortedFunc(maps.Keys(seen), netip.AddrPort.Compare)
}

func (n *network) points(c *fiber.Ctx) error {
	filter, err := stateFilter(c, "requested", "accepted", stateRunning, stateDisconnected)
	if err != nil {
		return n.fail(c, err)
	}
	b := n.pointBook()
	out := [][2]any{}
	for _, ap := range b.list() {
		info, _ := b.info(ap)
		if filter == nil || filter[info.State.EventKind] {
			out = append(out, [2]any{ap.String(), info})
		}
	}
	return ok(c, out)
}

func (n *network) point(c *fiber.Ctx) error {
	ap, err := pointArg(c)
	if err != nil {
		return n.fail(c, err)
	}
	return n.answerPoint(c, ap, "")
}

// answerPoint writes the PointInfo of ap, or 404 when ap is unknown.
func (n *network) answerPoint(c *fiber.Ctx, ap netip.AddrPort, expected string) error {
	info, known := n.pointBookOf(ap).info(ap)
	if !known {
		return n.fail(c, unknown("unknown_point",
			"point %s is unknown: the ACL holds nothing for %s and no peer is connected from it", ap, ap.Addr()))
	}
	info.ExpectedPeerID = expected
	return ok(c, info)
}

// patchPoint applies {"acl"?, "peer_id"?} and answers the point's info. As
// in the original, the point may be unknown afterwards (after "open"): 404.
func (n *network) patchPoint(c *fiber.Ctx) error {
	ap, err := pointArg(c)
	if err != nil {
		return n.fail(c, err)
	}
	var body aclBody
	if err := decodeBody(c, &body); err != nil {
		return n.fail(c, err)
	}
	expected := deref(body.PeerID)
	if body.PeerID != nil {
		if err := checkPeerID("peer_id", expected); err != nil {
			return n.fail(c, err)
		}
	}
	if body.ACL != nil {
		cx, cancel := httpx.Ctx(c)
		defer cancel()
		if err := n.d.ACL.SetPoint(cx, ap, *body.ACL, httpx.Caller(c).ID); err != nil {
			return n.fail(c, err)
		}
	}
	return n.answerPoint(c, ap, expected)
}

// pointBanned answers whether the point's address is banned or greylisted
// (and not trusted); the port is ignored.
func (n *network) pointBanned(c *fiber.Ctx) error {
	ap, err := pointArg(c)
	if err != nil {
		return n.fail(c, err)
	}
	return ok(c, n.d.ACL.Banned(ap.Addr()))
}

// pointLog answers the recent events about the point's address, or streams
// them with ?monitor.
func (n *network) pointLog(c *fiber.Ctx) error {
	ap, err := pointArg(c)
	if err != nil {
		return n.fail(c, err)
	}
	subject := ap.Addr().String()
	return n.eventLog(c, func(e events.Event) bool { return e.Subject == subject })
}

// pointOp serves a deprecated GET /points/{point}/{op}. ban and trust are
// the PATCH acls; unban and untrust both map to "open", applied only when
// there is something to undo: a trusted address has no ban (trusting
// unbans), and an untrusted one has no trust.
func (n *network) pointOp(op string) fiber.Handler {
	return func(c *fiber.Ctx) error {
		ap, err := pointArg(c)
		if err != nil {
			return n.fail(c, err)
		}
		trusted := n.d.ACL.Trusted(ap.Addr())
		if value, apply := deprecatedACL(op, trusted); apply {
			cx, cancel := httpx.Ctx(c)
			defer cancel()
			if err := n.d.ACL.SetPoint(cx, ap, value, httpx.Caller(c).ID); err != nil {
				return n.fail(c, err)
			}
		}
		return ok(c, fiber.Map{})
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
