package main

import (
	"encoding/json"
	"fmt"
	"os/exec"
	"testing"
	"time"
)

// linkMTU reads a link's MTU in the router namespace from iproute2.
func (l *lab) linkMTU(t *testing.T, name string) int {
	t.Helper()
	out, err := exec.Command("ip", "-n", l.router, "-j", "link", "show", name).Output()
	if err != nil {
		t.Fatalf("ip link show %s: %v", name, err)
	}
	var links []struct{ MTU int }
	if err := json.Unmarshal(out, &links); err != nil || len(links) != 1 {
		t.Fatalf("ip -j link show %s: %s", name, out)
	}
	return links[0].MTU
}

// TestLinksThroughTheBinary manages the router namespace's links through
// the /v2 API of the real binary: status from the kernel, an MTU change
// applied, an unconfirmed change rolled back, a confirmed one kept.
func TestLinksThroughTheBinary(t *testing.T) {
	l := newLab(t)
	s := startIn(t, l.router, t.TempDir(), "--manage-links", "--node-name", "lab-router")
	var id float64
	eventually(t, "interface ewr adopted", func() bool {
		for _, in := range arr(s.call("GET", "/v2/network/interfaces/", nil, 200)) {
			if obj(in)["name"] == "ewr" {
				id = obj(in)["id"].(float64)
				return true
			}
		}
		return false
	})
	base := fmt.Sprintf("/v2/network/interfaces/%d", int(id))
	st := obj(s.call("GET", base+"/status/1", nil, 200))
	det := obj(st["interface_details"])
	if st["node_name"] != "lab-router" || det["interface_status"] != "UP" || det["cable_status"] != "CONNECTED" || det["speed"] != 10000.0 {
		t.Fatalf("status = %v", st)
	}
	nets := arr(st["network_statuses"])
	if len(nets) == 0 || obj(nets[0])["address"] != l.routerIP {
		t.Fatalf("network statuses = %v, want %s", nets, l.routerIP)
	}

	applied := func(mtu int) func() bool {
		return func() bool {
			return l.linkMTU(t, "ewr") == mtu && obj(s.call("GET", base+"/status/1", nil, 200))["update_status"] == "CHANGES_APPLIED"
		}
	}
	s.call("PATCH", base, map[string]any{"mtu": 1400}, 202)
	eventually(t, "MTU 1400 applied", applied(1400))

	// Not confirmed within 2 s: rolled back by itself.
	s.call("PATCH", base+"?confirm_within=2", map[string]any{"mtu": 1300}, 202)
	eventually(t, "MTU 1300 applied", func() bool { return l.linkMTU(t, "ewr") == 1300 })
	eventually(t, "rolled back to 1400", applied(1400))

	// Confirmed in time: kept.
	s.call("PATCH", base+"?confirm_within=3", map[string]any{"mtu": 1450}, 202)
	eventually(t, "MTU 1450 applied", func() bool { return l.linkMTU(t, "ewr") == 1450 })
	s.call("POST", base+"/confirm", nil, 202)
	time.Sleep(4 * time.Second)
	if got := l.linkMTU(t, "ewr"); got != 1450 {
		t.Fatalf("confirmed MTU became %d", got)
	}
	s.call("PATCH", base, map[string]any{"mtu": 70000}, 400)
	s.stopGracefully(t)
}
