package web

import (
	"fmt"
	"github.com/edgeward/edgeward/web/internal/httpx"

	"github.com/edgeward/edgeward/core/events"
	"github.com/edgeward/edgeward/core/overlay"
	"github.com/gofiber/fiber/v2"
)

// peerInfoJSON is the original's P2p_peer.Info, reduced to what edgeward
// knows of an overlay peer: no score (always 0), stat is the tunnel's bytes
// to and from the peer (no rates), no peer metadata. id_point is where the peer connects from
// while it is connected; last_seen is [id_point, timestamp] of the last
// handshake the gateway saw.
type peerInfoJSON struct {
	Score    float64      `json:"score"`
	Trusted  bool         `json:"trusted"`
	State    string       `json:"state"`
	IDPoint  *idPointJSON `json:"id_point,omitempty"`
	Stat     statJSON     `json:"stat"`
	LastSeen []any        `json:"last_seen,omitempty"`
}

func (n *network) peerInfo(p overlay.PeerInfo, id string) peerInfoJSON {
	out := peerInfoJSON{Trusted: n.d.ACL.Peer(id).Trusted, State: stateDisconnected, Stat: zeroStat}
	if p.RxBytes != 0 || p.TxBytes != 0 {
		out.Stat.TotalRecv, out.Stat.TotalSent = fmt.Sprint(p.RxBytes), fmt.Sprint(p.TxBytes)
	}
	if p.Connected {
		out.State = stateRunning
		if p.Endpoint.IsValid() {
			ip := idPoint(p.Endpoint)
			out.IDPoint = &ip
		}
	}
	if !p.LastSeen.IsZero() && p.Endpoint.IsValid() {
		out.LastSeen = []any{idPoint(p.Endpoint), stamp(p.LastSeen)}
	}
	return out
}

func (n *network) peers(c *fiber.Ctx) error {
	filter, err := stateFilter(c, "accepted", stateRunning, stateDisconnected)
	if err != nil {
		return n.fail(c, err)
	}
	out := [][2]any{}
	for _, p := range n.d.Overlay.Peers(overlay.Filter{}) {
		id := overlay.PeerID(p.PublicKey)
		if id == "" {
			continue // a key that is not a WireGuard key has no P2P id
		}
		info := n.peerInfo(p, id)
		if filter == nil || filter[info.State] {
			out = append(out, [2]any{id, info})
		}
	}
	return ok(c, out)
}

func (n *network) peer(c *fiber.Ctx) error {
	id, err := peerIDArg(c)
	if err != nil {
		return n.fail(c, err)
	}
	return n.answerPeer(c, id)
}

func (n *network) answerPeer(c *fiber.Ctx, id string) error {
	p, err := n.d.Overlay.ByPeerID(id)
	if err != nil {
		return n.fail(c, err)
	}
	return ok(c, n.peerInfo(p, id))
}

// peerACLBody is the PATCH body of a peer.
type peerACLBody struct {
	ACL *string `json:"acl"`
}

// patchPeer applies {"acl"?} and answers the peer's info. As in the
// original the ACL is applied even to a peer id the overlay does not know,
// which then answers 404.
func (n *network) patchPeer(c *fiber.Ctx) error {
	id, err := peerIDArg(c)
	if err != nil {
		return n.fail(c, err)
	}
	var body peerACLBody
	if err := decodeBody(c, &body); err != nil {
		return n.fail(c, err)
	}
	if body.ACL != nil {
		cx, cancel := httpx.Ctx(c)
		defer cancel()
		if err := n.d.ACL.SetPeer(cx, id, *body.ACL, httpx.Caller(c).ID); err != nil {
			return n.fail(c, err)
		}
	}
	return n.answerPeer(c, id)
}

// peerBanned answers whether the peer id is banned or greylisted (and not
// trusted). Any well-formed id has an answer.
func (n *network) peerBanned(c *fiber.Ctx) error {
	id, err := peerIDArg(c)
	if err != nil {
		return n.fail(c, err)
	}
	st := n.d.ACL.Peer(id)
	return ok(c, st.Banned || st.Greylisted)
}

// peerLog answers the recent events about the peer, under its P2P id (ACL
// events) or its overlay id (connections), or streams them with ?monitor.
func (n *network) peerLog(c *fiber.Ctx) error {
	id, err := peerIDArg(c)
	if err != nil {
		return n.fail(c, err)
	}
	overlayID := ""
	if p, err := n.d.Overlay.ByPeerID(id); err == nil {
		overlayID = p.ID
	}
	return n.eventLog(c, func(e events.Event) bool {
		return e.Subject == id || (overlayID != "" && e.Subject == overlayID)
	})
}

// peerOp serves a deprecated GET /peers/{peer_id}/{op}, mapped as for
// points (see pointOp).
func (n *network) peerOp(op string) fiber.Handler {
	return func(c *fiber.Ctx) error {
		id, err := peerIDArg(c)
		if err != nil {
			return n.fail(c, err)
		}
		if value, apply := deprecatedACL(op, n.d.ACL.Peer(id).Trusted); apply {
			cx, cancel := httpx.Ctx(c)
			defer cancel()
			if err := n.d.ACL.SetPeer(cx, id, value, httpx.Caller(c).ID); err != nil {
				return n.fail(c, err)
			}
		}
		return ok(c, fiber.Map{})
	}
}
