package web

import (
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
	cx, cancel := ctx(c)
	defer cancel()
	if _, err := n.d.Overlay.Disconnect(cx, id); err != nil {
		return n.fail(c, err)
	}
	return ok(c, fiber.Map{})
}
