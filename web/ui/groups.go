package ui

import (
	"cmp"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"

	"github.com/gofiber/fiber/v2"

	"github.com/edgeward/edgeward/core"
	"github.com/edgeward/edgeward/core/overlay"
	"github.com/edgeward/edgeward/views/pages"
	"github.com/edgeward/edgeward/web/internal/httpx"
)

// groupRoutes mounts groups and policies editors.
func (u *ui) groupRoutes(app *fiber.App) {
	app.Get("/groups", u.authed(u.groupsPage)...)
	app.Post("/groups", u.authed(u.groupCreate)...)
	app.Get("/groups/:id/edit", u.authed(u.groupEditForm)...)
	app.Post("/groups/:id", u.authed(u.groupUpdate)...)
	app.Get("/groups/:id/delete", u.authed(u.groupDeleteForm)...)
	app.Post("/groups/:id/delete", u.authed(u.groupDelete)...)
	app.Get("/policies", u.authed(u.policiesPage)...)
	app.Post("/policies", u.authed(u.policyCreate)...)
	app.Get("/policies/:id/edit", u.authed(u.policyEditForm)...)
	app.Post("/policies/:id", u.authed(u.policyUpdate)...)
	app.Get("/policies/:id/delete", u.authed(u.policyDeleteForm)...)
	app.Post("/policies/:id/delete", u.authed(u.policyDelete)...)
}

// formList is every value of a repeated form field (checkboxes).
func formList(c *fiber.Ctx, name string) []string {
	out := []string{}
	for _, v := range c.Request().PostArgs().PeekMulti(name) {
		out = append(out, string(v))
	}
	return out
}

// formField names the form input that holds a core field path: the forms
// edit one rule, so "rules[0].sources[1]" is the sources checkboxes and
// "peers[2]" the members. The message stays as it is.
func formField(path, msg string) (string, string) {
	f := strings.TrimPrefix(path, "rules[0].")
	if i := strings.IndexAny(f, "[."); i >= 0 {
		f = f[:i]
	}
	if f == "port_ranges" {
		return "ports", msg
	}
	return f, msg
}

// formFieldMap maps a core field path and its message onto a form input
// and the message to show there.
type formFieldMap func(path, msg string) (field, shown string)

// pageFormErrors maps a refused save onto the form's inputs through field,
// keeping the first message of each input (by core path, so the result is
// stable), with the status of the refusal (422, or 409 for a name taken).
// ok is false for errors that belong on an error page.
func pageFormErrors(err error, field formFieldMap) (fields map[string]string, status int, ok bool) {
	byPath, ok := formErrors(err)
	if !ok {
		return nil, 0, false
	}
	fields = map[string]string{}
	for _, p := range slices.Sorted(maps.Keys(byPath)) {
		if f, msg := field(p, byPath[p]); fields[f] == "" {
			fields[f] = msg
		}
	}
	status = fiber.StatusUnprocessableEntity
	var pub *core.Error
	if errors.As(err, &pub) {
		status = httpx.StatusOf(pub.Kind)
	}
	return fields, status, true
}

func (u *ui) groupsPage(c *fiber.Ctx) error {
	return render(c, fiber.StatusOK, pages.Groups(u.groupsProps(c, pages.GroupForm{Peers: u.peerPicks(nil)})))
}

func (u *ui) groupsProps(c *fiber.Ctx, form pages.GroupForm) pages.GroupsProps {
	p := pages.GroupsProps{Page: u.navPage(c, "Groups", "/groups"), Form: form}
	for _, g := range u.d.Overlay.Groups("") {
		names := make([]string, len(g.Members))
		for i, m := range g.Members {
			names[i] = m.Name
		}
		nets := make([]string, len(g.Resources))
		for i, r := range g.Resources {
			nets[i] = r.String()
		}
		p.Rows = append(p.Rows, pages.GroupRow{ID: g.ID, Name: g.Name, Count: Plural(len(g.Members), "peer", "peers"),
			Members: strings.Join(names, ", "), Resources: nets, All: g.All})
	}
	return p
}

// peerPicks is the member checkboxes. Temporary-access peers are left out:
// they cannot join groups.
func (u *ui) peerPicks(checked []string) []pages.Pick {
	var out []pages.Pick
	for _, p := range u.d.Overlay.Peers(overlay.Filter{}) {
		if !p.Ephemeral {
			out = append(out, pages.Pick{ID: p.ID, Name: p.Name, Checked: slices.Contains(checked, p.ID)})
		}
	}
	return out
}

// groupForm is the group form as posted, for saving and for showing
// again, with the lines of the networks field that are not networks.
func (u *ui) groupForm(c *fiber.Ctx, id string) (overlay.GroupSpec, pages.GroupForm, resourceLines) {
	spec := overlay.GroupSpec{Name: strings.TrimSpace(c.FormValue("name")), Peers: formList(c, "peers")}
	form := pages.GroupForm{ID: id, Name: spec.Name, Peers: u.peerPicks(spec.Peers), Resources: c.FormValue("resources")}
	lines := parseResourceLines(form.Resources)
	spec.Resources = lines.nets
	return spec, form, lines
}

func (u *ui) groupCreate(c *fiber.Ctx) error {
	spec, form, lines := u.groupForm(c, "")
	return u.groupSave(c, "", spec, lines, func(status int, errs map[string]string, bad []string) error {
		form.Errors, form.ResourceLines = errs, bad
		return render(c, status, pages.Groups(u.groupsProps(c, form)))
	})
}

func (u *ui) groupUpdate(c *fiber.Ctx) error {
	id := c.Params("id")
	spec, form, lines := u.groupForm(c, id)
	return u.groupSave(c, id, spec, lines, func(status int, errs map[string]string, bad []string) error {
		form.Errors, form.ResourceLines = errs, bad
		return render(c, status, pages.GroupEdit(pages.GroupEditProps{Page: u.navPage(c, "Edit group", "/groups"), Form: form}))
	})
}

// groupSave saves the group and goes back to the list; refused input goes
// to again, to show the form with its errors: by field, and by line of
// the networks field. Lines that are not networks are refused here, before
// the core sees the group.
func (u *ui) groupSave(c *fiber.Ctx, id string, spec overlay.GroupSpec, lines resourceLines,
	again func(int, map[string]string, []string) error) error {
	if len(lines.bad) > 0 {
		return again(fiber.StatusUnprocessableEntity, nil, lines.bad)
	}
	cx, cancel := httpx.Ctx(c)
	defer cancel()
	g, err := u.d.Overlay.SaveGroup(cx, id, spec)
	if err != nil {
		if fields, status, ok := pageFormErrors(err, formField); ok && status != fiber.StatusNotFound {
			fields, bad := lines.coreErrors(err, fields)
			return again(status, fields, bad)
		}
		return err
	}
	u.d.Log.Info("group saved", "request_id", httpx.RequestID(c), "remote", c.IP(), "group_id", g.ID)
	return c.Redirect("/groups", fiber.StatusSeeOther)
}

func (u *ui) groupEditForm(c *fiber.Ctx) error {
	g, err := u.d.Overlay.Group(c.Params("id"))
	if err != nil {
		return err
	}
	if g.All {
		return u.errorPage(c, fiber.StatusConflict, "The group All holds every peer; it cannot be edited.")
	}
	form := pages.GroupForm{ID: g.ID, Name: g.Name, Peers: u.peerPicks(g.Peers), Resources: resourcesText(g.Resources)}
	return render(c, fiber.StatusOK, pages.GroupEdit(pages.GroupEditProps{Page: u.navPage(c, "Edit group", "/groups"), Form: form}))
}

func (u *ui) groupDeleteForm(c *fiber.Ctx) error {
	g, err := u.d.Overlay.Group(c.Params("id"))
	if err != nil {
		return err
	}
	return render(c, fiber.StatusOK, pages.GroupDelete(pages.GroupDeleteProps{
		Page: u.navPage(c, "Delete group", "/groups"), ID: g.ID, Name: g.Name}))
}

// groupDelete deletes a group. A refusal the admin can act on (a policy
// uses the group, or it is All) is shown on the confirmation page.
func (u *ui) groupDelete(c *fiber.Ctx) error {
	id := c.Params("id")
	g, err := u.d.Overlay.Group(id)
	if err != nil {
		return err
	}
	cx, cancel := httpx.Ctx(c)
	defer cancel()
	if err := u.d.Overlay.DeleteGroup(cx, id); err != nil {
		fields, status, ok := pageFormErrors(err, formField)
		if !ok || status == fiber.StatusNotFound {
			return err
		}
		return render(c, status, pages.GroupDelete(pages.GroupDeleteProps{
			Page: u.navPage(c, "Delete group", "/groups"), ID: g.ID, Name: g.Name, Error: fields["id"]}))
	}
	u.d.Log.Info("group deleted", "request_id", httpx.RequestID(c), "remote", c.IP(), "group_id", id)
	return c.Redirect("/groups", fiber.StatusSeeOther)
}

// policyProtocols are the protocol choices, "all" first as the default.
var policyProtocols = []string{overlay.ProtoAll, overlay.ProtoTCP, overlay.ProtoUDP, overlay.ProtoICMP}

// unenforced is why the kernel does not enforce the policies now, or ""
// when the data plane runs with its filter.
func (u *ui) unenforced() string {
	if u.d.Plane == nil {
		return "no WireGuard data plane in this process"
	}
	st := u.d.Plane.Status()
	if st.Enforced {
		return ""
	}
	return cmp.Or(st.Why, "the kernel filter is unavailable")
}

func (u *ui) policiesPage(c *fiber.Ctx) error {
	form := pages.PolicyForm{Enabled: true, Protocol: overlay.ProtoAll, Protocols: policyProtocols, Unenforced: u.unenforced()}
	form.Sources, form.Destinations = u.groupPicks(nil, nil)
	return render(c, fiber.StatusOK, pages.Policies(u.policiesProps(c, form)))
}

func (u *ui) policiesProps(c *fiber.Ctx, form pages.PolicyForm) pages.PoliciesProps {
	p := pages.PoliciesProps{Page: u.navPage(c, "Policies", "/policies"), Form: form}
	for _, pi := range u.d.Overlay.Policies() {
		row := pages.PolicyRow{ID: pi.ID, Name: pi.Name, Description: pi.Description, Enabled: pi.Enabled,
			Editable: policyEditable(pi)}
		for _, r := range pi.Rules {
			row.Rules = append(row.Rules, pages.PolicyRuleRow{
				Sources: ruleSide(pi, r.Sources, r.SourcePeer), Destinations: ruleSide(pi, r.Destinations, r.DestinationPeer),
				Bidirectional: r.Bidirectional, Enabled: r.Enabled, Action: r.Action, Protocol: r.Protocol, Ports: portsText(r)})
		}
		p.Rows = append(p.Rows, row)
	}
	return p
}

// policyEditable tells the policies the one-rule form shows faithfully;
// saving any other through it would drop rules or a peer side
// (temporary access).
func policyEditable(p overlay.PolicyInfo) bool {
	return len(p.Rules) == 1 && p.Rules[0].SourcePeer == "" && p.Rules[0].DestinationPeer == ""
}

// ruleSide names a rule side: its groups (by the names the policy
// resolved them to) and its peer, if any.
func ruleSide(p overlay.PolicyInfo, groups []string, peer string) string {
	names := make([]string, 0, len(groups)+1)
	for _, id := range groups {
		names = append(names, p.Groups[id].Name)
	}
	if peer != "" {
		names = append(names, "peer "+peer)
	}
	return strings.Join(names, ", ")
}

// portsText is a rule's ports as the form takes them: "22, 443" or
// "8000-8080"; empty for every port.
func portsText(r overlay.Rule) string {
	var parts []string
	for _, p := range r.Ports {
		parts = append(parts, strconv.Itoa(int(p)))
	}
	for _, pr := range r.PortRanges {
		parts = append(parts, strconv.Itoa(int(pr.Start))+"-"+strconv.Itoa(int(pr.End)))
	}
	return strings.Join(parts, ", ")
}

// splitPorts reads the ports input into rule r. A single port that is not
// one is refused here, by its index as the core would; a malformed range
// bound goes on as 0, so that the core names the range.
func splitPorts(v *core.ValidationError, s string, r *overlay.Rule) {
	bound := func(s string) uint16 {
		n, err := strconv.ParseUint(strings.TrimSpace(s), 10, 16)
		if err != nil {
			return 0
		}
		return uint16(n)
	}
	for _, part := range strings.Split(s, ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		lo, hi, isRange := strings.Cut(part, "-")
		if isRange {
			r.PortRanges = append(r.PortRanges, overlay.PortRange{Start: bound(lo), End: bound(hi)})
			continue
		}
		n, err := strconv.ParseUint(part, 10, 16)
		if err != nil || n == 0 {
			v.Add(fmt.Sprintf("rules[0].ports[%d]", len(r.Ports)), "must be a port number from 1 to 65535")
			continue
		}
		r.Ports = append(r.Ports, uint16(n))
	}
}

// groupPicks is the sources and destinations checkboxes of the policy
// form, from one listing of the groups (All's members are resolved each
// time the groups are listed).
func (u *ui) groupPicks(sources, destinations []string) (src, dst []pages.Pick) {
	for _, g := range u.d.Overlay.Groups("") {
		src = append(src, pages.Pick{ID: g.ID, Name: g.Name, Checked: slices.Contains(sources, g.ID)})
		dst = append(dst, pages.Pick{ID: g.ID, Name: g.Name, Checked: slices.Contains(destinations, g.ID)})
	}
	return src, dst
}

// policyForm reads the posted form into a one-rule policy, with what it
// refuses before the core sees it (a port that is not a number). Editing
// keeps the rule's own name, description and enabled flag, which the form
// does not show.
func (u *ui) policyForm(c *fiber.Ctx, old *overlay.PolicyInfo) (overlay.Policy, pages.PolicyForm, error) {
	f := pages.PolicyForm{Unenforced: u.unenforced(), Name: strings.TrimSpace(c.FormValue("name")), Description: strings.TrimSpace(c.FormValue("description")),
		Enabled: c.FormValue("enabled") == "on", Bidirectional: c.FormValue("bidirectional") == "on",
		Protocol: c.FormValue("protocol"), Protocols: policyProtocols, Ports: strings.TrimSpace(c.FormValue("ports"))}
	sources, destinations := formList(c, "sources"), formList(c, "destinations")
	f.Sources, f.Destinations = u.groupPicks(sources, destinations)
	rule := overlay.Rule{Enabled: true, Action: "accept", Bidirectional: f.Bidirectional, Protocol: f.Protocol,
		Sources: sources, Destinations: destinations}
	v := &core.ValidationError{}
	splitPorts(v, f.Ports, &rule)
	if old != nil {
		f.ID = old.ID
		r := old.Rules[0]
		rule.Description, rule.Enabled = r.Description, r.Enabled
		if r.Name != old.Name {
			rule.Name = r.Name
		}
	}
	return overlay.Policy{Name: f.Name, Description: f.Description, Enabled: f.Enabled, Rules: []overlay.Rule{rule}}, f, v.Err()
}

func (u *ui) policyCreate(c *fiber.Ctx) error {
	p, form, perr := u.policyForm(c, nil)
	return u.policySave(c, "", p, perr, func(status int, errs map[string]string) error {
		form.Errors = errs
		return render(c, status, pages.Policies(u.policiesProps(c, form)))
	})
}

func (u *ui) policyUpdate(c *fiber.Ctx) error {
	old, err := u.editablePolicy(c)
	if err != nil {
		return err
	}
	p, form, perr := u.policyForm(c, &old)
	return u.policySave(c, old.ID, p, perr, func(status int, errs map[string]string) error {
		form.Errors = errs
		return render(c, status, pages.PolicyEdit(pages.PolicyEditProps{Page: u.navPage(c, "Edit policy", "/policies"), Form: form}))
	})
}

// policySave saves the policy and goes back to the list; refused input
// (the form's own refusal err, or the core's) goes to again, to show the
// form with its errors.
func (u *ui) policySave(c *fiber.Ctx, id string, p overlay.Policy, err error, again func(int, map[string]string) error) error {
	if err == nil {
		cx, cancel := httpx.Ctx(c)
		defer cancel()
		var saved overlay.PolicyInfo
		if saved, err = u.d.Overlay.SavePolicy(cx, id, p); err == nil {
			u.d.Log.Info("policy saved", "request_id", httpx.RequestID(c), "remote", c.IP(), "policy_id", saved.ID)
			return c.Redirect("/policies", fiber.StatusSeeOther)
		}
	}
	if fields, status, ok := pageFormErrors(err, formField); ok && status != fiber.StatusNotFound {
		return again(status, fields)
	}
	return err
}

// editablePolicy is the policy the request names, if the form can edit it.
func (u *ui) editablePolicy(c *fiber.Ctx) (overlay.PolicyInfo, error) {
	p, err := u.d.Overlay.Policy(c.Params("id"))
	if err != nil {
		return p, err
	}
	if !policyEditable(p) {
		return p, &core.Error{Kind: core.ErrConflict,
			Msg: "this policy has several rules or a peer as a side; the page edits one-rule policies only, use the API"}
	}
	return p, nil
}

func (u *ui) policyEditForm(c *fiber.Ctx) error {
	p, err := u.editablePolicy(c)
	if err != nil {
		return err
	}
	r := p.Rules[0]
	form := pages.PolicyForm{Unenforced: u.unenforced(), ID: p.ID, Name: p.Name, Description: p.Description, Enabled: p.Enabled,
		Bidirectional: r.Bidirectional, Protocol: r.Protocol, Protocols: policyProtocols, Ports: portsText(r)}
	form.Sources, form.Destinations = u.groupPicks(p.Rules[0].Sources, p.Rules[0].Destinations)
	return render(c, fiber.StatusOK, pages.PolicyEdit(pages.PolicyEditProps{Page: u.navPage(c, "Edit policy", "/policies"), Form: form}))
}

func (u *ui) policyDeleteForm(c *fiber.Ctx) error {
	p, err := u.d.Overlay.Policy(c.Params("id"))
	if err != nil {
		return err
	}
	return render(c, fiber.StatusOK, pages.PolicyDelete(pages.PolicyDeleteProps{
		Page: u.navPage(c, "Delete policy", "/policies"), ID: p.ID, Name: p.Name}))
}

func (u *ui) policyDelete(c *fiber.Ctx) error {
	cx, cancel := httpx.Ctx(c)
	defer cancel()
	id := c.Params("id")
	if err := u.d.Overlay.DeletePolicy(cx, id); err != nil {
		return err
	}
	u.d.Log.Info("policy deleted", "request_id", httpx.RequestID(c), "remote", c.IP(), "policy_id", id)
	return c.Redirect("/policies", fiber.StatusSeeOther)
}
