package web

import (
	"net/http"
	"net/netip"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/PuerkitoBio/goquery"
	"github.com/google/go-cmp/cmp"

	"github.com/edgeward/edgeward/core/overlay"
)

// submitValues posts form, which may repeat fields (checkboxes), to action
// with the CSRF token of the page at from.
func (b *browser) submitValues(from, action string, form url.Values) page {
	b.t.Helper()
	form = cloneValues(form)
	form.Set("_csrf", b.get(from).csrf())
	return b.post(action, form)
}

func cloneValues(v url.Values) url.Values {
	out := url.Values{}
	for k, vs := range v {
		out[k] = slices.Clone(vs)
	}
	return out
}

// cells is the trimmed text of every element with testID, in order.
func (p page) cells(testID string) []string {
	var out []string
	p.doc.Find(`[data-testid="` + testID + `"]`).Each(func(_ int, s *goquery.Selection) {
		out = append(out, strings.TrimSpace(s.Text()))
	})
	return out
}

// checked is the values of the checked boxes named name.
func (p page) checked(name string) []string {
	var out []string
	p.doc.Find(`input[type="checkbox"][name="` + name + `"][checked]`).Each(func(_ int, s *goquery.Selection) {
		v, _ := s.Attr("value")
		out = append(out, v)
	})
	return out
}

func (e *uiEnv) addGroup(t *testing.T, name string, peers ...string) overlay.GroupInfo {
	t.Helper()
	g, err := e.ov.SaveGroup(t.Context(), "", overlay.GroupSpec{Name: name, Peers: peers})
	if err != nil {
		t.Fatal(err)
	}
	return g
}

func (e *uiEnv) groupAll(t *testing.T) overlay.GroupInfo {
	t.Helper()
	gs := e.ov.Groups("All")
	if len(gs) != 1 || !gs[0].All {
		t.Fatalf("group All: %+v", gs)
	}
	return gs[0]
}

func TestUIGroupsList(t *testing.T) {
	e := newUIEnv(t)
	b := e.browser(t)
	e.setUp(t, b)
	laptop := e.addPeer(t, "laptop")
	phone := e.addPeer(t, "phone")
	ops := e.addGroup(t, "ops", laptop.ID)
	all := e.groupAll(t)

	p := b.get("/groups")
	if p.status != http.StatusOK || p.text("title") != "Groups" {
		t.Fatalf("GET /groups: status %d\n%s", p.status, p.body)
	}
	got := [][]string{p.cells("group-name"), p.cells("group-count"), p.cells("group-members")}
	want := [][]string{{"All", "ops"}, {"2", "1"}, {"laptop, phone", "laptop"}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("groups table (-want +got):\n%s", diff)
	}
	allRow := p.doc.Find(`[data-testid="group-row"][data-group-id="` + all.ID + `"]`)
	if allRow.Find(`[data-testid="group-computed"]`).Length() != 1 || allRow.Find(`a`).Length() != 0 {
		t.Error("the All group is offered for editing")
	}
	opsRow := p.doc.Find(`[data-testid="group-row"][data-group-id="` + ops.ID + `"]`)
	for id, want := range map[string]string{"group-edit": "/groups/" + ops.ID + "/edit", "group-delete": "/groups/" + ops.ID + "/delete"} {
		if href, _ := opsRow.Find(`[data-testid="` + id + `"]`).Attr("href"); href != want {
			t.Errorf("%s link %q, want %q", id, href, want)
		}
	}
	// The create form offers every peer, none checked.
	var opts []string
	p.doc.Find(`[data-testid="peers-option"]`).Each(func(_ int, s *goquery.Selection) {
		v, _ := s.Attr("value")
		opts = append(opts, v)
	})
	if diff := cmp.Diff([]string{laptop.ID, phone.ID}, opts); diff != "" {
		t.Errorf("member choices (-want +got):\n%s", diff)
	}
	if len(p.checked("peers")) != 0 {
		t.Errorf("checked members on a new form: %v", p.checked("peers"))
	}
	if got := p.doc.Find(`nav[data-testid="nav"] a[aria-current="page"]`).Text(); got != "Access" {
		t.Errorf("current nav item %q, want Access", got)
	}
	if got := p.doc.Find(`[data-testid="overlay-nav"] a[aria-current="page"]`).Text(); got != "Groups" {
		t.Errorf("current overlay nav item %q, want Groups", got)
	}
	if p.doc.Find(`[data-testid="overlay-nav"] a[href="/policies"]`).Length() != 1 {
		t.Error("no link to the policies page")
	}
}

func TestUIGroupsCreate(t *testing.T) {
	e := newUIEnv(t)
	b := e.browser(t)
	e.setUp(t, b)
	laptop := e.addPeer(t, "laptop")
	phone := e.addPeer(t, "phone")

	wantRedirect(t, b.submitValues("/groups", "/groups", url.Values{"name": {"servers"}, "peers": {laptop.ID, phone.ID}}), "/groups")
	gs := e.ov.Groups("servers")
	if len(gs) != 1 {
		t.Fatalf("%d groups named servers, want 1", len(gs))
	}
	if diff := cmp.Diff([]string{laptop.ID, phone.ID}, gs[0].Peers); diff != "" {
		t.Errorf("members (-want +got):\n%s", diff)
	}
	wantRedirect(t, b.submitValues("/groups", "/groups", url.Values{"name": {"empty"}}), "/groups")
	if gs := e.ov.Groups("empty"); len(gs) != 1 || len(gs[0].Peers) != 0 {
		t.Errorf("group without members: %+v", gs)
	}

	tests := []struct {
		name       string
		form       url.Values
		wantStatus int
		wantField  string
		wantMsg    string
	}{
		{"empty name", url.Values{"name": {""}, "peers": {laptop.ID}}, http.StatusUnprocessableEntity, "name", "Must not be empty."},
		{"name taken", url.Values{"name": {"servers"}, "peers": {laptop.ID}}, http.StatusConflict, "name", `Group with name "servers" already exists.`},
		{"unknown peer", url.Values{"name": {"ghosts"}, "peers": {laptop.ID, "nope"}}, http.StatusUnprocessableEntity, "peers", `Unknown peer id "nope".`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := b.submitValues("/groups", "/groups", tt.form)
			if p.status != tt.wantStatus {
				t.Errorf("status %d, want %d", p.status, tt.wantStatus)
			}
			if got := p.text(tt.wantField + "-error"); got != tt.wantMsg {
				t.Errorf("%s error %q, want %q\n%s", tt.wantField, got, tt.wantMsg, p.body)
			}
			if got := p.doc.Find(`.error`).Length(); got != 1 {
				t.Errorf("%d error messages, want 1", got)
			}
			if v, _ := p.doc.Find(`input[data-testid="name"]`).Attr("value"); v != tt.form.Get("name") {
				t.Errorf("name value %q not kept", v)
			}
			if diff := cmp.Diff([]string{laptop.ID}, p.checked("peers")); diff != "" {
				t.Errorf("checked members not kept (-want +got):\n%s", diff)
			}
		})
	}
	if n := len(e.ov.Groups("")); n != 3 {
		t.Errorf("%d groups after refused creates, want 3 (All, servers, empty)", n)
	}
}

func TestUIGroupsEdit(t *testing.T) {
	e := newUIEnv(t)
	b := e.browser(t)
	e.setUp(t, b)
	laptop := e.addPeer(t, "laptop")
	phone := e.addPeer(t, "phone")
	ops := e.addGroup(t, "ops", laptop.ID)
	e.addGroup(t, "taken")
	path := "/groups/" + ops.ID + "/edit"

	p := b.get(path)
	if p.status != http.StatusOK || p.text("title") != "Edit group" {
		t.Fatalf("GET %s: status %d\n%s", path, p.status, p.body)
	}
	if v, _ := p.doc.Find(`input[data-testid="name"]`).Attr("value"); v != "ops" {
		t.Errorf("name value %q", v)
	}
	if diff := cmp.Diff([]string{laptop.ID}, p.checked("peers")); diff != "" {
		t.Errorf("checked members (-want +got):\n%s", diff)
	}
	if action, _ := p.doc.Find(`[data-testid="group-form"]`).Attr("action"); action != "/groups/"+ops.ID {
		t.Errorf("form action %q", action)
	}

	wantRedirect(t, b.submitValues(path, "/groups/"+ops.ID, url.Values{"name": {"operators"}, "peers": {phone.ID}}), "/groups")
	g, err := e.ov.Group(ops.ID)
	if err != nil || g.Name != "operators" || !slices.Equal(g.Peers, []string{phone.ID}) {
		t.Errorf("after edit: %+v, %v", g, err)
	}

	p = b.submitValues(path, "/groups/"+ops.ID, url.Values{"name": {"taken"}, "peers": {laptop.ID}})
	if p.status != http.StatusConflict || p.text("name-error") == "" || p.text("title") != "Edit group" {
		t.Errorf("rename to a taken name: status %d, error %q, title %q", p.status, p.text("name-error"), p.text("title"))
	}
	if g, _ := e.ov.Group(ops.ID); g.Name != "operators" {
		t.Errorf("a refused edit renamed the group to %q", g.Name)
	}

	// All is computed: its page refuses, and so does the core on a POST.
	all := e.groupAll(t)
	if p := b.get("/groups/" + all.ID + "/edit"); p.status != http.StatusConflict || !strings.Contains(p.text("error-message"), "All") {
		t.Errorf("edit All: status %d, message %q", p.status, p.text("error-message"))
	}
	p = b.submitValues("/groups", "/groups/"+all.ID, url.Values{"name": {"Everyone"}})
	if p.status != http.StatusUnprocessableEntity || p.text("name-error") == "" {
		t.Errorf("POST to All: status %d, error %q", p.status, p.text("name-error"))
	}
	if e.groupAll(t).Name != "All" {
		t.Error("All was renamed")
	}

	for _, tt := range []struct {
		name string
		do   func() page
	}{
		{"GET edit unknown", func() page { return b.get("/groups/nope/edit") }},
		{"POST unknown", func() page { return b.submitValues("/groups", "/groups/nope", url.Values{"name": {"x"}}) }},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if p := tt.do(); p.status != http.StatusNotFound || p.text("error-message") == "" {
				t.Errorf("status %d, message %q; want a 404 page", p.status, p.text("error-message"))
			}
		})
	}
}

func TestUIGroupsDelete(t *testing.T) {
	e := newUIEnv(t)
	b := e.browser(t)
	e.setUp(t, b)
	ops := e.addGroup(t, "ops")
	used := e.addGroup(t, "used")
	all := e.groupAll(t)
	e.addPolicy(t, "web", used.ID, all.ID)
	path := "/groups/" + ops.ID + "/delete"

	p := b.get(path)
	if p.status != http.StatusOK || p.text("delete-question") != "Delete group ops?" {
		t.Fatalf("GET %s: status %d, question %q", path, p.status, p.text("delete-question"))
	}
	if _, err := e.ov.Group(ops.ID); err != nil {
		t.Fatalf("the confirmation page deleted the group: %v", err)
	}
	wantRedirect(t, b.submit(path, nil), "/groups")
	if _, err := e.ov.Group(ops.ID); err == nil {
		t.Error("the group is still there after the delete")
	}

	tests := []struct {
		name       string
		id         string
		wantStatus int
		wantMsg    string
	}{
		{"used by a policy", used.ID, http.StatusConflict, `Group is used by policy "web"; change that policy first.`},
		{"All", all.ID, http.StatusUnprocessableEntity, "Group All holds every peer and cannot be deleted."},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := b.submit("/groups/"+tt.id+"/delete", nil)
			if p.status != tt.wantStatus || p.text("delete-error") != tt.wantMsg {
				t.Errorf("status %d, error %q; want %d, %q", p.status, p.text("delete-error"), tt.wantStatus, tt.wantMsg)
			}
			if _, err := e.ov.Group(tt.id); err != nil {
				t.Errorf("the group was deleted: %v", err)
			}
		})
	}

	for _, tt := range []struct {
		name string
		do   func() page
	}{
		{"GET unknown", func() page { return b.get("/groups/nope/delete") }},
		{"POST unknown", func() page { return b.submitFrom("/groups", "/groups/nope/delete", nil) }},
		{"POST deleted", func() page { return b.submitFrom("/groups", path, nil) }},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if p := tt.do(); p.status != http.StatusNotFound || p.text("error-message") == "" {
				t.Errorf("status %d, message %q; want a 404 page", p.status, p.text("error-message"))
			}
		})
	}
}

// addPolicy saves a one-rule policy letting src reach dst over TCP 22.
func (e *uiEnv) addPolicy(t *testing.T, name, src, dst string) overlay.PolicyInfo {
	t.Helper()
	p, err := e.ov.SavePolicy(t.Context(), "", overlay.Policy{Name: name, Enabled: true, Rules: []overlay.Rule{{
		Enabled: true, Action: "accept", Protocol: overlay.ProtoTCP, Ports: []uint16{22},
		Sources: []string{src}, Destinations: []string{dst}}}})
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func TestUIPoliciesList(t *testing.T) {
	e := newUIEnv(t)
	b := e.browser(t)
	e.setUp(t, b)
	if p := b.get("/policies"); p.status != http.StatusOK || !p.has("no-policies") || p.text("title") != "Policies" {
		t.Fatalf("GET /policies without policies: status %d\n%s", p.status, p.body)
	}
	ops := e.addGroup(t, "ops")
	all := e.groupAll(t)
	_, err := e.ov.SavePolicy(t.Context(), "", overlay.Policy{Name: "admin access", Description: "ops reach everything",
		Enabled: true, Rules: []overlay.Rule{{Enabled: true, Action: "accept", Bidirectional: true,
			Protocol: overlay.ProtoTCP, Ports: []uint16{22, 443}, Sources: []string{ops.ID}, Destinations: []string{all.ID}}}})
	if err != nil {
		t.Fatal(err)
	}
	multi, err := e.ov.SavePolicy(t.Context(), "", overlay.Policy{Name: "two rules", Enabled: false, Rules: []overlay.Rule{
		{Enabled: true, Action: "accept", Protocol: overlay.ProtoAll, Sources: []string{all.ID}, Destinations: []string{ops.ID}},
		{Enabled: false, Action: "accept", Protocol: overlay.ProtoUDP, PortRanges: []overlay.PortRange{{Start: 8000, End: 8080}},
			Sources: []string{ops.ID, all.ID}, Destinations: []string{ops.ID}}}})
	if err != nil {
		t.Fatal(err)
	}

	p := b.get("/policies")
	got := map[string][]string{}
	for _, id := range []string{"policy-name", "policy-description", "policy-enabled", "rule-sources",
		"rule-direction", "rule-destinations", "rule-traffic", "rule-disabled", "policy-edit", "policy-api-only"} {
		got[id] = p.cells(id)
	}
	want := map[string][]string{
		"policy-name":        {"admin access", "two rules"},
		"policy-description": {"ops reach everything"},
		"policy-enabled":     {"yes", "no"},
		"rule-sources":       {"ops", "All", "ops, All"},
		"rule-direction":     {"↔", "→", "→"},
		"rule-destinations":  {"All", "ops", "ops"},
		"rule-traffic":       {"accept tcp 22, 443", "accept all", "accept udp 8000-8080"},
		"rule-disabled":      {"(disabled)"},
		"policy-edit":        {"Edit"},
		"policy-api-only":    {"edit through the API"},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("policies table (-want +got):\n%s", diff)
	}
	if p := b.get("/policies/" + multi.ID + "/edit"); p.status != http.StatusConflict || !strings.Contains(p.text("error-message"), "API") {
		t.Errorf("edit a two-rule policy: status %d, message %q; want 409", p.status, p.text("error-message"))
	}
	if got := p.doc.Find(`[data-testid="overlay-nav"] a[aria-current="page"]`).Text(); got != "Policies" {
		t.Errorf("current overlay nav item %q, want Policies", got)
	}
	// Both sides offer every group.
	if got := p.cells("sources-option"); len(got) != 2 {
		t.Errorf("%d source choices, want 2", len(got))
	}
	if got := strings.Join(p.cells("destinations"), ""); !strings.Contains(got, "All") || !strings.Contains(got, "ops") {
		t.Errorf("destination choices %q", got)
	}
}

func TestUIPoliciesCreate(t *testing.T) {
	e := newUIEnv(t)
	b := e.browser(t)
	e.setUp(t, b)
	ops := e.addGroup(t, "ops")
	all := e.groupAll(t)

	form := url.Values{"name": {"web"}, "description": {"dashboards"}, "enabled": {"on"}, "sources": {ops.ID},
		"destinations": {all.ID}, "protocol": {"tcp"}, "ports": {"8000-8080"}}
	wantRedirect(t, b.submitValues("/policies", "/policies", form), "/policies")
	pols := e.ov.Policies()
	if len(pols) != 1 {
		t.Fatalf("%d policies, want 1", len(pols))
	}
	wantRule := overlay.Rule{ID: pols[0].ID + "-0", Name: "web", Enabled: true, Action: "accept", Protocol: "tcp",
		PortRanges: []overlay.PortRange{{Start: 8000, End: 8080}}, Sources: []string{ops.ID}, Destinations: []string{all.ID}}
	want := overlay.Policy{ID: pols[0].ID, Name: "web", Description: "dashboards", Enabled: true, Rules: []overlay.Rule{wantRule}}
	if diff := cmp.Diff(want, pols[0].Policy); diff != "" {
		t.Errorf("created policy (-want +got):\n%s", diff)
	}

	tests := []struct {
		name       string
		change     url.Values
		wantStatus int
		wantField  string
	}{
		{"empty name", url.Values{"name": {""}}, http.StatusUnprocessableEntity, "name"},
		{"no sources", url.Values{"sources": nil}, http.StatusUnprocessableEntity, "sources"},
		{"no destinations", url.Values{"destinations": nil}, http.StatusUnprocessableEntity, "destinations"},
		{"unknown group", url.Values{"destinations": {all.ID, "nope"}}, http.StatusUnprocessableEntity, "destinations"},
		{"ports for all", url.Values{"protocol": {"all"}, "ports": {"22"}}, http.StatusUnprocessableEntity, "ports"},
		{"not a port", url.Values{"ports": {"http"}}, http.StatusUnprocessableEntity, "ports"},
		{"port out of range", url.Values{"ports": {"70000"}}, http.StatusUnprocessableEntity, "ports"},
		{"bad range", url.Values{"ports": {"9000-8000"}}, http.StatusUnprocessableEntity, "ports"},
		{"ports and range", url.Values{"ports": {"22, 8000-8080"}}, http.StatusUnprocessableEntity, "ports"},
		{"unknown protocol", url.Values{"protocol": {"gre"}, "ports": {""}}, http.StatusUnprocessableEntity, "protocol"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := cloneValues(form)
			f.Set("name", "second")
			for k, v := range tt.change {
				f[k] = v
			}
			p := b.submitValues("/policies", "/policies", f)
			if p.status != tt.wantStatus {
				t.Errorf("status %d, want %d", p.status, tt.wantStatus)
			}
			if p.text(tt.wantField+"-error") == "" {
				t.Errorf("no %s error shown\n%s", tt.wantField, p.body)
			}
			if got := p.doc.Find(`.error`).Length(); got != 1 {
				t.Errorf("%d error messages, want 1:\n%v", got, p.cells("title"))
			}
			if v, _ := p.doc.Find(`input[data-testid="ports"]`).Attr("value"); v != f.Get("ports") {
				t.Errorf("ports value %q not kept, want %q", v, f.Get("ports"))
			}
			if diff := cmp.Diff(f["sources"], p.checked("sources")); diff != "" {
				t.Errorf("checked sources not kept (-want +got):\n%s", diff)
			}
		})
	}
	if n := len(e.ov.Policies()); n != 1 {
		t.Errorf("%d policies after refused creates, want 1", n)
	}
}

func TestUIPoliciesEditDelete(t *testing.T) {
	e := newUIEnv(t)
	b := e.browser(t)
	e.setUp(t, b)
	ops := e.addGroup(t, "ops")
	all := e.groupAll(t)
	pol := e.addPolicy(t, "ssh", ops.ID, all.ID)
	edit := "/policies/" + pol.ID + "/edit"

	p := b.get(edit)
	if p.status != http.StatusOK || p.text("title") != "Edit policy" {
		t.Fatalf("GET %s: status %d\n%s", edit, p.status, p.body)
	}
	got := []string{p.doc.Find(`input[data-testid="name"]`).AttrOr("value", ""),
		p.doc.Find(`input[data-testid="ports"]`).AttrOr("value", ""),
		p.doc.Find(`select[data-testid="protocol"] option[selected]`).AttrOr("value", ""),
		strings.Join(p.checked("sources"), ","), strings.Join(p.checked("destinations"), ","),
		strings.Join(p.checked("enabled"), ","), strings.Join(p.checked("bidirectional"), ",")}
	if diff := cmp.Diff([]string{"ssh", "22", "tcp", ops.ID, all.ID, "on", ""}, got); diff != "" {
		t.Errorf("edit form name, ports, protocol, sources, destinations, enabled, bidirectional (-want +got):\n%s", diff)
	}

	// Unchecked boxes are not sent: the policy is disabled and goes both ways now.
	wantRedirect(t, b.submitValues(edit, "/policies/"+pol.ID, url.Values{"name": {"ssh all"}, "sources": {all.ID},
		"destinations": {ops.ID, all.ID}, "bidirectional": {"on"}, "protocol": {"all"}}), "/policies")
	after, err := e.ov.Policy(pol.ID)
	if err != nil {
		t.Fatal(err)
	}
	wantRule := overlay.Rule{ID: pol.ID + "-0", Name: "ssh all", Enabled: true, Action: "accept", Bidirectional: true,
		Protocol: "all", Sources: []string{all.ID}, Destinations: []string{ops.ID, all.ID}}
	if diff := cmp.Diff(overlay.Policy{ID: pol.ID, Name: "ssh all", Rules: []overlay.Rule{wantRule}}, after.Policy); diff != "" {
		t.Errorf("edited policy (-want +got):\n%s", diff)
	}
	p = b.submitValues(edit, "/policies/"+pol.ID, url.Values{"name": {"ssh all"}, "protocol": {"all"}, "destinations": {ops.ID}})
	if p.status != http.StatusUnprocessableEntity || p.text("sources-error") == "" || p.text("title") != "Edit policy" {
		t.Errorf("edit without sources: status %d, error %q, title %q", p.status, p.text("sources-error"), p.text("title"))
	}

	del := "/policies/" + pol.ID + "/delete"
	if p := b.get(del); p.status != http.StatusOK || p.text("delete-question") != "Delete policy ssh all?" {
		t.Fatalf("GET %s: status %d, question %q", del, p.status, p.text("delete-question"))
	}
	if _, err := e.ov.Policy(pol.ID); err != nil {
		t.Fatalf("the confirmation page deleted the policy: %v", err)
	}
	wantRedirect(t, b.submit(del, nil), "/policies")
	if _, err := e.ov.Policy(pol.ID); err == nil {
		t.Error("the policy is still there after the delete")
	}

	for _, tt := range []struct {
		name string
		do   func() page
	}{
		{"GET edit unknown", func() page { return b.get("/policies/nope/edit") }},
		{"POST unknown", func() page {
			return b.submitValues("/policies", "/policies/nope", url.Values{"name": {"x"}, "protocol": {"all"}})
		}},
		{"GET delete unknown", func() page { return b.get("/policies/nope/delete") }},
		{"POST delete unknown", func() page { return b.submitFrom("/policies", "/policies/nope/delete", nil) }},
		{"POST delete deleted", func() page { return b.submitFrom("/policies", del, nil) }},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if p := tt.do(); p.status != http.StatusNotFound || p.text("error-message") == "" {
				t.Errorf("status %d, message %q; want a 404 page", p.status, p.text("error-message"))
			}
		})
	}
}

func TestUIGroupsPoliciesGuards(t *testing.T) {
	e := newUIEnv(t)
	b := e.browser(t)
	e.setUp(t, b)
	ops := e.addGroup(t, "ops")
	pol := e.addPolicy(t, "ssh", ops.ID, ops.ID)
	paths := []string{"/groups", "/groups/" + ops.ID, "/groups/" + ops.ID + "/delete",
		"/policies", "/policies/" + pol.ID, "/policies/" + pol.ID + "/delete"}
	for _, path := range paths {
		p := b.post(path, url.Values{"name": {"sneaky"}, "protocol": {"all"}, "sources": {ops.ID}, "destinations": {ops.ID}})
		if p.status != http.StatusForbidden {
			t.Errorf("POST %s without a CSRF token: status %d, want 403", path, p.status)
		}
	}
	if g, err := e.ov.Group(ops.ID); err != nil || g.Name != "ops" || len(e.ov.Groups("")) != 2 {
		t.Errorf("groups changed by refused posts: %+v, %v", g, err)
	}
	if p, err := e.ov.Policy(pol.ID); err != nil || p.Name != "ssh" || len(e.ov.Policies()) != 1 {
		t.Errorf("policies changed by refused posts: %+v, %v", p, err)
	}
	anon := e.browser(t)
	for _, path := range []string{"/groups", "/groups/" + ops.ID + "/edit", "/policies", "/policies/" + pol.ID + "/edit"} {
		wantRedirect(t, anon.get(path), "/login")
	}
	for _, path := range paths {
		wantRedirect(t, anon.submitFrom("/login", path, map[string]string{"name": "anon"}), "/login")
	}
}

// TestUIGroupsResources: a group's networks are typed one per line, listed
// in the table and in the edit form as saved; a line that is not a network
// is refused naming its line, and so is one the core refuses, next to the
// field, with what was typed kept.
func TestUIGroupsResources(t *testing.T) {
	e := newUIEnv(t)
	b := e.browser(t)
	e.setUp(t, b)
	laptop := e.addPeer(t, "laptop")

	p := b.get("/groups")
	if hint := strings.TrimSpace(p.doc.Find(`#resources-hint`).Text()); !strings.HasPrefix(hint,
		"A policy whose destination is this group lets its sources reach these networks through the gateway.") {
		t.Errorf("resources hint %q", hint)
	}
	if area := p.doc.Find(`textarea[data-testid="resources"]`); area.AttrOr("name", "") != "resources" ||
		area.AttrOr("aria-describedby", "") != "resources-hint" {
		t.Errorf("resources textarea: name %q, described by %q", area.AttrOr("name", ""), area.AttrOr("aria-describedby", ""))
	}

	typed := "192.168.1.0/24\r\n\n  10.0.0.7  \n0.0.0.0/0\n"
	wantRedirect(t, b.submitValues("/groups", "/groups", url.Values{"name": {"lan"}, "peers": {laptop.ID}, "resources": {typed}}), "/groups")
	gs := e.ov.Groups("lan")
	if len(gs) != 1 {
		t.Fatalf("%d groups named lan", len(gs))
	}
	lan := gs[0]
	wantNets := []netip.Prefix{netip.MustParsePrefix("192.168.1.0/24"), netip.MustParsePrefix("10.0.0.7/32"), netip.MustParsePrefix("0.0.0.0/0")}
	if diff := cmp.Diff(wantNets, lan.Resources, cmp.Comparer(func(a, b netip.Prefix) bool { return a == b })); diff != "" {
		t.Errorf("saved networks (-want +got):\n%s", diff)
	}
	row := b.get("/groups").doc.Find(`[data-testid="group-row"][data-group-id="` + lan.ID + `"]`)
	var listed []string
	row.Find(`[data-testid="group-resource"]`).Each(func(_ int, s *goquery.Selection) { listed = append(listed, s.Text()) })
	if diff := cmp.Diff([]string{"192.168.1.0/24", "10.0.0.7/32", "0.0.0.0/0"}, listed); diff != "" {
		t.Errorf("listed networks (-want +got):\n%s", diff)
	}
	edit := "/groups/" + lan.ID + "/edit"
	if got := b.get(edit).doc.Find(`textarea[data-testid="resources"]`).Text(); got != "192.168.1.0/24\n10.0.0.7/32\n0.0.0.0/0" {
		t.Errorf("edit form networks %q", got)
	}
	// Saving the edit form as it is changes nothing; emptying it drops them.
	form := url.Values{"name": {"lan"}, "peers": {laptop.ID}, "resources": {b.get(edit).doc.Find(`textarea[data-testid="resources"]`).Text()}}
	wantRedirect(t, b.submitValues(edit, "/groups/"+lan.ID, form), "/groups")
	if g, _ := e.ov.Group(lan.ID); len(g.Resources) != 3 {
		t.Errorf("networks after a save as shown: %v", g.Resources)
	}

	tests := []struct {
		name      string
		resources string
		want      []string
	}{
		{"not a network", "192.168.1.0/24\n\nmy lan\n10.0.0.0/8\n300.1.1.1", []string{
			`Line 3: "my lan" is not a network such as 192.168.1.0/24.`,
			`Line 5: "300.1.1.1" is not a network such as 192.168.1.0/24.`}},
		{"host bits, the core says", "10.0.0.0/8\n\n192.168.1.5/24", []string{
			"Line 3: 192.168.1.5/24 is not a network address; did you mean 192.168.1.0/24?"}},
		{"twice and inside the overlay", "10.0.0.0/8\n100.64.3.0/24\n10.0.0.0/8", []string{
			"Line 2: 100.64.3.0/24 lies inside the overlay 100.64.0.0/16: its peers are reached as peers.",
			"Line 3: 10.0.0.0/8 is listed twice."}},
		{"IPv6", "2001:db8::/32", []string{"Line 1: Must be an IPv4 network such as 192.168.1.0/24."}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for _, to := range []struct{ from, action, title string }{{"/groups", "/groups", "Groups"}, {edit, "/groups/" + lan.ID, "Edit group"}} {
				p := b.submitValues(to.from, to.action, url.Values{"name": {"lan2"}, "resources": {tt.resources}})
				if p.status != http.StatusUnprocessableEntity || p.text("title") != to.title {
					t.Errorf("POST %s: status %d, title %q", to.action, p.status, p.text("title"))
				}
				if diff := cmp.Diff(tt.want, p.cells("resources-line-error")); diff != "" {
					t.Errorf("POST %s: line errors (-want +got):\n%s", to.action, diff)
				}
				area := p.doc.Find(`textarea[data-testid="resources"]`)
				if area.Text() != tt.resources || area.AttrOr("aria-invalid", "") != "true" ||
					area.Parent().Find(`[data-testid="resources-error"]`).Length() != 1 {
					t.Errorf("POST %s: typed text kept %v, invalid %q, error next to the field %v", to.action,
						area.Text() == tt.resources, area.AttrOr("aria-invalid", ""), area.Parent().Find(`[data-testid="resources-error"]`).Length() == 1)
				}
				if v := p.doc.Find(`input[data-testid="name"]`).AttrOr("value", ""); v != "lan2" {
					t.Errorf("POST %s: name %q not kept", to.action, v)
				}
			}
		})
	}
	if g, _ := e.ov.Group(lan.ID); g.Name != "lan" || len(g.Resources) != 3 || len(e.ov.Groups("lan2")) != 0 {
		t.Errorf("refused saves changed something: %+v", g)
	}

	// Too many networks: one message about the list.
	var many []string
	for i := range 65 {
		many = append(many, netip.AddrFrom4([4]byte{10, byte(i), 0, 0}).String()+"/16")
	}
	p = b.submitValues("/groups", "/groups", url.Values{"name": {"big"}, "resources": {strings.Join(many, "\n")}})
	if p.status != http.StatusUnprocessableEntity || !strings.Contains(p.text("resources-error"), "At most 64 networks per group") || p.has("resources-line-error") {
		t.Errorf("65 networks: status %d, error %q", p.status, p.text("resources-error"))
	}

	wantRedirect(t, b.submitValues(edit, "/groups/"+lan.ID, url.Values{"name": {"lan"}, "resources": {"\n  \n"}}), "/groups")
	if g, _ := e.ov.Group(lan.ID); len(g.Resources) != 0 {
		t.Errorf("networks after emptying the field: %v", g.Resources)
	}
}
