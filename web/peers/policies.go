package peers

import (
	"fmt"
	"strconv"

	"github.com/gofiber/fiber/v2"

	"github.com/edgeward/edgeward/core"
	"github.com/edgeward/edgeward/core/overlay"
	"github.com/edgeward/edgeward/web/internal/httpx"
)

// resourceJSON is the original's resource reference: a rule side naming
// one peer, or a network a group stands for.
type resourceJSON struct {
	ID   string `json:"id"`
	Type string `json:"type"`
}

type portRangeJSON struct {
	Start int `json:"start"`
	End   int `json:"end"`
}

type ruleJSON struct {
	ID                  string          `json:"id"`
	Name                string          `json:"name"`
	Description         string          `json:"description"`
	Enabled             bool            `json:"enabled"`
	Action              string          `json:"action"`
	Bidirectional       bool            `json:"bidirectional"`
	Protocol            string          `json:"protocol"`
	Ports               []string        `json:"ports"`
	PortRanges          []portRangeJSON `json:"port_ranges"`
	Sources             []groupMinJSON  `json:"sources"`
	Destinations        []groupMinJSON  `json:"destinations"`
	SourceResource      *resourceJSON   `json:"sourceResource,omitempty"`
	DestinationResource *resourceJSON   `json:"destinationResource,omitempty"`
}

type policyJSON struct {
	ID                  string     `json:"id"`
	Name                string     `json:"name"`
	Description         string     `json:"description"`
	Enabled             bool       `json:"enabled"`
	SourcePostureChecks []string   `json:"source_posture_checks"`
	Rules               []ruleJSON `json:"rules"`
}

func toPolicyJSON(p overlay.PolicyInfo) policyJSON {
	out := policyJSON{ID: p.ID, Name: p.Name, Description: p.Description, Enabled: p.Enabled,
		SourcePostureChecks: []string{}, Rules: make([]ruleJSON, len(p.Rules))}
	side := func(ids []string) []groupMinJSON {
		gs := make([]groupMinJSON, 0, len(ids))
		for _, id := range ids {
			gs = append(gs, groupMinJSON(p.Groups[id]))
		}
		return gs
	}
	for i, r := range p.Rules {
		rj := ruleJSON{ID: r.ID, Name: r.Name, Description: r.Description, Enabled: r.Enabled, Action: r.Action,
			Bidirectional: r.Bidirectional, Protocol: r.Protocol, Ports: []string{}, PortRanges: []portRangeJSON{},
			Sources: side(r.Sources), Destinations: side(r.Destinations)}
		for _, port := range r.Ports {
			rj.Ports = append(rj.Ports, strconv.Itoa(int(port)))
		}
		for _, pr := range r.PortRanges {
			rj.PortRanges = append(rj.PortRanges, portRangeJSON{Start: int(pr.Start), End: int(pr.End)})
		}
		if r.SourcePeer != "" {
			rj.SourceResource = &resourceJSON{ID: r.SourcePeer, Type: "peer"}
		}
		if r.DestinationPeer != "" {
			rj.DestinationResource = &resourceJSON{ID: r.DestinationPeer, Type: "peer"}
		}
		out.Rules[i] = rj
	}
	return out
}

type ruleReq struct {
	Name                *string         `json:"name"`
	Description         string          `json:"description"`
	Enabled             *bool           `json:"enabled"`
	Action              *string         `json:"action"`
	Bidirectional       bool            `json:"bidirectional"`
	Protocol            *string         `json:"protocol"`
	Ports               []string        `json:"ports"`
	PortRanges          []portRangeJSON `json:"port_ranges"`
	Sources             []string        `json:"sources"`
	Destinations        []string        `json:"destinations"`
	SourceResource      *resourceJSON   `json:"sourceResource"`
	DestinationResource *resourceJSON   `json:"destinationResource"`
}

type policyReq struct {
	Name        *string   `json:"name"`
	Description string    `json:"description"`
	Enabled     *bool     `json:"enabled"`
	Rules       []ruleReq `json:"rules"`
}

// toPolicy shape-checks a policy body. Omitted enabled flags default to
// true and an omitted action to accept, the only one there is.
func toPolicy(req policyReq) (overlay.Policy, error) {
	v := &core.ValidationError{}
	p := overlay.Policy{Name: deref(req.Name), Description: req.Description, Enabled: req.Enabled == nil || *req.Enabled}
	if req.Name == nil {
		v.Add("name", "is required")
	}
	if req.Rules == nil {
		v.Add("rules", "is required")
	}
	for i, rr := range req.Rules {
		f := fmt.Sprintf("rules[%d]", i)
		r := overlay.Rule{Name: deref(rr.Name), Description: rr.Description, Enabled: rr.Enabled == nil || *rr.Enabled,
			Action: "accept", Bidirectional: rr.Bidirectional, Protocol: deref(rr.Protocol),
			Sources: rr.Sources, Destinations: rr.Destinations}
		if rr.Action != nil {
			r.Action = *rr.Action
		}
		if rr.Protocol == nil {
			v.Add(f+".protocol", "is required")
		}
		for j, ps := range rr.Ports {
			n, err := strconv.ParseUint(ps, 10, 16)
			if err != nil || n == 0 {
				v.Add(fmt.Sprintf("%s.ports[%d]", f, j), "must be a port number from 1 to 65535")
				continue
			}
			r.Ports = append(r.Ports, uint16(n))
		}
		for j, pr := range rr.PortRanges {
			if pr.Start < 1 || pr.End > 65535 || pr.Start > pr.End {
				v.Add(fmt.Sprintf("%s.port_ranges[%d]", f, j), "must satisfy 1 <= start <= end <= 65535")
				continue
			}
			r.PortRanges = append(r.PortRanges, overlay.PortRange{Start: uint16(pr.Start), End: uint16(pr.End)})
		}
		r.SourcePeer = peerResource(v, f+".sourceResource", rr.SourceResource)
		r.DestinationPeer = peerResource(v, f+".destinationResource", rr.DestinationResource)
		p.Rules = append(p.Rules, r)
	}
	return p, v.Err()
}

func peerResource(v *core.ValidationError, field string, r *resourceJSON) string {
	if r == nil {
		return ""
	}
	if r.Type != "peer" {
		v.Add(field+".type", "must be peer: this gateway has no hosts, subnets or domains as resources")
	}
	return r.ID
}

func (h *handler) listPolicies(c *fiber.Ctx) error {
	pols := h.d.Policies.Policies()
	out := make([]policyJSON, len(pols))
	for i, p := range pols {
		out[i] = toPolicyJSON(p)
	}
	return httpx.OK(c, out)
}

func (h *handler) getPolicy(c *fiber.Ctx) error {
	p, err := h.d.Policies.Policy(c.Params("id"))
	if err != nil {
		return h.fail(c, err)
	}
	return httpx.OK(c, toPolicyJSON(p))
}

func (h *handler) createPolicy(c *fiber.Ctx) error { return h.savePolicy(c, "") }

func (h *handler) updatePolicy(c *fiber.Ctx) error { return h.savePolicy(c, c.Params("id")) }

func (h *handler) savePolicy(c *fiber.Ctx, id string) error {
	var req policyReq
	if err := httpx.Decode(c, &req); err != nil {
		return h.fail(c, err)
	}
	p, err := toPolicy(req)
	if err != nil {
		return h.fail(c, err)
	}
	cx, cancel := httpx.Ctx(c)
	defer cancel()
	saved, err := h.d.Policies.SavePolicy(cx, id, p)
	if err != nil {
		return h.fail(c, err)
	}
	return httpx.OK(c, toPolicyJSON(saved))
}

func (h *handler) deletePolicy(c *fiber.Ctx) error {
	cx, cancel := httpx.Ctx(c)
	defer cancel()
	if err := h.d.Policies.DeletePolicy(cx, c.Params("id")); err != nil {
		return h.fail(c, err)
	}
	return httpx.OK(c, fiber.Map{})
}
