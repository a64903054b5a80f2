package web

import (
	"fmt"
	"github.com/edgeward/edgeward/web/internal/httpx"

	"github.com/edgeward/edgeward/core/overlay"
	"github.com/gofiber/fiber/v2"
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

func toConnectionJSON(c overlay.Connection) connectionJSON {
	return connectionJSON{Incoming: true, PeerID: c.PeerID, IDPoint: idPoint(c.Endpoint),
		RemoteSocketPort: c.Endpoint.Port(), AnnouncedVersion: netVersion}
}

func (n *network) connections(c *fiber.Ctx) error {
	out := []connectionJSON{}
	for _, conn := range n.d.Overlay.Connections() {
		if conn.PeerID != "" {
			out = append(out, toConnectionJSON(conn))
		}
	}
	return ok(c, out)
}

func (n *network) connection(c *fiber.Ctx) error {
	id, err := peerIDArg(c)
	if err != nil {
		return n.fail(c, err)
	}
	for _, conn := range n.d.Overlay.Connections() {
		if conn.PeerID == id {
			return ok(c, toConnectionJSON(conn))
		}
	}
	return n.fail(c, unknown("not_connected", "peer %s is not connected", id))
}

// disconnect ends the peer's connection; like the original it answers {}
// whether or not the peer was connected.
func (n *network) disconnect(c *fiber.Ctx) error {
	id, err := peerIDArg(c)
	if err != nil {
		return n.fail(c, err)
	}
	cx, cancel := httpx.Ctx(c)
	defer cancel()
	if n.d.Plane == nil {
		if _, err := n.d.Overlay.Disconnect(cx, id); err != nil {
			return n.fail(c, err)
		}
		return ok(c, fiber.Map{})
	}
	p, err := n.d.Overlay.ByPeerID(id)
	if err != nil {
		return ok(c, fiber.Map{})
	}
	if _, err := n.d.Plane.Kick(cx, p.PublicKey); err != nil {
		return n.fail(c, err)
	}
	return ok(c, fiber.Map{})
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

func (n *network) tunnel(c *fiber.Ctx) error {
	if n.d.Plane == nil {
		return ok(c, tunnelJSON{Why: "no WireGuard data plane in this process", RxBytes: "0", TxBytes: "0"})
	}
	s := n.d.Plane.Status()
	out := tunnelJSON{Running: s.Running, Why: s.Why, Interface: s.Interface, Peers: s.Peers, Connected: s.Connected,
		RxBytes: fmt.Sprint(s.RxBytes), TxBytes: fmt.Sprint(s.TxBytes)}
	if !s.LastPoll.IsZero() {
		out.LastPoll = stamp(s.LastPoll)
	}
	return ok(c, out)
}
