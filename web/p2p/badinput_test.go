package p2p

import (
	"strings"
	"testing"
)

// badPoints are points clients get wrong, as they appear in a URL path,
// and what the error message must quote.
var badPoints = []struct{ path, quoted string }{
	{"1.2.3.4:99999", "1.2.3.4:99999"},
	{"999.1.1.1:80", "999.1.1.1:80"},
	{"[::1", "[::1"},
	{"%5B::1", "[::1"},
	{"garbage", "garbage"},
	{"1.2.3.4", "1.2.3.4"},
	{"[fe80::1%25eth0]:80", "[fe80::1%eth0]:80"},
	{"%5Bfe80::1%25eth0%5D:80", "[fe80::1%eth0]:80"},
	{"[::1]80", "[::1]80"},
	{"1.2.3.4:-1", "1.2.3.4:-1"},
	{"1.2.3.4:http", "1.2.3.4:http"},
	{"::1:80", "::1:80"},
}

// TestNetworkBadPoints sends every bad point to every {point} route.
func TestNetworkBadPoints(t *testing.T) {
	e := newEnv(t)
	routes := []struct{ method, suffix string }{
		{"GET", ""}, {"PATCH", ""}, {"GET", "/banned"}, {"GET", "/log"}, {"GET", "/log?monitor"},
		{"GET", "/ban"}, {"GET", "/unban"}, {"GET", "/trust"}, {"GET", "/untrust"},
	}
	for _, rt := range routes {
		for _, p := range badPoints {
			path := "/network/points/" + p.path + rt.suffix
			t.Run(rt.method+" "+path, func(t *testing.T) {
				r := e.do(t, rt.method, path, e.admin, patchBody(rt.method))
				got := netErrOf(t, r)
				if r.status != 400 || got.ID != "edgeward.bad_point" || !strings.Contains(got.Msg, p.quoted) || !strings.Contains(got.Msg, "point") {
					t.Fatalf("status %d %+v, want 400 bad_point naming %q", r.status, got, p.quoted)
				}
			})
		}
	}
	assertNothingWritten(t, e)
}

// TestNetworkBadPeerIDs sends malformed peer ids to every {peer_id} route.
func TestNetworkBadPeerIDs(t *testing.T) {
	e := newEnv(t)
	good := unknownPeerID(t)
	flipped := good[:len(good)-1] + map[bool]string{true: "2", false: "3"}[good[len(good)-1] == '3']
	bad := []string{"nope", "id", flipped, good + "1", good[:29], strings.Repeat("1", 30), "idrpUzezw7VJ4NU6phQYuxh88RiU1t0", "%5B"}
	routes := []struct{ method, prefix, suffix string }{
		{"GET", "/network/connections/", ""}, {"DELETE", "/network/connections/", ""},
		{"GET", "/network/peers/", ""}, {"PATCH", "/network/peers/", ""}, {"GET", "/network/peers/", "/banned"},
		{"GET", "/network/peers/", "/log"}, {"GET", "/network/peers/", "/ban"}, {"GET", "/network/peers/", "/unban"},
		{"GET", "/network/peers/", "/trust"}, {"GET", "/network/peers/", "/untrust"},
	}
	for _, rt := range routes {
		for _, id := range bad {
			path := rt.prefix + id + rt.suffix
			t.Run(rt.method+" "+path, func(t *testing.T) {
				r := e.do(t, rt.method, path, e.admin, patchBody(rt.method))
				got := netErrOf(t, r)
				if r.status != 400 || got.ID != "edgeward.bad_peer_id" || !strings.Contains(got.Msg, "peer_id") {
					t.Fatalf("status %d %+v, want 400 bad_peer_id", r.status, got)
				}
			})
		}
	}
	assertNothingWritten(t, e)
}

// TestNetworkBadInput covers bodies, queries and unknown objects.
func TestNetworkBadInput(t *testing.T) {
	e := newEnv(t)
	pid, _ := e.connect(t, "p", "")
	stranger := unknownPeerID(t)
	point := "/network/points/203.0.113.1:80"
	peer := "/network/peers/" + pid
	tests := []struct {
		name   string
		method string
		path   string
		body   any
		status int
		id     string
		msg    string // a part of the message
	}{
		{"point: acl nuke", "PATCH", point, map[string]any{"acl": "nuke"}, 400, "edgeward.invalid_argument", `acl: must be ban, trust or open, not "nuke"`},
		{"point: acl number", "PATCH", point, map[string]any{"acl": 5}, 400, "edgeward.bad_body", "acl must be a string"},
		{"point: acl null is no acl", "PATCH", point, `{"acl":null}`, 404, "edgeward.unknown_point", "203.0.113.1:80"},
		{"point: no body", "PATCH", point, nil, 400, "edgeward.bad_body", "empty"},
		{"point: blank body", "PATCH", point, " \n", 400, "edgeward.bad_body", "empty"},
		{"point: not json", "PATCH", point, "acl=ban", 400, "edgeward.bad_body", "not valid JSON"},
		{"point: array", "PATCH", point, "[]", 400, "edgeward.bad_body", "must be a JSON object"},
		{"point: null", "PATCH", point, "null", 400, "edgeward.bad_body", "must be a JSON object, not null"},
		{"point: two objects", "PATCH", point, `{"acl":"ban"}{}`, 400, "edgeward.bad_body", "not valid JSON"},
		{"point: unknown field", "PATCH", point, map[string]any{"acl": "ban", "tusted": true}, 400, "edgeward.bad_body", `"tusted"`},
		{"point: bad peer_id", "PATCH", point, map[string]any{"acl": "ban", "peer_id": "nope"}, 400, "edgeward.bad_peer_id", `"nope"`},
		{"point: peer_id number", "PATCH", point, map[string]any{"peer_id": 5}, 400, "edgeward.bad_body", "peer_id must be a string"},
		{"point: unknown", "GET", point, nil, 404, "edgeward.unknown_point", "203.0.113.1:80"},
		{"point: unknown, empty patch", "PATCH", point, map[string]any{}, 404, "edgeward.unknown_point", "203.0.113.1:80"},
		{"peer: acl nuke", "PATCH", peer, map[string]any{"acl": "nuke"}, 400, "edgeward.invalid_argument", `acl: must be ban, trust or open, not "nuke"`},
		{"peer: acl number", "PATCH", peer, map[string]any{"acl": 5}, 400, "edgeward.bad_body", "acl must be a string"},
		{"peer: no body", "PATCH", peer, nil, 400, "edgeward.bad_body", "empty"},
		{"peer: peer_id is no peer field", "PATCH", peer, map[string]any{"peer_id": pid}, 400, "edgeward.bad_body", `"peer_id"`},
		{"peer: unknown", "GET", "/network/peers/" + stranger, nil, 404, "edgeward.not_found", stranger},
		{"peer: unknown, empty patch", "PATCH", "/network/peers/" + stranger, map[string]any{}, 404, "edgeward.not_found", stranger},
		{"connection: not connected", "GET", "/network/connections/" + pid, nil, 404, "edgeward.not_connected", pid},
		{"points: bad filter", "GET", "/network/points?filter=bogus", nil, 400, "edgeward.bad_filter", `"bogus"`},
		{"points: one bad filter", "GET", "/network/points?filter=running&filter=Running", nil, 400, "edgeward.bad_filter", `"Running"`},
		{"points: empty filter", "GET", "/network/points?filter=", nil, 400, "edgeward.bad_filter", `""`},
		{"peers: requested is no peer state", "GET", "/network/peers?filter=requested", nil, 400, "edgeward.bad_filter", `"requested"`},
		{"bulk: acl nuke", "POST", "/network/acl/bulk", map[string]any{"acl": "nuke", "entries": []string{"192.0.2.1"}}, 400, "edgeward.invalid_argument", "acl"},
		{"bulk: open is no bulk acl", "POST", "/network/acl/bulk", map[string]any{"acl": "open", "entries": []string{"192.0.2.1"}}, 400, "edgeward.invalid_argument", "acl"},
		{"bulk: acl missing", "POST", "/network/acl/bulk", map[string]any{"entries": []string{"192.0.2.1"}}, 400, "edgeward.bad_body", "acl is required"},
		{"bulk: entries missing", "POST", "/network/acl/bulk", map[string]any{"acl": "ban"}, 400, "edgeward.invalid_argument", "entries"},
		{"bulk: entries empty", "POST", "/network/acl/bulk", map[string]any{"acl": "ban", "entries": []string{}}, 400, "edgeward.invalid_argument", "entries"},
		{"bulk: entries string", "POST", "/network/acl/bulk", map[string]any{"acl": "ban", "entries": "192.0.2.1"}, 400, "edgeward.bad_body", "entries must be an array"},
		{"bulk: negative ttl", "POST", "/network/acl/bulk", map[string]any{"acl": "ban", "entries": []string{"192.0.2.1"}, "ttl_seconds": -1}, 400, "edgeward.bad_body", "ttl_seconds"},
		{"bulk: huge ttl", "POST", "/network/acl/bulk", map[string]any{"acl": "ban", "entries": []string{"192.0.2.1"}, "ttl_seconds": 1e12}, 400, "edgeward.bad_body", "ttl_seconds"},
		{"bulk: fractional ttl", "POST", "/network/acl/bulk", map[string]any{"acl": "ban", "entries": []string{"192.0.2.1"}, "ttl_seconds": 1.5}, 400, "edgeward.bad_body", "ttl_seconds"},
		{"bulk: ttl on a trust", "POST", "/network/acl/bulk", map[string]any{"acl": "trust", "entries": []string{"192.0.2.1"}, "ttl_seconds": 60}, 400, "edgeward.invalid_argument", "ttl"},
		{"bulk: trust with a port", "POST", "/network/acl/bulk", map[string]any{"acl": "trust", "entries": []string{"192.0.2.1:22"}}, 400, "edgeward.invalid_argument", "entries[0]"},
		{"bulk: no body", "POST", "/network/acl/bulk", nil, 400, "edgeward.bad_body", "empty"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := e.do(t, tt.method, tt.path, e.admin, tt.body)
			got := netErrOf(t, r)
			if r.status != tt.status || got.ID != tt.id || !strings.Contains(got.Msg, tt.msg) {
				t.Fatalf("status %d %+v, want %d %s containing %q", r.status, got, tt.status, tt.id, tt.msg)
			}
		})
	}
	for _, tc := range []struct{ name, path, ctype, body, id, msg string }{
		{"text: acl missing", "/network/acl/bulk", "text/plain", "192.0.2.1\n", "edgeward.bad_body", "acl is required"},
		{"text: bad ttl", "/network/acl/bulk?acl=ban&ttl_seconds=soon", "text/plain", "192.0.2.1\n", "edgeward.bad_query", `"soon"`},
		{"text: only comments", "/network/acl/bulk?acl=ban", "text/plain", "# nothing\n\n", "edgeward.invalid_argument", "entries"},
		{"form body", "/network/acl/bulk?acl=ban", "application/x-www-form-urlencoded", "entries=192.0.2.1", "edgeward.bad_content_type", "text/plain"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := e.doType(t, "POST", tc.path, e.admin, tc.ctype, tc.body)
			got := netErrOf(t, r)
			if r.status != 400 || got.ID != tc.id || !strings.Contains(got.Msg, tc.msg) {
				t.Fatalf("status %d %+v, want 400 %s containing %q", r.status, got, tc.id, tc.msg)
			}
		})
	}
	e.run(t, e.admin, []step{{"peer not banned", "GET", peer + "/banned", nil, 200, false}})
	assertNothingWritten(t, e)
}

// patchBody is a valid body for PATCH, so that only the path is wrong.
func patchBody(method string) any {
	if method == "PATCH" {
		return map[string]any{"acl": "ban"}
	}
	return nil
}

// assertNothingWritten checks that the refused requests left the ACL empty.
func assertNothingWritten(t *testing.T, e *env) {
	t.Helper()
	e.run(t, e.admin, []step{{"nothing written", "GET", "/network/acl/status", nil, 200, e.aclStatus(0.0, 0.0, 0.0)}})
}
