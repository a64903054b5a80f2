package web

import (
	"net/http"
	"path/filepath"
	"testing"

	"github.com/edgeward/edgeward/core/links"
)

// TestUIInterfacesReadOnly: without --manage-links the Interfaces page is
// not greyed out but shows the status read-only, with a notice saying how
// to turn management on; it offers no form, and a posted one is refused.
func TestUIInterfacesReadOnly(t *testing.T) {
	svc := newServices(t, testNodeName)
	ro, err := links.New(t.Context(), svc.db, svc.kernel, svc.journal, links.Config{NodeName: testNodeName, ReadOnly: true,
		ResolvConf: filepath.Join(t.TempDir(), "resolv.conf")})
	if err != nil {
		t.Fatal(err)
	}
	svc.links = ro
	e := newUIEnvWith(t, svc)
	b := e.browser(t)
	e.setUp(t, b)

	list := b.get("/interfaces")
	if list.status != http.StatusOK || !list.has("read-only") || list.doc.Find(`[data-testid="iface-row"]`).Length() != 2 {
		t.Fatalf("list: status %d, notice %v, %d rows\n%s", list.status, list.has("read-only"),
			list.doc.Find(`[data-testid="iface-row"]`).Length(), list.body)
	}
	if nav := list.doc.Find(`nav a[href="/interfaces"]`); nav.Length() != 1 {
		t.Errorf("the Interfaces entry is not a link: %d", nav.Length())
	}
	one := b.get(eth0)
	if one.status != http.StatusOK || !one.has("read-only") || one.text("node") != testNodeName {
		t.Fatalf("interface page: status %d\n%s", one.status, one.body)
	}
	for _, id := range []string{"iface-form", "net-add", "net-edit", "net-delete"} {
		if one.has(id) {
			t.Errorf("read-only page offers %s", id)
		}
	}
	if got := one.doc.Find(`[data-testid="net-row"]`).Length(); got != 1 {
		t.Errorf("%d networks shown, want 1", got)
	}
	p := b.submitFrom("/interfaces", eth0, map[string]string{"mtu": "1400", "default_gateway": "", "default_gateway_ipv6": "",
		"bonding_mode": "UNSPECIFIED", "confirm_within": "0"})
	if p.status != http.StatusForbidden {
		t.Errorf("posted form: status %d, want 403\n%s", p.status, p.body)
	}
	if i, _ := e.links.Interface(1); i.MTU != 1500 {
		t.Errorf("MTU %d after a refused post, want 1500", i.MTU)
	}
}
