package web

import (
	"github.com/edgeward/edgeward/core"
	"github.com/edgeward/edgeward/core/overlay"
	"github.com/gofiber/fiber/v2"
)

type peerMinJSON struct {
	ID   string `json:"id"`
	Name string `json:"name"`
}

type groupJSON struct {
	ID             string        `json:"id"`
	Name           string        `json:"name"`
	PeersCount     int           `json:"peers_count"`
	ResourcesCount int           `json:"resources_count"`
	Issued         string        `json:"issued"`
	Peers          []peerMinJSON `json:"peers"`
	Resources      []struct{}    `json:"resources"`
}

func toGroupJSON(g overlay.GroupInfo) groupJSON {
	out := groupJSON{ID: g.ID, Name: g.Name, PeersCount: len(g.Members), Issued: g.Issued,
		Peers: make([]peerMinJSON, len(g.Members)), Resources: []struct{}{}}
	for i, m := range g.Members {
		out.Peers[i] = peerMinJSON(m)
	}
	return out
}

func (a *api_) listGroups(c *fiber.Ctx) error {
	name := c.Query("name")
	groups := a.d.Overlay.Groups(name)
	if name != "" && len(groups) == 0 {
		return a.fail(c, core.NotFound("group with name %q not found", name))
	}
	out := make([]groupJSON, len(groups))
	for i, g := range groups {
		out[i] = toGroupJSON(g)
	}
	return ok(c, out)
}

func (a *api_) getGroup(c *fiber.Ctx) error {
	g, err := a.d.Overlay.Group(c.Params("id"))
	if err != nil {
		return a.fail(c, err)
	}
	return ok(c, toGroupJSON(g))
}

type groupReq struct {
	Name  *string  `json:"name"`
	Peers []string `json:"peers"`
}

func (a *api_) createGroup(c *fiber.Ctx) error { return a.saveGroup(c, "") }

func (a *api_) updateGroup(c *fiber.Ctx) error { return a.saveGroup(c, c.Params("id")) }

func (a *api_) saveGroup(c *fiber.Ctx, id string) error {
	var req groupReq
	if err := decode(c, &req); err != nil {
		return a.fail(c, err)
	}
	if req.Name == nil {
		return a.fail(c, core.Invalid("name", "is required"))
	}
	cx, cancel := ctx(c)
	defer cancel()
	g, err := a.d.Overlay.SaveGroup(cx, id, overlay.GroupSpec{Name: *req.Name, Peers: req.Peers})
	if err != nil {
		return a.fail(c, err)
	}
	return ok(c, toGroupJSON(g))
}

func (a *api_) deleteGroup(c *fiber.Ctx) error {
	cx, cancel := ctx(c)
	defer cancel()
	if err := a.d.Overlay.DeleteGroup(cx, c.Params("id")); err != nil {
		return a.fail(c, err)
	}
	return ok(c, fiber.Map{})
}
