//go:build linux

package web

import (
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"testing"

	"github.com/edgeward/edgeward/web/internal/webtest"

	"github.com/edgeward/edgeward/hw/nic"
)

// TestUIInterfaceRealKernel drives the interface pages over hw/nic in a
// network namespace the test makes (veth ewa, 192.0.2.1/24): the list shows
// what the kernel reports, an MTU change made on the page reaches the
// kernel, and Confirm keeps it. The other page tests use the fake NIC
// layer for cases a namespace cannot stage (speeds, DHCP leases).
func TestUIInterfaceRealKernel(t *testing.T) {
	_, fd, ip := webtest.Netns(t, "ew-web-")
	ip("link", "add", "ewa", "type", "veth", "peer", "name", "ewb")
	ip("addr", "add", "192.0.2.1/24", "dev", "ewa")
	ip("link", "set", "ewa", "up")
	ip("link", "set", "ewb", "up")
	k, err := nic.New(nic.Options{NetNS: fd})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { k.Close() })
	kernelMTU := func() int {
		t.Helper()
		var links []struct{ MTU int }
		if err := json.Unmarshal(ip("-j", "link", "show", "ewa"), &links); err != nil || len(links) != 1 {
			t.Fatalf("ip -j link show ewa: %v", err)
		}
		return links[0].MTU
	}

	e := newUIEnvWith(t, newServicesOn(t, testNodeName, k, nil))
	br := e.browser(t)
	e.setUp(t, br)
	id := 0
	for _, i := range e.links.Interfaces(t.Context()) {
		if i.Name == "ewa" {
			id = i.ID
		}
	}
	if id == 0 {
		t.Fatalf("ewa not among the interfaces: %+v", e.links.Interfaces(t.Context()))
	}
	page := "/interfaces/" + strconv.Itoa(id)

	list := br.get("/interfaces")
	row := list.doc.Find(`[data-testid="iface-row"][data-iface-id="` + strconv.Itoa(id) + `"]`)
	if got := strings.TrimSpace(row.Find(`[data-testid="iface-state"]`).Text()); got != "Up" {
		t.Errorf("ewa's state on the list %q, want Up (the kernel's UP)\n%s", got, list.body)
	}
	if got := strings.TrimSpace(row.Find(`[data-testid="iface-addrs"]`).Text()); !strings.Contains(got, "192.0.2.1/24") {
		t.Errorf("ewa's addresses on the list %q", got)
	}

	wantRedirect(t, br.submitFrom(page, page, map[string]string{"mtu": "1400", "confirm_within": "60"}), page+"?saved=1")
	if got := kernelMTU(); got != 1400 {
		t.Fatalf("kernel MTU %d after the page's change, want 1400", got)
	}
	if p := br.get(page); !p.has("confirm-box") {
		t.Fatalf("no confirmation box while the change waits\n%s", p.body)
	}
	wantRedirect(t, br.submitFrom(page, page+"/confirm", nil), page)
	if _, waiting := e.links.Pending(id); waiting || kernelMTU() != 1400 {
		t.Errorf("after Confirm: still waiting %v, kernel MTU %d", waiting, kernelMTU())
	}
	if p := br.get(page); p.status != http.StatusOK || p.has("confirm-box") || p.text("iface-mtu") != "1400" {
		t.Errorf("after Confirm: status %d, box %v, MTU shown %q", p.status, p.has("confirm-box"), p.text("iface-mtu"))
	}
}
