package web

import (
	"github.com/edgeward/edgeward/web/internal/httpx"
	"github.com/gofiber/fiber/v2"
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
func (n *network) clearGreylist(c *fiber.Ctx) error {
	cx, cancel := httpx.Ctx(c)
	defer cancel()
	if err := n.d.ACL.ClearGreylist(cx); err != nil {
		return n.fail(c, err)
	}
	return ok(c, fiber.Map{})
}

func (n *network) greylistIPs(c *fiber.Ctx) error {
	addrs, since := n.d.ACL.GreylistIPs()
	out := greylistIPsJSON{IPs: make([]string, len(addrs))}
	for i, a := range addrs {
		out.IPs[i] = p2pAddr(a)
	}
	if !since.IsZero() {
		s := stamp(since)
		out.NotReliableSince = &s
	}
	return ok(c, out)
}

func (n *network) greylistPeers(c *fiber.Ctx) error {
	return ok(c, n.d.ACL.GreylistedPeers())
}
