package peers

import (
	"strings"
	"testing"

	"github.com/edgeward/edgeward/core/overlay"
)

// TestGroupResources: a group's networks go in and come out in the
// original's resource shape, bad ones are refused by field, and a peer
// whose policy reaches the group gets them as routes in its config.
func TestGroupResources(t *testing.T) {
	e := newEnv(t)
	var lan groupJSON
	r := e.do(t, "POST", "/api/groups", e.admin, map[string]any{"name": "lan",
		"resources": []any{map[string]any{"id": "192.168.1.0/24"}, map[string]any{"id": "10.9.9.9", "type": "host"}}})
	r.json(t, &lan)
	if r.status != 200 || lan.ResourcesCount != 2 || lan.Resources[0] != (resourceJSON{ID: "192.168.1.0/24", Type: "subnet"}) ||
		lan.Resources[1] != (resourceJSON{ID: "10.9.9.9/32", Type: "host"}) {
		t.Fatalf("create: %d %s", r.status, r.body)
	}
	for _, tc := range []struct {
		res   map[string]any
		field string
	}{
		{map[string]any{"id": "192.168.1.7/24"}, "resources[0]"},
		{map[string]any{"id": "lan"}, "resources[0].id"},
		{map[string]any{"id": "192.168.1.0/24", "type": "host"}, "resources[0].type"},
		{map[string]any{"id": "100.64.0.0/16"}, "resources[0]"}, // inside the overlay (100.64.0.0/16)
	} {
		r := e.do(t, "PUT", "/api/groups/"+lan.ID, e.admin, map[string]any{"name": "lan", "resources": []any{tc.res}})
		if r.status != 422 || !strings.Contains(string(r.body), `"field":"`+tc.field+`"`) {
			t.Errorf("resource %v: %d %s, want 422 naming %s", tc.res, r.status, r.body, tc.field)
		}
	}
	var devs groupJSON
	e.do(t, "POST", "/api/groups", e.admin, map[string]any{"name": "devs"}).json(t, &devs)
	if r := e.do(t, "POST", "/api/policies", e.admin, map[string]any{"name": "lan", "enabled": true, "rules": []any{map[string]any{
		"enabled": true, "action": "accept", "protocol": "all", "sources": []string{devs.ID}, "destinations": []string{lan.ID}}}}); r.status != 200 {
		t.Fatalf("policy: %d %s", r.status, r.body)
	}
	e.mount(overlay.Gateway{PublicKey: "gw", Endpoint: "gw.example:51820"})
	var p peerJSON
	e.do(t, "POST", "/api/peers", e.admin, map[string]any{"name": "laptop", "groups": []string{devs.ID}}).json(t, &p)
	if !strings.Contains(p.ClientConfig, "AllowedIPs = 100.64.0.0/16, 10.9.9.9/32, 192.168.1.0/24\n") {
		t.Fatalf("client config does not route the group's networks:\n%s", p.ClientConfig)
	}
}
