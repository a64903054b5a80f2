package p2p

import (
	"context"
	"encoding/json"
	"io"
	"net/http/httptest"
	"net/netip"
	"regexp"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/edgeward/edgeward/core/overlay"
	"github.com/edgeward/edgeward/web/internal/apispec/apicheck"
)

// tsPattern is the dialect's timestamp: RFC 3339, UTC, milliseconds.
var tsPattern = regexp.MustCompile(`^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$`)

// anyTS stands for any well-formed timestamp in expected bodies.
const anyTS = "<ts>"

// scrub decodes a JSON body and replaces every timestamp string with anyTS,
// so whole bodies can be compared: field names and JSON types included.
func scrub(t testing.TB, body []byte) any {
	t.Helper()
	var v any
	if err := json.Unmarshal(body, &v); err != nil {
		t.Fatalf("decode %s: %v", apicheck.Shorten(body, 512), err)
	}
	var walk func(v any) any
	walk = func(v any) any {
		switch x := v.(type) {
		case string:
			if tsPattern.MatchString(x) {
				return anyTS
			}
		case []any:
			for i := range x {
				x[i] = walk(x[i])
			}
		case map[string]any:
			for k := range x {
				x[k] = walk(x[k])
			}
		}
		return v
	}
	return walk(v)
}

// step is one request of a stateful scenario and what it must answer.
type step struct {
	name   string
	method string
	path   string
	body   any
	status int
	want   any // the scrubbed JSON body; nil: not checked
}

func (e *env) run(t *testing.T, token string, steps []step) {
	t.Helper()
	for _, s := range steps {
		r := e.do(t, s.method, s.path, token, s.body)
		if r.status != s.status {
			t.Fatalf("%s: %s %s: status %d (%s), want %d", s.name, s.method, s.path, r.status, apicheck.Shorten(r.body, 512), s.status)
		}
		if s.status != 200 {
			netErrOf(t, r)
		}
		if s.want != nil {
			if diff := cmp.Diff(s.want, scrub(t, r.body)); diff != "" {
				t.Fatalf("%s: %s %s (-want +got):\n%s", s.name, s.method, s.path, diff)
			}
		}
	}
}

// netErrOf checks that r carries one error of the /network dialect.
func netErrOf(t testing.TB, r resp) netError {
	t.Helper()
	var errs []netError
	r.json(t, &errs)
	if len(errs) != 1 || errs[0].Kind != "permanent" || !strings.HasPrefix(errs[0].ID, "edgeward.") || errs[0].Msg == "" {
		t.Fatalf("error body %s is not one /network error", r.body)
	}
	return errs[0]
}

// doType sends a body with the given content type.
func (e *env) doType(t testing.TB, method, path, token, ctype, body string) resp {
	t.Helper()
	req := httptest.NewRequest(method, path, strings.NewReader(body))
	req.Header.Set("Content-Type", ctype)
	req.Header.Set("Authorization", "Token "+token)
	res, err := e.app.Test(req, 60_000)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer res.Body.Close()
	raw, _ := io.ReadAll(res.Body)
	apicheck.Response(t, method, path, req.Header, res.StatusCode, res.Header, raw)
	return resp{status: res.StatusCode, header: res.Header, body: raw}
}

// connect creates an overlay peer and, when endpoint is not empty, marks
// it connected from there. It returns its P2P id and overlay id.
func (e *env) connect(t testing.TB, name, endpoint string) (p2p, id string) {
	t.Helper()
	ctx := context.Background()
	key := newKey(t)
	p, err := e.ov.CreatePeer(ctx, overlay.NewPeer{Name: name, PublicKey: key})
	if err != nil {
		t.Fatal(err)
	}
	if endpoint != "" {
		if err := e.ov.SetConnected(ctx, key, true, netip.MustParseAddrPort(endpoint)); err != nil {
			t.Fatal(err)
		}
	}
	return overlay.PeerID(key), p.ID
}

func (e *env) tokenID(t testing.TB, name string) string {
	t.Helper()
	for _, tok := range e.toks.List() {
		if tok.Name == name {
			return tok.ID
		}
	}
	t.Fatalf("no token %s", name)
	return ""
}

// aclStatus is the expected /network/acl/status of the test ACL, which
// has no kernel firewall.
func (e *env) aclStatus(bans, trusts, greylisted float64) obj {
	return obj{"enforced": false, "reason": e.acl.Enforcement().Reason, "since": anyTS, "bans": bans, "trusts": trusts,
		"greylisted": greylisted, "peer_bans": 0.0, "peer_trusts": 0.0}
}

// unknownPeerID is a well-formed peer id no overlay peer has.
func unknownPeerID(t testing.TB) string { return overlay.PeerID(newKey(t)) }

type obj = map[string]any
type arr = []any

var zeroStatJSON = obj{"total_sent": "0", "total_recv": "0", "current_inflow": 0.0, "current_outflow": 0.0}

func TestNetworkReads(t *testing.T) {
	e := newEnv(t)
	version := obj{"chain_name": "edgeward", "distributed_db_version": 0.0, "p2p_version": 1.0}
	// Viewers may read everything here.
	e.run(t, e.viewer, []step{
		{"self", "GET", "/network/self", nil, 200, e.nodeID},
		{"stat", "GET", "/network/stat", nil, 200, obj{"total_sent": "12345", "total_recv": "1099511627776", "current_inflow": 0.0, "current_outflow": 0.0}},
		{"version", "GET", "/network/version", nil, 200, version},
		{"versions", "GET", "/network/versions", nil, 200, arr{version}},
		{"connections", "GET", "/network/connections", nil, 200, arr{}},
		{"points", "GET", "/network/points", nil, 200, arr{}},
		{"peers", "GET", "/network/peers", nil, 200, arr{}},
		{"greylist ips", "GET", "/network/greylist/ips", nil, 200, obj{"ips": arr{}, "not_reliable_since": nil}},
		{"greylist peers", "GET", "/network/greylist/peers", nil, 200, arr{}},
		{"acl status", "GET", "/network/acl/status", nil, 200, e.aclStatus(0.0, 0.0, 0.0)},
	})
}

func TestNetworkPoints(t *testing.T) {
	e := newEnv(t)
	pid, _ := e.connect(t, "conn", "198.51.100.20:51820")
	running := obj{"trusted": false, "state": obj{"event_kind": "running", "p2p_peer_id": pid}, "p2p_peer_id": pid, "last_seen": arr{pid, anyTS}}
	banned := obj{"trusted": false, "state": obj{"event_kind": "disconnected"}}
	trusted := obj{"trusted": true, "state": obj{"event_kind": "disconnected"}, "expected_peer_id": pid}
	opened := obj{"trusted": false, "state": obj{"event_kind": "disconnected"}}
	established := arr{anyTS, obj{"event_kind": "connection_established", "p2p_peer_id": pid}}
	e.run(t, e.admin, []step{
		{"list: the connection", "GET", "/network/points", nil, 200, arr{arr{"198.51.100.20:51820", running}}},
		{"get: the connection", "GET", "/network/points/198.51.100.20:51820", nil, 200, running},
		{"get: other port of the connection", "GET", "/network/points/198.51.100.20:51821", nil, 404, nil},
		{"ban", "PATCH", "/network/points/203.0.113.5:9732", obj{"acl": "ban"}, 200, banned},
		{"get banned", "GET", "/network/points/203.0.113.5:9732", nil, 200, banned},
		{"get banned, other port", "GET", "/network/points/203.0.113.5:1", nil, 200, banned},
		{"banned", "GET", "/network/points/203.0.113.5:9732/banned", nil, 200, true},
		{"banned, port ignored", "GET", "/network/points/203.0.113.5:1/banned", nil, 200, true},
		{"trust v6 with peer_id", "PATCH", "/network/points/%5B2001:db8::7%5D:9732", obj{"acl": "trust", "peer_id": pid}, 200, trusted},
		{"get v6 unescaped: the expected peer id is kept", "GET", "/network/points/[2001:db8::7]:9732", nil, 200, trusted},
		{"v6 not banned", "GET", "/network/points/[2001:db8::7]:9732/banned", nil, 200, false},
		{"list", "GET", "/network/points", nil, 200, arr{
			arr{"198.51.100.20:51820", running}, arr{"203.0.113.5:9732", banned}, arr{"[2001:db8::7]:9732", trusted}}},
		{"list running", "GET", "/network/points?filter=running", nil, 200, arr{arr{"198.51.100.20:51820", running}}},
		{"list disconnected or requested", "GET", "/network/points?filter=disconnected&filter=requested", nil, 200, arr{
			arr{"203.0.113.5:9732", banned}, arr{"[2001:db8::7]:9732", trusted}}},
		{"list accepted", "GET", "/network/points?filter=accepted", nil, 200, arr{}},
		{"empty patch changes nothing", "PATCH", "/network/points/198.51.100.20:51820", obj{}, 200, running},
		{"empty patch of an unknown point", "PATCH", "/network/points/192.0.2.200:1", obj{}, 404, nil},
		{"open: still known, as in the original", "PATCH", "/network/points/203.0.113.5:9732", obj{"acl": "open"}, 200, opened},
		{"opened: not banned", "GET", "/network/points/203.0.113.5:9732/banned", nil, 200, false},
		{"opened: registered", "GET", "/network/points/203.0.113.5:9732", nil, 200, opened},
		{"opened: another port is unknown", "GET", "/network/points/203.0.113.5:1", nil, 404, nil},
		{"log: the original's [time, kind] items", "GET", "/network/points/198.51.100.20:51820/log", nil, 200, arr{established}},
		{"log: ACL events are edgeward's own", "GET", "/network/points/203.0.113.5:9732/log", nil, 200, arr{}},
		{"log of another port", "GET", "/network/points/198.51.100.20:1/log", nil, 200, arr{}},
		{"log of an unknown point", "GET", "/network/points/203.0.113.99:1/log", nil, 200, arr{}},
		{"monitor=false is no monitor", "GET", "/network/points/198.51.100.20:51820/log?monitor=false", nil, 200, arr{established}},
	})
}

func TestNetworkPointsDeprecated(t *testing.T) {
	e := newEnv(t)
	p := "/network/points/192.0.2.50:80"
	unknownPoint := []step{
		{"unknown", "GET", p, nil, 404, nil},
		{"not banned", "GET", p + "/banned", nil, 200, false},
	}
	e.run(t, e.admin, []step{
		{"ban", "GET", p + "/ban", nil, 200, obj{}},
		{"banned", "GET", p + "/banned", nil, 200, true},
		{"unban", "GET", p + "/unban", nil, 200, obj{}},
	})
	e.run(t, e.admin, unknownPoint)
	e.run(t, e.admin, []step{
		{"trust", "GET", p + "/trust", nil, 200, obj{}},
		{"trusted", "GET", p, nil, 200, obj{"trusted": true, "state": obj{"event_kind": "disconnected"}}},
		{"unban keeps the trust", "GET", p + "/unban", nil, 200, obj{}},
		{"still trusted", "GET", p, nil, 200, obj{"trusted": true, "state": obj{"event_kind": "disconnected"}}},
		{"untrust", "GET", p + "/untrust", nil, 200, obj{}},
	})
	e.run(t, e.admin, unknownPoint)
	e.run(t, e.admin, []step{
		{"ban", "GET", p + "/ban", nil, 200, obj{}},
		{"untrust keeps the ban", "GET", p + "/untrust", nil, 200, obj{}},
		{"still banned", "GET", p + "/banned", nil, 200, true},
		{"trust lifts the ban", "GET", p + "/trust", nil, 200, obj{}},
		{"trusted, not banned", "GET", p + "/banned", nil, 200, false},
	})
}

// TestNetworkEveryRouteNeedsAToken refuses every /network route without a
// valid token, and every route that is not a GET to a viewer.
func TestNetworkEveryRouteNeedsAToken(t *testing.T) {
	e := newEnv(t)
	params := strings.NewReplacer(":point", "192.0.2.1:80", ":peer_id", unknownPeerID(t))
	routes := 0
	for _, r := range e.app.GetRoutes(true) {
		if r.Method == "HEAD" || r.Method == "USE" || !strings.HasPrefix(r.Path, "/network/") {
			continue
		}
		routes++
		path := params.Replace(r.Path)
		for _, tc := range []struct{ name, token string }{{"no", ""}, {"garbage", "nope"}, {"revoked", e.revoked}} {
			if got := e.do(t, r.Method, path, tc.token, obj{}); got.status != 401 {
				t.Errorf("%s %s with %s token: status %d, want 401", r.Method, path, tc.name, got.status)
			}
		}
		if r.Method != "GET" {
			if got := e.do(t, r.Method, path, e.viewer, obj{}); got.status != 403 {
				t.Errorf("%s %s with a viewer token: status %d, want 403", r.Method, path, got.status)
			}
		}
	}
	if routes < 30 {
		t.Fatalf("only %d /network routes found", routes)
	}
}
