package p2p

import (
	"net/netip"
	"strconv"

	"github.com/gofiber/fiber/v2"

	"github.com/edgeward/edgeward/core/events"
	"github.com/edgeward/edgeward/core/p2pview"
	"github.com/edgeward/edgeward/web/internal/httpx"
)

// peerInfoJSON is the original's P2p_peer.Info, reduced to what edgeward
// knows of an overlay peer: score is always 0; peer_metadata, which the
// original requires, is its distributed-DB counters, all zero (edgeward
// relays no blocks or operations); conn_metadata is present while the peer
// is connected; stat is the tunnel's bytes to and from the peer (no
// rates); reachable_at is where the peer connects from while connected;
// last_seen is [reachable point, timestamp] of the last handshake the
// gateway saw.
type peerInfoJSON struct {
	Score        float64          `json:"score"`
	Trusted      bool             `json:"trusted"`
	ConnMetadata *metadataJSON    `json:"conn_metadata,omitempty"`
	PeerMetadata peerMetadataJSON `json:"peer_metadata"`
	State        string           `json:"state"`
	ReachableAt  *idPointJSON     `json:"reachable_at,omitempty"`
	Stat         statJSON         `json:"stat"`
	LastSeen     []any            `json:"last_seen,omitempty"`
}

func toPeerInfo(p p2pview.Peer) peerInfoJSON {
	out := peerInfoJSON{Trusted: p.Trusted, State: p.State, Stat: zeroStat, PeerMetadata: emptyPeerMetadata()}
	if p.RxBytes != 0 || p.TxBytes != 0 {
		out.Stat.TotalRecv, out.Stat.TotalSent = strconv.FormatInt(p.RxBytes, 10), strconv.FormatInt(p.TxBytes, 10)
	}
	if p.State == p2pview.Running {
		out.ConnMetadata = &metadataJSON{}
		if p.Endpoint.IsValid() {
			ip := idPoint(p.Endpoint)
			out.ReachableAt = &ip
		}
	}
	if !p.LastSeen.IsZero() && p.Endpoint.IsValid() {
		out.LastSeen = []any{idPoint(p.Endpoint), stamp(p.LastSeen)}
	}
	return out
}

// peerList lists every known peer whose state is in filter (nil: all).
func (h *handler) peerList(filter map[string]bool) [][2]any {
	out := [][2]any{}
	for _, p := range h.View.Peers() {
		if filter == nil || filter[p.State] {
			out = append(out, [2]any{p.ID, toPeerInfo(p)})
		}
	}
	return out
}

func (h *handler) peers(c *fiber.Ctx) error {
	filter, err := stateFilter(c, "accepted", p2pview.Running, p2pview.Disconnected)
	if err != nil {
		return h.fail(c, err)
	}
	return httpx.OK(c, h.peerList(filter))
}

func (h *handler) peer(c *fiber.Ctx) error {
	id, err := peerIDArg(c)
	if err != nil {
		return h.fail(c, err)
	}
	return h.answerPeer(c, id)
}

func (h *handler) answerPeer(c *fiber.Ctx, id string) error {
	p, known := h.View.Peer(id)
	if !known {
		return h.fail(c, unknown("not_found", "peer %s is unknown: no overlay peer has it and the ACL holds nothing for it", id))
	}
	return httpx.OK(c, toPeerInfo(p))
}

// peerPatch is the PATCH body of a peer.
type peerPatch struct {
	ACL *string `json:"acl"`
}

// patchPeer applies {"acl"?} and answers the peer's info. As in the
// original the ACL applies to any well-formed id, known or not; the id is
// then registered, so the answer is its info, never a 404 after a change.
func (h *handler) patchPeer(c *fiber.Ctx) error {
	id, err := peerIDArg(c)
	if err != nil {
		return h.fail(c, err)
	}
	var body peerPatch
	if err := decodeBody(c, &body); err != nil {
		return h.fail(c, err)
	}
	if body.ACL != nil {
		cx, cancel := httpx.Ctx(c)
		defer cancel()
		// SetPeer checks the acl value before it changes anything.
		if err := h.ACL.SetPeer(cx, id, *body.ACL, httpx.Caller(c).ID); err != nil {
			return h.fail(c, err)
		}
		h.View.RegisterPeer(id)
	}
	return h.answerPeer(c, id)
}

// peerBanned answers whether the peer id is banned or greylisted (and not
// trusted). Any well-formed id has an answer.
func (h *handler) peerBanned(c *fiber.Ctx) error {
	id, err := peerIDArg(c)
	if err != nil {
		return h.fail(c, err)
	}
	st := h.ACL.Peer(id)
	return httpx.OK(c, st.Banned || st.Greylisted)
}

// peerEventJSON is the original's P2p_peer.Pool_event.
type peerEventJSON struct {
	Kind      string `json:"kind"`
	Timestamp string `json:"timestamp"`
	Addr      string `json:"addr"`
	Port      uint16 `json:"port,omitempty"`
}

// peerLog answers the recent connection events of the peer as the
// original's {kind, timestamp, addr, port} items, or streams them with
// ?monitor.
func (h *handler) peerLog(c *fiber.Ctx) error {
	id, err := peerIDArg(c)
	if err != nil {
		return h.fail(c, err)
	}
	return h.eventLog(c, func(e events.Event) any {
		kind := connectionKind(e.Kind)
		ep, err := netip.ParseAddrPort(e.Fields["endpoint"])
		if kind == "" || err != nil || e.Fields["peer_id"] != id {
			return nil
		}
		return peerEventJSON{Kind: kind, Timestamp: stamp(e.Time), Addr: p2pAddr(ep.Addr()), Port: ep.Port()}
	})
}

// peerOp serves a deprecated GET /peers/{peer_id}/{op}, mapped as for
// points (see pointOp).
func (h *handler) peerOp(op string) fiber.Handler {
	return func(c *fiber.Ctx) error {
		id, err := peerIDArg(c)
		if err != nil {
			return h.fail(c, err)
		}
		if value, apply := deprecatedACL(op, h.ACL.Peer(id).Trusted); apply {
			cx, cancel := httpx.Ctx(c)
			defer cancel()
			if err := h.ACL.SetPeer(cx, id, value, httpx.Caller(c).ID); err != nil {
				return h.fail(c, err)
			}
		}
		return httpx.OK(c, fiber.Map{})
	}
}
