package peers

import (
	"strings"
	"testing"
)

// TestBadInput sends each endpoint what clients get wrong and checks the
// status and that the JSON error names the field.
func TestBadInput(t *testing.T) {
	e := newEnv(t)
	var target peerJSON
	e.do(t, "POST", "/api/peers", e.admin, map[string]any{"name": "target", "wg_pub_key": newKey(t)}).json(t, &target)
	var other peerJSON
	e.do(t, "POST", "/api/peers", e.admin, map[string]any{"name": "other"}).json(t, &other)
	var grp groupJSON
	e.do(t, "POST", "/api/groups", e.admin, map[string]any{"name": "g", "peers": []string{target.ID}}).json(t, &grp)
	peer := "/api/peers/" + target.ID
	if r := e.do(t, "POST", "/api/policies", e.admin, map[string]any{"name": "uses g", "rules": []any{map[string]any{
		"protocol": "all", "sources": []string{grp.ID}, "destinations": []string{grp.ID}}}}); r.status != 200 {
		t.Fatalf("create policy: %d %s", r.status, r.body)
	}
	goodPut := func(over map[string]any) map[string]any {
		b := map[string]any{"name": "target", "ssh_enabled": true, "login_expiration_enabled": false, "inactivity_expiration_enabled": false}
		for k, v := range over {
			if v == nil {
				delete(b, k)
			} else {
				b[k] = v
			}
		}
		return b
	}
	rule := func(over map[string]any) map[string]any {
		r := map[string]any{"protocol": "tcp", "ports": []string{"22"}, "sources": []string{grp.ID}, "destinations": []string{grp.ID}}
		for k, v := range over {
			r[k] = v
		}
		return map[string]any{"name": "p", "rules": []any{r}}
	}
	tests := []struct {
		name   string
		method string
		path   string
		body   any
		status int
		field  string
	}{
		{"create: not json", "POST", "/api/peers", "{name:", 400, ""},
		{"create: empty body", "POST", "/api/peers", "", 400, ""},
		{"create: array body", "POST", "/api/peers", "[]", 422, "body"},
		{"create: name missing", "POST", "/api/peers", map[string]any{}, 422, "name"},
		{"create: name wrong type", "POST", "/api/peers", map[string]any{"name": 5}, 422, "name"},
		{"create: placeholder key", "POST", "/api/peers", map[string]any{"name": "x", "wg_pub_key": "n0r3pL4c3h0ld3rK3y=="}, 422, "wg_pub_key"},
		{"create: duplicate name", "POST", "/api/peers", map[string]any{"name": "target"}, 409, "name"},
		{"create: duplicate key", "POST", "/api/peers", map[string]any{"name": "t2", "wg_pub_key": target.WGPubKey}, 409, "wg_pub_key"},
		{"create: unknown group", "POST", "/api/peers", map[string]any{"name": "x", "groups": []string{"nope"}}, 422, "groups[0]"},
		{"get: unknown", "GET", "/api/peers/nope", nil, 404, ""},
		{"put: unknown", "PUT", "/api/peers/nope", goodPut(nil), 404, ""},
		{"put: not json", "PUT", peer, "nope", 400, ""},
		{"put: name missing", "PUT", peer, goodPut(map[string]any{"name": nil}), 422, "name"},
		{"put: ssh missing", "PUT", peer, goodPut(map[string]any{"ssh_enabled": nil}), 422, "ssh_enabled"},
		{"put: ssh wrong type", "PUT", peer, goodPut(map[string]any{"ssh_enabled": "yes"}), 422, "ssh_enabled"},
		{"put: ip garbage", "PUT", peer, goodPut(map[string]any{"ip": "300.1.1.1"}), 422, "ip"},
		{"put: ip outside", "PUT", peer, goodPut(map[string]any{"ip": "10.0.0.1"}), 422, "ip"},
		{"put: ip taken", "PUT", peer, goodPut(map[string]any{"ip": other.IP}), 409, "ip"},
		{"put: name taken", "PUT", peer, goodPut(map[string]any{"name": "other"}), 409, "name"},
		{"delete: unknown", "DELETE", "/api/peers/nope", nil, 404, ""},
		{"accessible: unknown", "GET", "/api/peers/nope/accessible-peers", nil, 404, ""},
		{"temp: unknown target", "POST", "/api/peers/nope/temporary-access", map[string]any{"name": "v", "wg_pub_key": newKey(t), "rules": []string{"all"}}, 404, ""},
		{"temp: bad rule", "POST", peer + "/temporary-access", map[string]any{"name": "v", "wg_pub_key": newKey(t), "rules": []string{"tcp/80", "tcp/0"}}, 422, "rules[1]"},
		{"temp: rules missing", "POST", peer + "/temporary-access", map[string]any{"name": "v", "wg_pub_key": newKey(t)}, 422, "rules"},
		{"temp: rules wrong type", "POST", peer + "/temporary-access", map[string]any{"name": "v", "wg_pub_key": newKey(t), "rules": "tcp/80"}, 422, "rules"},
		{"temp: placeholder key", "POST", peer + "/temporary-access", map[string]any{"name": "v", "wg_pub_key": "n0r3pL4c3h0ld3rK3y==", "rules": []string{"all"}}, 422, "wg_pub_key"},
		{"temp: empty key", "POST", peer + "/temporary-access", map[string]any{"name": "v", "wg_pub_key": "", "rules": []string{"all"}}, 422, "wg_pub_key"},
		{"job: unknown peer", "POST", "/api/peers/nope/jobs", map[string]any{"workload": map[string]any{"type": "bundle"}}, 404, ""},
		{"job: workload missing", "POST", peer + "/jobs", map[string]any{}, 400, "workload"},
		{"job: type missing", "POST", peer + "/jobs", map[string]any{"workload": map[string]any{}}, 400, "workload.type"},
		{"job: unknown type", "POST", peer + "/jobs", map[string]any{"workload": map[string]any{"type": "reboot"}}, 400, "workload.type"},
		{"job: log count 0", "POST", peer + "/jobs", map[string]any{"workload": map[string]any{"type": "bundle", "parameters": map[string]any{"log_file_count": 0}}}, 400, "workload.parameters.log_file_count"},
		{"job: log count 1001", "POST", peer + "/jobs", map[string]any{"workload": map[string]any{"type": "bundle", "parameters": map[string]any{"log_file_count": 1001}}}, 400, "workload.parameters.log_file_count"},
		{"job: bundle time 6", "POST", peer + "/jobs", map[string]any{"workload": map[string]any{"type": "bundle", "parameters": map[string]any{"bundle_for": true, "bundle_for_time": 6}}}, 400, "workload.parameters.bundle_for_time"},
		{"job: bundle time missing", "POST", peer + "/jobs", map[string]any{"workload": map[string]any{"type": "bundle", "parameters": map[string]any{"bundle_for": true}}}, 400, "workload.parameters.bundle_for_time"},
		{"job: bundle time fraction", "POST", peer + "/jobs", map[string]any{"workload": map[string]any{"type": "bundle", "parameters": map[string]any{"bundle_for": true, "bundle_for_time": 2.5}}}, 400, "workload.parameters.bundle_for_time"},
		{"job: anonymize wrong type", "POST", peer + "/jobs", map[string]any{"workload": map[string]any{"type": "bundle", "parameters": map[string]any{"anonymize": "yes"}}}, 400, "workload.parameters.anonymize"},
		{"jobs: unknown peer", "GET", "/api/peers/nope/jobs", nil, 404, ""},
		{"job get: unknown job", "GET", peer + "/jobs/nope", nil, 404, ""},
		{"job get: unknown peer", "GET", "/api/peers/nope/jobs/nope", nil, 404, ""},
		{"bundle: bad key", "GET", "/api/bundles/abc/def", nil, 404, ""},
		{"bundle: traversal", "GET", "/api/bundles/" + strings.Repeat("a", 64) + "/..%2f..%2fstore", nil, 404, ""},
		{"group: name missing", "POST", "/api/groups", map[string]any{"peers": []string{}}, 422, "name"},
		{"group: duplicate", "POST", "/api/groups", map[string]any{"name": "g"}, 409, "name"},
		{"group: unknown peer", "POST", "/api/groups", map[string]any{"name": "h", "peers": []string{"nope"}}, 422, "peers[0]"},
		{"group: unknown", "GET", "/api/groups/nope", nil, 404, ""},
		{"group: by unknown name", "GET", "/api/groups?name=nope", nil, 404, ""},
		{"group put: unknown", "PUT", "/api/groups/nope", map[string]any{"name": "z"}, 404, ""},
		{"group delete: in use", "DELETE", "/api/groups/" + grp.ID, nil, 409, "id"},
		{"policy: rules missing", "POST", "/api/policies", map[string]any{"name": "p"}, 422, "rules"},
		{"policy: drop", "POST", "/api/policies", rule(map[string]any{"action": "drop"}), 422, "rules[0].action"},
		{"policy: protocol missing", "POST", "/api/policies", map[string]any{"name": "p", "rules": []any{map[string]any{"sources": []string{grp.ID}, "destinations": []string{grp.ID}}}}, 422, "rules[0].protocol"},
		{"policy: bad port", "POST", "/api/policies", rule(map[string]any{"ports": []string{"http"}}), 422, "rules[0].ports[0]"},
		{"policy: bad range", "POST", "/api/policies", rule(map[string]any{"ports": nil, "port_ranges": []any{map[string]any{"start": 90, "end": 80}}}), 422, "rules[0].port_ranges[0]"},
		{"policy: unknown group", "POST", "/api/policies", rule(map[string]any{"sources": []string{"nope"}}), 422, "rules[0].sources[0]"},
		{"policy: host resource", "POST", "/api/policies", rule(map[string]any{"sourceResource": map[string]any{"id": "x", "type": "host"}}), 422, "rules[0].sourceResource.type"},
		{"policy: name too long", "POST", "/api/policies", map[string]any{"name": strings.Repeat("n", 256), "rules": rule(nil)["rules"]}, 422, "name"},
		{"policy: description too long", "POST", "/api/policies", map[string]any{"name": "p", "description": strings.Repeat("d", 1025), "rules": rule(nil)["rules"]}, 422, "description"},
		{"policy: too many rules", "POST", "/api/policies", map[string]any{"name": "p", "rules": many(101, rule(nil)["rules"].([]any)[0])}, 422, "rules"},
		{"policy: rule description too long", "POST", "/api/policies", rule(map[string]any{"description": strings.Repeat("d", 1025)}), 422, "rules[0].description"},
		{"policy: too many ports", "POST", "/api/policies", rule(map[string]any{"ports": many(65, "22")}), 422, "rules[0].ports"},
		{"policy: too many port ranges", "POST", "/api/policies", rule(map[string]any{"ports": nil, "port_ranges": many(65, map[string]any{"start": 80, "end": 90})}), 422, "rules[0].port_ranges"},
		{"policy: too many sources", "POST", "/api/policies", rule(map[string]any{"sources": many(65, grp.ID)}), 422, "rules[0].sources"},
		{"policy: too many destinations", "POST", "/api/policies", rule(map[string]any{"destinations": many(65, grp.ID)}), 422, "rules[0].destinations"},
		{"temp: too many rules", "POST", peer + "/temporary-access", map[string]any{"name": "v", "wg_pub_key": newKey(t), "rules": many(101, "all")}, 422, "rules"},
		{"create: name too long", "POST", "/api/peers", map[string]any{"name": strings.Repeat("n", 256)}, 422, "name"},
		{"group: name too long", "POST", "/api/groups", map[string]any{"name": strings.Repeat("n", 256)}, 422, "name"},
		{"token: name too long", "POST", "/api/tokens", map[string]any{"name": strings.Repeat("n", 256)}, 422, "name"},
		{"policy: unknown", "GET", "/api/policies/nope", nil, 404, ""},
		{"policy put: unknown", "PUT", "/api/policies/nope", rule(nil), 404, ""},
		{"policy delete: unknown", "DELETE", "/api/policies/nope", nil, 404, ""},
		{"token: name missing", "POST", "/api/tokens", map[string]any{}, 422, "name"},
		{"token: bad role", "POST", "/api/tokens", map[string]any{"name": "x", "role": "root"}, 422, "role"},
		{"token: unknown", "DELETE", "/api/tokens/nope", nil, 404, ""},
		{"no such route", "GET", "/api/nope", nil, 404, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := e.do(t, tt.method, tt.path, e.admin, tt.body)
			var got Error
			r.json(t, &got)
			if r.status != tt.status || got.Code != tt.status || got.Message == "" {
				t.Fatalf("status %d body %s, want %d", r.status, r.body, tt.status)
			}
			if tt.field != "" && got.Field != tt.field {
				t.Fatalf("field %q (%s), want %q", got.Field, got.Message, tt.field)
			}
		})
	}
	// Nothing refused was written.
	var peers []peerJSON
	e.do(t, "GET", "/api/peers", e.admin, nil).json(t, &peers)
	if len(peers) != 2 {
		t.Fatalf("%d peers after bad input, want 2", len(peers))
	}
	var pols []policyJSON
	e.do(t, "GET", "/api/policies", e.admin, nil).json(t, &pols)
	if len(pols) != 1 {
		t.Fatalf("%d policies after bad input, want 1", len(pols))
	}
}

// many is n copies of v, for bodies over a size bound.
func many[T any](n int, v T) []T {
	out := make([]T, n)
	for i := range out {
		out[i] = v
	}
	return out
}
