package peers

import (
	"fmt"
	"net/netip"

	"github.com/gofiber/fiber/v2"

	"github.com/edgeward/edgeward/core"
	"github.com/edgeward/edgeward/core/overlay"
	"github.com/edgeward/edgeward/web/internal/httpx"
)

type peerMinJSON struct {
	ID   string `json:"id"`
	Name string `json:"name"`
}

type groupJSON struct {
	ID             string         `json:"id"`
	Name           string         `json:"name"`
	PeersCount     int            `json:"peers_count"`
	ResourcesCount int            `json:"resources_count"`
	Issued         string         `json:"issued"`
	Peers          []peerMinJSON  `json:"peers"`
	Resources      []resourceJSON `json:"resources"`
}

// resourceType is a group resource's type in the original's terms. Here a
// resource is a network behind the gateway, so its id is the network
// itself ("192.168.1.0/24") and its type is "host" for a /32, else
// "subnet".
func resourceType(p netip.Prefix) string {
	if p.IsSingleIP() {
		return "host"
	}
	return "subnet"
}

func toGroupJSON(g overlay.GroupInfo) groupJSON {
	out := groupJSON{ID: g.ID, Name: g.Name, PeersCount: len(g.Members), Issued: g.Issued,
		Peers: make([]peerMinJSON, len(g.Members)), Resources: make([]resourceJSON, len(g.Resources)),
		ResourcesCount: len(g.Resources)}
	for i, m := range g.Members {
		out.Peers[i] = peerMinJSON(m)
	}
	for i, r := range g.Resources {
		out.Resources[i] = resourceJSON{ID: r.String(), Type: resourceType(r)}
	}
	return out
}

func (h *handler) listGroups(c *fiber.Ctx) error {
	name := c.Query("name")
	groups := h.d.Groups.Groups(name)
	if name != "" && len(groups) == 0 {
		return h.fail(c, core.NotFound("group with name %q not found", name))
	}
	out := make([]groupJSON, len(groups))
	for i, g := range groups {
		out[i] = toGroupJSON(g)
	}
	return httpx.OK(c, out)
}

func (h *handler) getGroup(c *fiber.Ctx) error {
	g, err := h.d.Groups.Group(c.Params("id"))
	if err != nil {
		return h.fail(c, err)
	}
	return httpx.OK(c, toGroupJSON(g))
}

type groupReq struct {
	Name      *string        `json:"name"`
	Peers     []string       `json:"peers"`
	Resources []resourceJSON `json:"resources"`
}

// parseResources reads resources[i].id as a network; the type may be left
// out, and when given must say what the id is.
func parseResources(in []resourceJSON) ([]netip.Prefix, error) {
	v := &core.ValidationError{}
	var out []netip.Prefix
	for i, r := range in {
		p, err := netip.ParsePrefix(r.ID)
		if err != nil {
			if a, aerr := netip.ParseAddr(r.ID); aerr == nil {
				p, err = netip.PrefixFrom(a, a.BitLen()), nil
			}
		}
		switch {
		case err != nil:
			v.Add(fmt.Sprintf("resources[%d].id", i), "%q is not a network such as 192.168.1.0/24", r.ID)
		case r.Type != "" && r.Type != resourceType(p):
			v.Add(fmt.Sprintf("resources[%d].type", i), "%s is a %s, not a %s", p, resourceType(p), r.Type)
		default:
			out = append(out, p)
		}
	}
	return out, v.Err()
}

func (h *handler) createGroup(c *fiber.Ctx) error { return h.saveGroup(c, "") }

func (h *handler) updateGroup(c *fiber.Ctx) error { return h.saveGroup(c, c.Params("id")) }

func (h *handler) saveGroup(c *fiber.Ctx, id string) error {
	var req groupReq
	if err := httpx.Decode(c, &req); err != nil {
		return h.fail(c, err)
	}
	if req.Name == nil {
		return h.fail(c, core.Invalid("name", "is required"))
	}
	res, err := parseResources(req.Resources)
	if err != nil {
		return h.fail(c, err)
	}
	cx, cancel := httpx.Ctx(c)
	defer cancel()
	g, err := h.d.Groups.SaveGroup(cx, id, overlay.GroupSpec{Name: *req.Name, Peers: req.Peers, Resources: res})
	if err != nil {
		return h.fail(c, err)
	}
	return httpx.OK(c, toGroupJSON(g))
}

func (h *handler) deleteGroup(c *fiber.Ctx) error {
	cx, cancel := httpx.Ctx(c)
	defer cancel()
	if err := h.d.Groups.DeleteGroup(cx, c.Params("id")); err != nil {
		return h.fail(c, err)
	}
	return httpx.OK(c, fiber.Map{})
}
