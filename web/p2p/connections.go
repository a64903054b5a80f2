package p2p

import (
	"strconv"

	"github.com/gofiber/fiber/v2"

	"github.com/edgeward/edgeward/core/p2pview"
	"github.com/edgeward/edgeward/web/internal/httpx"
)

// connectionJSON is the original's P2p_connection.Info of a connected
// overlay peer. WireGuard peers dial the gateway, so every connection is
// incoming; the socket port is the endpoint's port.
type connectionJSON struct {
	Incoming         bool         `json:"incoming"`
	PeerID           string       `json:"peer_id"`
	IDPoint          idPointJSON  `json:"id_point"`
	RemoteSocketPort uint16       `json:"remote_socket_port"`
	AnnouncedVersion versionJSON  `json:"announced_version"`
	Private          bool         `json:"private"`
	LocalMetadata    metadataJSON `json:"local_metadata"`
	RemoteMetadata   metadataJSON `json:"remote_metadata"`
}

// metadataJSON is the original's connection metadata.
type metadataJSON struct {
	DisableMempool bool `json:"disable_mempool"`
	PrivateNode    bool `json:"private_node"`
}

func toConnectionJSON(c p2pview.Connection) connectionJSON {
	return connectionJSON{Incoming: c.Incoming, PeerID: c.PeerID, IDPoint: idPoint(c.Endpoint),
		RemoteSocketPort: c.Endpoint.Port(), AnnouncedVersion: netVersion}
}

func (h *handler) connectionList() []connectionJSON {
	out := []connectionJSON{}
	for _, conn := range h.View.Connections() {
		out = append(out, toConnectionJSON(conn))
	}
	return out
}

func (h *handler) connections(c *fiber.Ctx) error { return httpx.OK(c, h.connectionList()) }

func (h *handler) connection(c *fiber.Ctx) error {
	id, err := peerIDArg(c)
	if err != nil {
		return h.fail(c, err)
	}
	conn, ok := h.View.Connection(id)
	if !ok {
		return h.fail(c, unknown("not_connected", "peer %s is not connected", id))
	}
	return httpx.OK(c, toConnectionJSON(conn))
}

// disconnect ends the peer's connection; like the original it answers {}
// whether or not the peer was connected.
func (h *handler) disconnect(c *fiber.Ctx) error {
	id, err := peerIDArg(c)
	if err != nil {
		return h.fail(c, err)
	}
	cx, cancel := httpx.Ctx(c)
	defer cancel()
	if h.Plane == nil {
		if _, err := h.Overlay.Disconnect(cx, id); err != nil {
			return h.fail(c, err)
		}
		return httpx.OK(c, fiber.Map{})
	}
	p, err := h.Overlay.ByPeerID(id)
	if err != nil {
		return httpx.OK(c, fiber.Map{})
	}
	if _, err := h.Plane.Kick(cx, p.PublicKey); err != nil {
		return h.fail(c, err)
	}
	return httpx.OK(c, fiber.Map{})
}

// tunnelJSON is the WireGuard data plane's state (an edgeward extension
// of the dialect, beside /network/acl/status).
type tunnelJSON struct {
	Running   bool   `json:"running"`
	Why       string `json:"why,omitempty"`
	Interface string `json:"interface"`
	Peers     int    `json:"peers"`
	Connected int    `json:"connected"`
	RxBytes   string `json:"total_recv"`
	TxBytes   string `json:"total_sent"`
	LastPoll  string `json:"last_poll,omitempty"`
}

func (h *handler) tunnel(c *fiber.Ctx) error {
	if h.Plane == nil {
		return httpx.OK(c, tunnelJSON{Why: "no WireGuard data plane in this process", RxBytes: "0", TxBytes: "0"})
	}
	s := h.Plane.Status()
	out := tunnelJSON{Running: s.Running, Why: s.Why, Interface: s.Interface, Peers: s.Peers, Connected: s.Connected,
		RxBytes: strconv.FormatInt(s.RxBytes, 10), TxBytes: strconv.FormatInt(s.TxBytes, 10)}
	if !s.LastPoll.IsZero() {
		out.LastPoll = stamp(s.LastPoll)
	}
	return httpx.OK(c, out)
}
