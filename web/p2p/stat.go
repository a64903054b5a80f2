package p2p

import (
	"strconv"

	"github.com/gofiber/fiber/v2"

	"github.com/edgeward/edgeward/web/internal/httpx"
)

func (h *handler) self(c *fiber.Ctx) error { return httpx.OK(c, h.NodeID) }

func (h *handler) statJSON() statJSON {
	if h.Stats == nil {
		return zeroStat
	}
	s := h.Stats.Stat()
	return statJSON{TotalSent: strconv.FormatUint(s.TotalSent, 10), TotalRecv: strconv.FormatUint(s.TotalRecv, 10),
		CurrentInflow: s.Inflow, CurrentOutflow: s.Outflow}
}

func (h *handler) stat(c *fiber.Ctx) error { return httpx.OK(c, h.statJSON()) }

func (h *handler) version(c *fiber.Ctx) error { return httpx.OK(c, netVersion) }

func (h *handler) versions(c *fiber.Ctx) error { return httpx.OK(c, []versionJSON{netVersion}) }

// fullStatJSON is the original's full_stat: the stat and every
// connection, peer and point in one answer. edgeward's connections are all
// incoming (peers dial the gateway), so outgoing_connections is empty.
type fullStatJSON struct {
	Stat                statJSON         `json:"stat"`
	IncomingConnections []connectionJSON `json:"incoming_connections"`
	OutgoingConnections []connectionJSON `json:"outgoing_connections"`
	Peers               [][2]any         `json:"peers"`
	Points              [][2]any         `json:"points"`
}

func (h *handler) fullStat(c *fiber.Ctx) error {
	out := fullStatJSON{Stat: h.statJSON(), IncomingConnections: []connectionJSON{}, OutgoingConnections: []connectionJSON{},
		Peers: h.peerList(nil), Points: h.pointList(nil)}
	for _, conn := range h.connectionList() {
		if conn.Incoming {
			out.IncomingConnections = append(out.IncomingConnections, conn)
		} else {
			out.OutgoingConnections = append(out.OutgoingConnections, conn)
		}
	}
	return httpx.OK(c, out)
}
