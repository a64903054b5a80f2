package p2p

import (
	"context"
	"fmt"
	"net/netip"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestNetworkGreylist(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	pid, _ := e.connect(t, "g", "198.51.100.30:51820")
	grey := netip.MustParseAddr("198.51.100.30")
	greylist := func(t *testing.T) {
		if d, err := e.acl.Greylist(ctx, grey, "test"); err != nil || d <= 0 {
			t.Fatalf("greylist: %v, %v", d, err)
		}
	}
	greylisted := []step{
		{"ips", "GET", "/network/greylist/ips", nil, 200, obj{"ips": arr{"::ffff:198.51.100.30"}, "not_reliable_since": nil}},
		{"peers", "GET", "/network/greylist/peers", nil, 200, arr{pid}},
		{"point banned", "GET", "/network/points/198.51.100.30:51820/banned", nil, 200, true},
		{"point", "GET", "/network/points/198.51.100.30:51820", nil, 200, obj{"trusted": false, "greylisted_until": anyTS,
			"state": obj{"event_kind": "running", "p2p_peer_id": pid}, "p2p_peer_id": pid, "last_seen": arr{pid, anyTS}}},
		{"peer banned", "GET", "/network/peers/" + pid + "/banned", nil, 200, true},
	}
	cleared := []step{
		{"ips", "GET", "/network/greylist/ips", nil, 200, obj{"ips": arr{}, "not_reliable_since": nil}},
		{"peers", "GET", "/network/greylist/peers", nil, 200, arr{}},
		{"point not banned", "GET", "/network/points/198.51.100.30:51820/banned", nil, 200, false},
		{"peer not banned", "GET", "/network/peers/" + pid + "/banned", nil, 200, false},
		{"the ban stays", "GET", "/network/points/203.0.113.9:22/banned", nil, 200, true},
	}
	greylist(t)
	e.run(t, e.admin, greylisted)
	e.run(t, e.admin, []step{
		{"ban another", "PATCH", "/network/points/203.0.113.9:22", obj{"acl": "ban"}, 200, nil},
		{"status", "GET", "/network/acl/status", nil, 200, e.aclStatus(1.0, 0.0, 1.0)},
		{"clear", "DELETE", "/network/greylist", nil, 200, obj{}},
	})
	e.run(t, e.admin, cleared)
	greylist(t)
	e.run(t, e.admin, greylisted)
	e.run(t, e.admin, []step{{"clear, deprecated", "GET", "/network/greylist/clear", nil, 200, obj{}}})
	e.run(t, e.admin, cleared)
}

func TestNetworkBulk(t *testing.T) {
	e := newEnv(t)
	entries := func(prefix string, n int) []string {
		out := make([]string, n)
		for i := range out {
			out[i] = fmt.Sprintf("%s.%d.%d", prefix, i/256, i%256)
		}
		return out
	}
	status := func(bans, trusts float64) step {
		return step{"status", "GET", "/network/acl/status", nil, 200, e.aclStatus(bans, trusts, 0.0)}
	}
	e.run(t, e.admin, []step{
		{"json", "POST", "/network/acl/bulk", obj{"acl": "ban", "entries": entries("198.18", 1000), "ttl_seconds": 3600}, 200,
			obj{"acl": "ban", "count": 1000.0, "enforced": false}},
		{"one of them", "GET", "/network/points/198.18.3.7:0/banned", nil, 200, true},
		{"listed without a port", "GET", "/network/points/198.18.3.7:0", nil, 200, obj{"trusted": false, "state": obj{"event_kind": "disconnected"}}},
		{"duplicates count once", "POST", "/network/acl/bulk", obj{"acl": "ban", "entries": []string{"192.0.2.1", "192.0.2.1", "::ffff:192.0.2.1"}}, 200,
			obj{"acl": "ban", "count": 1.0, "enforced": false}},
		status(1001, 0),
	})

	text := "# blocklist\n\n" + strings.Join(entries("198.19", 1000), "\n") + "\r\n10.0.0.0/8\n  [2001:db8::1]:22  \n# end\n"
	r := e.doType(t, "POST", "/network/acl/bulk?acl=ban", e.admin, "text/plain; charset=utf-8", text)
	if diff := cmp.Diff(obj{"acl": "ban", "count": 1002.0, "enforced": false}, scrub(t, r.body)); r.status != 200 || diff != "" {
		t.Fatalf("text bulk: %d (-want +got):\n%s", r.status, diff)
	}
	e.run(t, e.admin, []step{
		{"text entry", "GET", "/network/points/198.19.0.255:1/banned", nil, 200, true},
		{"in a banned range", "GET", "/network/points/10.1.2.3:80/banned", nil, 200, true},
		{"per-port ban is not an address ban", "GET", "/network/points/[2001:db8::1]:22/banned", nil, 200, false},
		status(2003, 0),
		{"trust", "POST", "/network/acl/bulk", obj{"acl": "trust", "entries": []string{"10.1.0.0/16"}}, 200,
			obj{"acl": "trust", "count": 1.0, "enforced": false}},
		{"trusted range wins", "GET", "/network/points/10.1.2.3:80/banned", nil, 200, false},
		status(2003, 1),
	})

	// One bad entry refuses the whole call, and the error names it.
	for _, tc := range []struct {
		name, ctype, body, mentions string
	}{
		{"json", "application/json", `{"acl":"ban","entries":["192.0.2.10","192.0.2.11","192.0.2.300","192.0.2.13"]}`, "entries[2]"},
		{"text", "text/plain", "192.0.2.10\n# comment\n192.0.2.0/8\n192.0.2.13\n", "line 3"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := e.doType(t, "POST", "/network/acl/bulk?acl=ban", e.admin, tc.ctype, tc.body)
			if got := netErrOf(t, r); r.status != 400 || !strings.Contains(got.Msg, tc.mentions) {
				t.Fatalf("status %d %+v, want 400 naming %s", r.status, got, tc.mentions)
			}
			e.run(t, e.admin, []step{
				status(2003, 1),
				{"good entry not written", "GET", "/network/points/192.0.2.10:0/banned", nil, 200, false},
			})
		})
	}
}

// TestNetworkBulkMax sends the most one call takes, 100,000 addresses,
// which needs more than the 1 MiB fiber accepts by default.
func TestNetworkBulkMax(t *testing.T) {
	if testing.Short() {
		t.Skip("writes 100,000 entries")
	}
	e := newEnv(t)
	var b strings.Builder
	for i := range 100_000 {
		fmt.Fprintf(&b, "203.%d.%d.%d\n", 16+i/65536, i/256%256, i%256)
	}
	if b.Len() <= 1<<20 {
		t.Fatalf("body of %d bytes does not test the limit", b.Len())
	}
	r := e.doType(t, "POST", "/network/acl/bulk?acl=ban&ttl_seconds=60", e.admin, "text/plain", b.String())
	if diff := cmp.Diff(obj{"acl": "ban", "count": 100000.0, "enforced": false}, scrub(t, r.body)); r.status != 200 || diff != "" {
		t.Fatalf("bulk: %d (-want +got):\n%s", r.status, diff)
	}
}

// TestNetworkViewer checks that a viewer token reads but changes nothing,
// including through the deprecated GETs that change state.
func TestNetworkViewer(t *testing.T) {
	e := newEnv(t)
	pid, _ := e.connect(t, "p", "198.51.100.40:51820")
	point := "/network/points/203.0.113.7:80"
	for _, tc := range []struct {
		name, method, path string
		body               any
		dialect            bool // refused by the /network handler, not the token middleware
	}{
		{"patch point", "PATCH", point, obj{"acl": "ban"}, false},
		{"patch peer", "PATCH", "/network/peers/" + pid, obj{"acl": "ban"}, false},
		{"close connection", "DELETE", "/network/connections/" + pid, nil, false},
		{"clear greylist", "DELETE", "/network/greylist", nil, false},
		{"bulk", "POST", "/network/acl/bulk", obj{"acl": "ban", "entries": []string{"203.0.113.7"}}, false},
		{"lift", "POST", "/network/acl/lift", obj{"entries": []string{"203.0.113.7"}}, false},
		{"point ban", "GET", point + "/ban", nil, true},
		{"point unban", "GET", point + "/unban", nil, true},
		{"point trust", "GET", point + "/trust", nil, true},
		{"point untrust", "GET", point + "/untrust", nil, true},
		{"peer ban", "GET", "/network/peers/" + pid + "/ban", nil, true},
		{"peer unban", "GET", "/network/peers/" + pid + "/unban", nil, true},
		{"peer trust", "GET", "/network/peers/" + pid + "/trust", nil, true},
		{"peer untrust", "GET", "/network/peers/" + pid + "/untrust", nil, true},
		{"greylist clear", "GET", "/network/greylist/clear", nil, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := e.do(t, tc.method, tc.path, e.viewer, tc.body)
			if r.status != 403 {
				t.Fatalf("status %d (%s), want 403", r.status, r.body)
			}
			if tc.dialect {
				if got := netErrOf(t, r); got.ID != "edgeward.forbidden" || !strings.Contains(got.Msg, "admin") {
					t.Fatalf("error %+v", got)
				}
				return
			}
			var got apiError
			if r.json(t, &got); got.Code != 403 || !strings.Contains(got.Message, "may only read") {
				t.Fatalf("error %s", r.body)
			}
		})
	}
	e.run(t, e.viewer, []step{
		{"point not banned", "GET", point + "/banned", nil, 200, false},
		{"peer not banned", "GET", "/network/peers/" + pid + "/banned", nil, 200, false},
		{"still connected", "GET", "/network/connections/" + pid, nil, 200, nil},
		{"nothing written", "GET", "/network/acl/status", nil, 200, e.aclStatus(0.0, 0.0, 0.0)},
	})
}

// TestNetworkACLEntries lists bans and trusts (ranges, ports, timed bans,
// peer ids) and lifts some, through the API a script would use.
func TestNetworkACLEntries(t *testing.T) {
	e := newEnv(t)
	pid, _ := e.connect(t, "p", "198.51.100.41:51820")
	for _, st := range []step{
		{"bulk ban", "POST", "/network/acl/bulk", obj{"acl": "ban", "entries": []string{"198.51.100.0/24", "192.0.2.1:22"}}, 200, nil},
		{"timed ban", "POST", "/network/acl/bulk", obj{"acl": "ban", "entries": []string{"203.0.113.7"}, "ttl_seconds": 600}, 200, nil},
		{"trust", "POST", "/network/acl/bulk", obj{"acl": "trust", "entries": []string{"10.0.0.0/8"}}, 200, nil},
		{"ban a peer", "PATCH", "/network/peers/" + pid, obj{"acl": "ban"}, 200, nil},
	} {
		if r := e.do(t, st.method, st.path, e.admin, st.body); r.status != st.status {
			t.Fatalf("%s: %d %s", st.name, r.status, r.body)
		}
	}
	list := func(query string) aclEntriesJSON {
		t.Helper()
		r := e.do(t, "GET", "/network/acl/entries?"+query, e.viewer, nil)
		if r.status != 200 {
			t.Fatalf("GET entries?%s: %d %s", query, r.status, r.body)
		}
		var out aclEntriesJSON
		r.json(t, &out)
		return out
	}
	bans := list("acl=ban")
	var got []string
	for _, b := range bans.Entries {
		got = append(got, b.Target+" "+b.Scope+" "+fmt.Sprint(b.Until != ""))
	}
	want := []string{"192.0.2.1:22 address:port false", "198.51.100.0/24 range false", "203.0.113.7 address true"}
	if diff := cmp.Diff(want, got); diff != "" || bans.Total != 3 {
		t.Errorf("bans (total %d; -want +got):\n%s", bans.Total, diff)
	}
	if bans.PeerTotal != 1 || len(bans.Peers) != 1 || bans.Peers[0].Target != pid || bans.Peers[0].Scope != "peer" {
		t.Errorf("peer bans: %+v", bans.Peers)
	}
	if tr := list("acl=trust&limit=5"); tr.Total != 1 || tr.Entries[0].Target != "10.0.0.0/8" {
		t.Errorf("trusts: %+v", tr)
	}
	if l := list("acl=ban&limit=1"); len(l.Entries) != 1 || l.Total != 3 {
		t.Errorf("limit 1: %d entries, total %d", len(l.Entries), l.Total)
	}

	// A repeated entry and one the ACL does not hold are not counted.
	r := e.do(t, "POST", "/network/acl/lift", e.admin, obj{"entries": []string{"198.51.100.0/24", "192.0.2.1:22", "10.0.0.0/8", "10.0.0.0/8", "192.0.2.77"}})
	if r.status != 200 {
		t.Fatalf("lift: %d %s", r.status, r.body)
	}
	var lifted aclLiftJSON
	if r.json(t, &lifted); lifted.Lifted != 3 {
		t.Errorf("lifted %d, want 3", lifted.Lifted)
	}
	if l := list("acl=ban"); l.Total != 1 || l.Entries[0].Target != "203.0.113.7" {
		t.Errorf("bans after the lift: %+v", l.Entries)
	}
	if l := list("acl=trust"); l.Total != 0 {
		t.Errorf("trusts after the lift: %+v", l.Entries)
	}
	for _, bad := range []struct {
		name, method, path string
		body               any
		status             int
	}{
		{"no acl", "GET", "/network/acl/entries", nil, 400},
		{"bad limit", "GET", "/network/acl/entries?acl=ban&limit=0", nil, 400},
		{"bad entry", "POST", "/network/acl/lift", obj{"entries": []string{"203.0.113.7", "not-an-ip"}}, 400},
		{"no entries", "POST", "/network/acl/lift", obj{"entries": []string{}}, 400},
		{"nothing held", "POST", "/network/acl/lift", obj{"entries": []string{"192.0.2.99"}}, 404},
	} {
		if r := e.do(t, bad.method, bad.path, e.admin, bad.body); r.status != bad.status {
			t.Errorf("%s: %d %s, want %d", bad.name, r.status, r.body, bad.status)
		}
	}
	// The refused lift with a bad entry changed nothing.
	if !e.acl.Banned(netip.MustParseAddr("203.0.113.7")) {
		t.Error("a refused lift lifted a ban")
	}
}
