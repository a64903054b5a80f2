package p2p

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/edgeward/edgeward/core/events"
	"github.com/edgeward/edgeward/core/overlay"
)

// TestPatchOpenAfterTrust: the original keeps a trusted point registered
// after {"acl":"open"} and answers its info; so does every ACL route that
// changed state: none answers an error after its change.
func TestPatchOpenAfterTrust(t *testing.T) {
	e := newEnv(t)
	p := "/network/points/192.0.2.60:9732"
	open := obj{"trusted": false, "state": obj{"event_kind": "disconnected"}}
	stranger := unknownPeerID(t)
	stranded := obj{"score": 0.0, "trusted": false, "peer_metadata": peerMetadata, "state": "disconnected", "stat": zeroStatJSON}
	e.run(t, e.admin, []step{
		{"trust", "PATCH", p, obj{"acl": "trust"}, 200, obj{"trusted": true, "state": obj{"event_kind": "disconnected"}}},
		{"open: the point's info", "PATCH", p, obj{"acl": "open"}, 200, open},
		{"still registered", "GET", p, nil, 200, open},
		{"listed", "GET", "/network/points", nil, 200, arr{arr{"192.0.2.60:9732", open}}},
		{"open a point never named: registered too", "PATCH", "/network/points/192.0.2.61:1", obj{"acl": "open"}, 200, open},
		{"peer_id alone registers", "PATCH", "/network/points/192.0.2.62:1", obj{"peer_id": stranger}, 200,
			obj{"trusted": false, "state": obj{"event_kind": "disconnected"}, "expected_peer_id": stranger}},
		{"peer: open an id nobody knows", "PATCH", "/network/peers/" + stranger, obj{"acl": "open"}, 200, stranded},
		{"peer: trust", "PATCH", "/network/peers/" + stranger, obj{"acl": "trust"}, 200,
			obj{"score": 0.0, "trusted": true, "peer_metadata": peerMetadata, "state": "disconnected", "stat": zeroStatJSON}},
	})
	// A refused PATCH changes nothing: a bad acl is refused before the
	// peer_id is registered.
	e.run(t, e.admin, []step{
		{"bad acl with a peer_id", "PATCH", "/network/points/192.0.2.63:1", obj{"acl": "maybe", "peer_id": stranger}, 400, nil},
		{"nothing registered", "GET", "/network/points/192.0.2.63:1", nil, 404, nil},
	})
}

// TestFullStat: the original's full_stat in one answer.
func TestFullStat(t *testing.T) {
	e := newEnv(t)
	pid, _ := e.connect(t, "c", "198.51.100.40:51820")
	at := obj{"addr": "::ffff:198.51.100.40", "port": 51820.0}
	meta := obj{"disable_mempool": false, "private_node": false}
	version := obj{"chain_name": "edgeward", "distributed_db_version": 0.0, "p2p_version": 1.0}
	e.run(t, e.viewer, []step{{"full_stat", "GET", "/network/full_stat", nil, 200, obj{
		"stat": obj{"total_sent": "12345", "total_recv": "1099511627776", "current_inflow": 0.0, "current_outflow": 0.0},
		"incoming_connections": arr{obj{"incoming": true, "peer_id": pid, "id_point": at, "remote_socket_port": 51820.0,
			"announced_version": version, "private": false, "local_metadata": meta, "remote_metadata": meta}},
		"outgoing_connections": arr{},
		"peers": arr{arr{pid, obj{"score": 0.0, "trusted": false, "conn_metadata": meta, "peer_metadata": peerMetadata,
			"state": "running", "reachable_at": at, "stat": zeroStatJSON, "last_seen": arr{at, anyTS}}}},
		"points": arr{arr{"198.51.100.40:51820", obj{"trusted": false, "state": obj{"event_kind": "running", "p2p_peer_id": pid},
			"p2p_peer_id": pid, "last_seen": arr{pid, anyTS}}}},
	}}})
}

// TestConnectPoint: PUT /network/points/{point}?timeout= answers {} once a
// peer is connected from the point, refuses a banned one and withdraws a
// request no peer answered.
func TestConnectPoint(t *testing.T) {
	e := newEnv(t)
	e.connect(t, "c", "198.51.100.41:51820")
	e.run(t, e.admin, []step{
		{"already connected", "PUT", "/network/points/198.51.100.41:51820", nil, 200, obj{}},
		{"ban", "PATCH", "/network/points/203.0.113.41:1", obj{"acl": "ban"}, 200, nil},
		{"banned", "PUT", "/network/points/203.0.113.41:9732", nil, 403, nil},
		{"bad timeout", "PUT", "/network/points/192.0.2.41:1?timeout=soon", nil, 400, nil},
		{"zero timeout", "PUT", "/network/points/192.0.2.41:1?timeout=0", nil, 400, nil},
		{"nobody comes", "PUT", "/network/points/192.0.2.41:1?timeout=0.05", nil, 504, nil},
		{"withdrawn", "GET", "/network/points/192.0.2.41:1", nil, 404, nil},
	})
	if r := e.do(t, "PUT", "/network/points/192.0.2.41:1", e.viewer, nil); r.status != 403 {
		t.Errorf("PUT with a viewer token: %d, want 403", r.status)
	}
	if err := netErrOf(t, e.do(t, "PUT", "/network/points/203.0.113.41:9732", e.admin, nil)); err.ID != "edgeward.point_banned" {
		t.Errorf("banned: error id %s, want edgeward.point_banned", err.ID)
	}

	// A peer comes while the request waits: requested meanwhile, then {}.
	key := newKey(t)
	ctx := context.Background()
	if _, err := e.ov.CreatePeer(ctx, overlay.NewPeer{Name: "late", PublicKey: key}); err != nil {
		t.Fatal(err)
	}
	point := netip.MustParseAddrPort("192.0.2.42:9732")
	done := make(chan resp, 1)
	go func() { done <- e.do(t, "PUT", "/network/points/192.0.2.42:9732?timeout=30", e.admin, nil) }()
	for {
		if p, known := e.view.Point(point); known && p.State == "requested" {
			break
		}
		time.Sleep(time.Millisecond)
	}
	if err := e.ov.SetConnected(ctx, key, true, point); err != nil {
		t.Fatal(err)
	}
	if r := <-done; r.status != 200 || string(r.body) != "{}" {
		t.Fatalf("connect: %d %s, want 200 {}", r.status, r.body)
	}
}

// TestUnknownPathsAndMethods: the dialect's own error list, not the peers
// dialect's, for a path no route has (404) and a wrong method (405, with
// Allow).
func TestUnknownPathsAndMethods(t *testing.T) {
	e := newEnv(t)
	for _, tc := range []struct {
		method, path string
		status       int
		id, allow    string
	}{
		{"GET", "/network/nope", 404, "edgeward.no_such_path", ""},
		{"GET", "/network/points/192.0.2.1:1/nope", 404, "edgeward.no_such_path", ""},
		{"POST", "/network/points/192.0.2.1:1", 405, "edgeward.method_not_allowed", "GET, HEAD, PUT, PATCH"},
		{"DELETE", "/network/self", 405, "edgeward.method_not_allowed", "GET, HEAD"},
	} {
		r := e.raw(t, tc.method, tc.path, e.admin)
		var errs []netError
		if err := json.Unmarshal(r.body, &errs); err != nil || r.status != tc.status || len(errs) != 1 || errs[0].ID != tc.id ||
			errs[0].Kind != "permanent" || errs[0].Msg == "" || r.header.Get("Allow") != tc.allow {
			t.Errorf("%s %s: %d %v %s, want %d, one %s error, Allow %q", tc.method, tc.path, r.status, r.header, r.body, tc.status, tc.id, tc.allow)
		}
	}
}

// TestStreamedValuesAreWholeChunks reads the raw chunked encoding: each
// streamed JSON value, an 11 KB one too, is exactly one HTTP chunk.
func TestStreamedValuesAreWholeChunks(t *testing.T) {
	e := newEnv(t)
	base, _ := e.serve(t)
	big := strings.Repeat("x", 11<<10)
	// 100 past point events make a first chunk well over 4 KiB.
	key := newKey(t)
	ctx := context.Background()
	if _, err := e.ov.CreatePeer(ctx, overlay.NewPeer{Name: "flapping", PublicKey: key}); err != nil {
		t.Fatal(err)
	}
	point := netip.MustParseAddrPort("198.51.100.50:51820")
	for i := range 60 {
		if err := e.ov.SetConnected(ctx, key, i%2 == 0, point); err != nil {
			t.Fatal(err)
		}
	}
	for _, tc := range []struct {
		path    string
		publish func()
		min     int // the first value's size at least
	}{
		{"/network/edgeward/log", func() { e.journal.Publish(events.Event{Kind: "big", Message: big}) }, len(big)},
		{"/network/points/198.51.100.50:51820/log?monitor", nil, 4 << 10},
	} {
		c := dialStream(t, base, tc.path, e.admin)
		if tc.publish != nil {
			tc.publish()
		}
		b := c.chunk(t)
		var v any
		if err := json.Unmarshal(b, &v); err != nil || len(b) < tc.min {
			t.Errorf("%s: first chunk of %d bytes is not one whole JSON value of at least %d bytes: %v", tc.path, len(b), tc.min, err)
		}
		c.conn.Close()
	}
}

// TestQuietStreamsEndWhenTheClientLeaves: a heartbeat on a quiet stream
// notices a client that went away, and its subscription ends.
func TestQuietStreamsEndWhenTheClientLeaves(t *testing.T) {
	old := heartbeat
	heartbeat = 5 * time.Millisecond
	t.Cleanup(func() { heartbeat = old })
	e := newEnv(t)
	base, _ := e.serve(t)
	for _, path := range []string{"/network/log", "/network/edgeward/log", "/network/points/192.0.2.70:1/log?monitor", "/network/peers/" + unknownPeerID(t) + "/log?monitor"} {
		c := dialStream(t, base, path, e.viewer)
		if strings.Contains(path, "monitor") {
			c.chunk(t) // the past events
		}
		if b := c.chunk(t); string(b) != "\n" {
			t.Fatalf("%s: quiet stream sent %q, want a newline heartbeat", path, b)
		}
		if n := e.journal.Subscribers(); n != 1 {
			t.Fatalf("%s: %d subscribers while the stream is open, want 1", path, n)
		}
		c.conn.Close()
		// No timed assertion: wait for the condition (go test's own
		// timeout ends a test that never gets there).
		for e.journal.Subscribers() != 0 {
			time.Sleep(time.Millisecond)
		}
	}
}

// rawStream is a stream read off the socket, chunk by chunk.
type rawStream struct {
	conn net.Conn
	br   *bufio.Reader
}

// dialStream sends GET path and reads the response head.
func dialStream(t *testing.T, base, path, token string) *rawStream {
	t.Helper()
	conn, err := net.Dial("tcp", strings.TrimPrefix(base, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	fmt.Fprintf(conn, "GET %s HTTP/1.1\r\nHost: edgeward\r\nAuthorization: Token %s\r\n\r\n", path, token)
	br := bufio.NewReader(conn)
	res, err := http.ReadResponse(br, nil)
	if err != nil || res.StatusCode != 200 || res.Header.Get("Transfer-Encoding") != "" && res.Header.Get("Transfer-Encoding") != "chunked" {
		t.Fatalf("GET %s: %v %v", path, res, err)
	}
	if len(res.TransferEncoding) != 1 || res.TransferEncoding[0] != "chunked" {
		t.Fatalf("GET %s: transfer encoding %v, want chunked", path, res.TransferEncoding)
	}
	// http.ReadResponse wraps the body in a chunked reader; read the raw
	// chunks from br instead.
	return &rawStream{conn: conn, br: br}
}

// chunk reads one chunk: its size line, its data, its CRLF.
func (s *rawStream) chunk(t *testing.T) []byte {
	t.Helper()
	_ = s.conn.SetReadDeadline(time.Now().Add(10 * time.Second))
	line, err := s.br.ReadString('\n')
	if err != nil {
		t.Fatalf("chunk size: %v", err)
	}
	n, err := strconv.ParseInt(strings.TrimSpace(line), 16, 64)
	if err != nil {
		t.Fatalf("chunk size line %q: %v", line, err)
	}
	b := make([]byte, n+2)
	if _, err := io.ReadFull(s.br, b); err != nil || string(b[n:]) != "\r\n" {
		t.Fatalf("chunk of %d bytes: %v (ends %q)", n, err, b[n:])
	}
	return b[:n]
}

// raw sends a request without checking it against the OpenAPI document:
// for paths and methods the document has not.
func (e *env) raw(t *testing.T, method, path, token string) resp {
	t.Helper()
	req, _ := http.NewRequest(method, path, nil)
	req.Header.Set("Authorization", "Token "+token)
	res, err := e.app.Test(req, 10_000)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return resp{status: res.StatusCode, header: res.Header, body: b}
}
