package interfaces

import (
	"github.com/edgeward/edgeward/core/links"
	"github.com/edgeward/edgeward/web/internal/httpx"
	"github.com/gofiber/fiber/v2"
)

func (r networkReq) patch() links.NetworkPatch {
	return links.NetworkPatch{ID: r.ID, Name: r.Name, AssignedBy: r.AssignedBy, IPRanges: r.IPRanges,
		FloatingIPRanges: r.FloatingIPRanges, Netmask: r.Netmask, DNSServers: r.DNSServers,
		DNSSearchDomains: r.DNSSearchDomains, MTU: r.MTU, VLANID: r.VLANID}
}

func (h *handler) listNetworks(c *fiber.Ctx) error {
	id, _, err := ifaceArgs(c, "")
	if err != nil {
		return h.fail(c, err)
	}
	ns, err := h.d.Links.Networks(id)
	if err == nil {
		err = h.etag(c, id)
	}
	if err != nil {
		return h.fail(c, err)
	}
	out := make([]networkJSON, 0, len(ns))
	for _, n := range ns {
		out = append(out, toNetworkJSON(n))
	}
	return httpx.OK(c, out)
}

func (h *handler) getNetwork(c *fiber.Ctx) error {
	id, nid, err := ifaceArgs(c, "network_id")
	if err != nil {
		return h.fail(c, err)
	}
	n, err := h.d.Links.Network(id, nid)
	if err == nil {
		err = h.etag(c, id)
	}
	if err != nil {
		return h.fail(c, err)
	}
	return httpx.OK(c, toNetworkJSON(n))
}

func (h *handler) addNetwork(c *fiber.Ctx) error {
	id, _, err := ifaceArgs(c, "")
	if err != nil {
		return h.fail(c, err)
	}
	opts, err := writeOpts(c, true)
	if err != nil {
		return h.fail(c, err)
	}
	var req networkReq
	if err := httpx.Decode(c, &req); err != nil {
		return h.fail(c, err)
	}
	cx, cancel := httpx.Ctx(c)
	defer cancel()
	if _, err := h.d.Links.AddNetwork(cx, id, req.patch(), opts); err != nil {
		return h.fail(c, err)
	}
	return accepted(c, id)
}

func (h *handler) setNetwork(replace bool) fiber.Handler {
	return func(c *fiber.Ctx) error {
		id, nid, err := ifaceArgs(c, "network_id")
		if err != nil {
			return h.fail(c, err)
		}
		opts, err := writeOpts(c, replace)
		if err != nil {
			return h.fail(c, err)
		}
		var req networkReq
		if err := httpx.Decode(c, &req); err != nil {
			return h.fail(c, err)
		}
		cx, cancel := httpx.Ctx(c)
		defer cancel()
		if err := h.d.Links.SetNetwork(cx, id, nid, req.patch(), opts); err != nil {
			return h.fail(c, err)
		}
		return accepted(c, id)
	}
}

func (h *handler) deleteNetwork(c *fiber.Ctx) error {
	id, nid, err := ifaceArgs(c, "network_id")
	if err != nil {
		return h.fail(c, err)
	}
	opts, err := writeOpts(c, false)
	if err != nil {
		return h.fail(c, err)
	}
	cx, cancel := httpx.Ctx(c)
	defer cancel()
	if err := h.d.Links.DeleteNetwork(cx, id, nid, opts); err != nil {
		return h.fail(c, err)
	}
	return accepted(c, id)
}
