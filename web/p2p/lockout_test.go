package p2p

import (
	"strings"
	"testing"
)

// TestNetworkLockoutRefused: bans that cover loopback are refused in the
// dialect's error shape, naming the entry, on every route that bans;
// force bans anyway.
func TestNetworkLockoutRefused(t *testing.T) {
	e := newEnv(t)
	for _, tt := range []struct {
		name, method, path string
		body               any
		msg                string
	}{
		{"patch loopback", "PATCH", "/network/points/127.0.0.1:8080", map[string]any{"acl": "ban"}, "point: 127.0.0.1 covers loopback"},
		{"patch mapped loopback", "PATCH", "/network/points/[::ffff:127.0.0.1]:8080", map[string]any{"acl": "ban"}, "127.0.0.1 covers loopback"},
		{"patch v6 loopback", "PATCH", "/network/points/[::1]:8080", map[string]any{"acl": "ban"}, "::1 covers loopback"},
		{"patch forced false", "PATCH", "/network/points/127.0.0.1:8080", map[string]any{"acl": "ban", "force": false}, "covers loopback"},
		{"deprecated ban", "GET", "/network/points/127.0.0.1:8080/ban", nil, "covers loopback"},
		{"bulk range", "POST", "/network/acl/bulk", map[string]any{"acl": "ban", "entries": []string{"192.0.2.1", "127.0.0.0/8"}}, "entries[1]: 127.0.0.0/8 covers loopback"},
		{"bulk everything", "POST", "/network/acl/bulk", map[string]any{"acl": "ban", "entries": []string{"0.0.0.0/0"}}, "entries[0]: 0.0.0.0/0 covers loopback"},
		{"bulk mapped everything", "POST", "/network/acl/bulk", map[string]any{"acl": "ban", "entries": []string{"::ffff:0.0.0.0/96"}}, "0.0.0.0/0 covers loopback"},
		// app.Test's requests come from 0.0.0.0.
		{"bulk requester", "POST", "/network/acl/bulk", map[string]any{"acl": "ban", "entries": []string{"0.0.0.0/8"}}, "covers 0.0.0.0, the address this request comes from"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			r := e.do(t, tt.method, tt.path, e.admin, tt.body)
			got := netErrOf(t, r)
			if r.status != 400 || got.ID != "edgeward.invalid_argument" || !strings.Contains(got.Msg, tt.msg) || !strings.Contains(got.Msg, "force") {
				t.Fatalf("status %d %+v, want 400 invalid_argument containing %q and how to force", r.status, got, tt.msg)
			}
		})
	}
	r := e.doType(t, "POST", "/network/acl/bulk?acl=ban", e.admin, "text/plain", "192.0.2.1\n127.0.0.1\n")
	if got := netErrOf(t, r); r.status != 400 || !strings.Contains(got.Msg, "line 2: 127.0.0.1 covers loopback") {
		t.Fatalf("text bulk: status %d %+v, want 400 naming line 2", r.status, got)
	}
	r = e.doType(t, "POST", "/network/acl/bulk?acl=ban&force=maybe", e.admin, "text/plain", "127.0.0.1\n")
	if got := netErrOf(t, r); r.status != 400 || got.ID != "edgeward.bad_query" || !strings.Contains(got.Msg, "force") {
		t.Fatalf("bad force: status %d %+v, want 400 bad_query naming force", r.status, got)
	}
	assertNothingWritten(t, e)

	e.run(t, e.admin, []step{
		{"patch forced", "PATCH", "/network/points/127.0.0.1:8080", obj{"acl": "ban", "force": true}, 200, nil},
		{"banned", "GET", "/network/points/127.0.0.1:8080/banned", nil, 200, true},
		{"bulk forced", "POST", "/network/acl/bulk", obj{"acl": "ban", "entries": []string{"::1"}, "force": true}, 200,
			obj{"acl": "ban", "count": 1.0, "enforced": false}},
		{"deprecated forced", "GET", "/network/points/127.0.0.2:1/ban?force=true", nil, 200, obj{}},
	})
	r = e.doType(t, "POST", "/network/acl/bulk?acl=ban&force=true", e.admin, "text/plain", "127.0.0.0/8\n")
	if r.status != 200 {
		t.Fatalf("forced text bulk: status %d %s", r.status, r.body)
	}
}
