package p2p

import (
	"github.com/gofiber/fiber/v2"

	"github.com/edgeward/edgeward/web/internal/httpx"
)

// greylistIPsJSON is the original's greylist/ips answer. NotReliableSince
// is null unless the greylist overflowed, in which case ips is incomplete.
type greylistIPsJSON struct {
	IPs              []string `json:"ips"`
	NotReliableSince *string  `json:"not_reliable_since"`
}

// clearGreylist empties every greylist. Unlike the original, deliberate
// bans and trusts stay: clearing what the system decided must not undo what
// an admin decided.
func (h *handler) clearGreylist(c *fiber.Ctx) error {
	cx, cancel := httpx.Ctx(c)
	defer cancel()
	if err := h.ACL.ClearGreylist(cx); err != nil {
		return h.fail(c, err)
	}
	return httpx.OK(c, fiber.Map{})
}

func (h *handler) greylistIPs(c *fiber.Ctx) error {
	addrs, since := h.ACL.GreylistIPs()
	out := greylistIPsJSON{IPs: make([]string, len(addrs))}
	for i, a := range addrs {
		out.IPs[i] = p2pAddr(a)
	}
	if !since.IsZero() {
		s := stamp(since)
		out.NotReliableSince = &s
	}
	return httpx.OK(c, out)
}

func (h *handler) greylistPeers(c *fiber.Ctx) error {
	return httpx.OK(c, h.ACL.GreylistedPeers())
}
