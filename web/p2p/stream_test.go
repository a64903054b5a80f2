package p2p

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/edgeward/edgeward/core/events"
	"github.com/edgeward/edgeward/core/overlay"
	"github.com/edgeward/edgeward/web/internal/apispec/apicheck"
)

// serve runs the app on a real listener on 127.0.0.1, as streams need one,
// and returns its base URL and an idempotent shutdown (also run at
// cleanup) that fails the test when open streams keep the server from
// stopping. Once serving, send only live requests: app.Test rebuilds the
// router the server is using.
func (e *env) serve(t *testing.T) (string, func()) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	served := make(chan error, 1)
	go func() { served <- e.app.Listener(ln) }()
	var once sync.Once
	stop := func() {
		once.Do(func() {
			if err := e.app.ShutdownWithTimeout(5 * time.Second); err != nil {
				t.Errorf("shutdown: %v", err)
			}
			<-served
		})
	}
	t.Cleanup(stop)
	return "http://" + ln.Addr().String(), stop
}

// live sends a request to a served app and checks the response against
// the OpenAPI document.
func (e *env) live(t *testing.T, base, method, path, token string, body any) resp {
	t.Helper()
	var rd io.Reader
	if body != nil {
		raw, err := json.Marshal(body)
		if err != nil {
			t.Fatal(err)
		}
		rd = bytes.NewReader(raw)
	}
	req, err := http.NewRequest(method, base+path, rd)
	if err != nil {
		t.Fatal(err)
	}
	if rd != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	req.Header.Set("Authorization", "Token "+token)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer res.Body.Close()
	raw, _ := io.ReadAll(res.Body)
	apicheck.Response(t, method, path, req.Header, res.StatusCode, res.Header, raw)
	return resp{status: res.StatusCode, header: res.Header, body: raw}
}

// stream reads the JSON values of a streamed response as they come.
type stream struct {
	schema string // each value must match this component schema
	vals   chan streamed
}

type streamed struct {
	raw json.RawMessage
	err error // the error that ended the stream; io.EOF for a clean end
}

// openStream opens a stream and returns once its headers arrived, which
// is when the server has subscribed.
func openStream(t *testing.T, base, path, token, schema string) *stream {
	t.Helper()
	req, err := http.NewRequest("GET", base+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Token "+token)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("GET %s: %v", path, err)
	}
	t.Cleanup(func() { res.Body.Close() })
	if res.StatusCode != 200 || res.Header.Get("Content-Type") != "application/json" || !slicesEqual(res.TransferEncoding, []string{"chunked"}) {
		t.Fatalf("GET %s: %d %v %v, want a chunked JSON 200", path, res.StatusCode, res.Header, res.TransferEncoding)
	}
	s := &stream{schema: schema, vals: make(chan streamed, 4096)}
	go func() {
		dec := json.NewDecoder(res.Body)
		for {
			var raw json.RawMessage
			if err := dec.Decode(&raw); err != nil {
				s.vals <- streamed{err: err}
				return
			}
			s.vals <- streamed{raw: raw}
		}
	}()
	return s
}

func slicesEqual(a, b []string) bool { return strings.Join(a, "\x00") == strings.Join(b, "\x00") }

// next returns the next value, checked against the stream's schema.
func (s *stream) next(t *testing.T) any {
	t.Helper()
	select {
	case v := <-s.vals:
		if v.err != nil {
			t.Fatalf("stream ended: %v", v.err)
		}
		checkSchema(t, s.schema, v.raw)
		return scrub(t, v.raw)
	case <-time.After(10 * time.Second):
		t.Fatal("no value on the stream within 10s")
	}
	return nil
}

// end waits for the stream to end, counting the values still to come, and
// returns that count and the error that ended it.
func (s *stream) end(t *testing.T) (int, error) {
	t.Helper()
	n := 0
	for {
		select {
		case v := <-s.vals:
			if v.err != nil {
				return n, v.err
			}
			n++
		case <-time.After(10 * time.Second):
			t.Fatalf("stream still open after %d more values", n)
		}
	}
}

func checkSchema(t *testing.T, name string, raw []byte) {
	t.Helper()
	doc, _, err := apicheck.Load()
	if err != nil {
		t.Fatal(err)
	}
	var v any
	if err := json.Unmarshal(raw, &v); err != nil {
		t.Fatal(err)
	}
	if err := doc.Components.Schemas[name].Value.VisitJSON(v); err != nil {
		t.Errorf("streamed %s is not a %s: %v", raw, name, err)
	}
}

// TestNetworkLogStream: /network/log carries the original's P2p_event
// kinds only, mapped from the overlay's events; ACL changes stay out.
func TestNetworkLogStream(t *testing.T) {
	e := newEnv(t)
	base, _ := e.serve(t)
	s := openStream(t, base, "/network/log", e.viewer, "P2PEvent")
	if r := e.live(t, base, "PATCH", "/network/points/203.0.113.77:9732", e.admin, obj{"acl": "ban"}); r.status != 200 {
		t.Fatalf("ban: %d %s", r.status, r.body)
	}
	pid, _ := e.connect(t, "p", "198.51.100.30:51820")
	for _, want := range []obj{
		{"event": "new_peer", "peer_id": pid},
		{"event": "new_point", "point": "198.51.100.30:51820"},
		{"event": "connection_established", "id_point": obj{"addr": "::ffff:198.51.100.30", "port": 51820.0}, "peer_id": pid},
	} {
		if diff := cmp.Diff(want, s.next(t)); diff != "" {
			t.Fatalf("event (-want +got):\n%s", diff)
		}
	}
	if r := e.live(t, base, "DELETE", "/network/connections/"+pid, e.admin, nil); r.status != 200 {
		t.Fatalf("disconnect: %d %s", r.status, r.body)
	}
	if diff := cmp.Diff(obj{"event": "disconnection", "peer_id": pid}, s.next(t)); diff != "" {
		t.Fatalf("event (-want +got):\n%s", diff)
	}
}

// TestEdgewardLogStream: edgeward's own events, ACL changes included, are
// on /network/edgeward/log.
func TestEdgewardLogStream(t *testing.T) {
	e := newEnv(t)
	base, _ := e.serve(t)
	admin := e.tokenID(t, "admin")
	s := openStream(t, base, "/network/edgeward/log", e.viewer, "NetworkEvent")
	if r := e.live(t, base, "PATCH", "/network/points/203.0.113.77:9732", e.admin, obj{"acl": "ban"}); r.status != 200 {
		t.Fatalf("ban: %d %s", r.status, r.body)
	}
	want := obj{"event": "point_banned", "time": anyTS, "subject": "203.0.113.77", "message": "point 203.0.113.77:9732 banned",
		"point": "203.0.113.77:9732", "by": admin}
	if diff := cmp.Diff(want, s.next(t)); diff != "" {
		t.Fatalf("event (-want +got):\n%s", diff)
	}
	// An event's fields never override the dialect's own keys.
	e.journal.Publish(events.Event{Kind: "custom", Message: "m", Fields: map[string]string{"event": "spoof", "subject": "spoof", "k": "v"}})
	if diff := cmp.Diff(obj{"event": "custom", "time": anyTS, "message": "m", "k": "v"}, s.next(t)); diff != "" {
		t.Fatalf("event (-want +got):\n%s", diff)
	}
}

func TestNetworkLogMonitor(t *testing.T) {
	e := newEnv(t)
	key := newKey(t)
	if _, err := e.ov.CreatePeer(context.Background(), overlay.NewPeer{Name: "p", PublicKey: key}); err != nil {
		t.Fatal(err)
	}
	pid := overlay.PeerID(key)
	base, _ := e.serve(t)
	point := "/network/points/203.0.113.78:9732"
	ep := netip.MustParseAddrPort("203.0.113.78:9732")
	ctx := context.Background()
	if err := e.ov.SetConnected(ctx, key, true, ep); err != nil {
		t.Fatal(err)
	}
	established := arr{anyTS, obj{"event_kind": "connection_established", "p2p_peer_id": pid}}
	ps := openStream(t, base, point+"/log?monitor", e.viewer, "PointEventList")
	if diff := cmp.Diff(arr{established}, ps.next(t)); diff != "" {
		t.Fatalf("past point events (-want +got):\n%s", diff)
	}
	at := obj{"addr": "::ffff:203.0.113.78", "port": 9732.0}
	peerStream := openStream(t, base, "/network/peers/"+pid+"/log?monitor", e.viewer, "PeerEventList")
	if diff := cmp.Diff(arr{obj{"kind": "connection_established", "timestamp": anyTS, "addr": at["addr"], "port": at["port"]}}, peerStream.next(t)); diff != "" {
		t.Fatalf("past peer events (-want +got):\n%s", diff)
	}

	// Events about others, and ACL events, are not streamed.
	e.connect(t, "other", "203.0.113.79:1")
	e.live(t, base, "PATCH", point, e.admin, obj{"acl": "trust"})
	if err := e.ov.SetConnected(ctx, key, false, netip.AddrPort{}); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(arr{arr{anyTS, obj{"event_kind": "disconnection", "p2p_peer_id": pid}}}, ps.next(t)); diff != "" {
		t.Fatalf("new point event (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(arr{obj{"kind": "disconnection", "timestamp": anyTS, "addr": at["addr"], "port": at["port"]}}, peerStream.next(t)); diff != "" {
		t.Fatalf("new peer event (-want +got):\n%s", diff)
	}
	// Without ?monitor: one answer.
	r := e.live(t, base, "GET", point+"/log", e.viewer, nil)
	if diff := cmp.Diff(arr{established, arr{anyTS, obj{"event_kind": "disconnection", "p2p_peer_id": pid}}}, scrub(t, r.body)); diff != "" {
		t.Fatalf("log (-want +got):\n%s", diff)
	}
}

// TestNetworkStreamsEndOnShutdown checks that open streams let the server
// stop, and end cleanly.
func TestNetworkStreamsEndOnShutdown(t *testing.T) {
	e := newEnv(t)
	base, stop := e.serve(t)
	all := openStream(t, base, "/network/log", e.admin, "P2PEvent")
	point := openStream(t, base, "/network/points/203.0.113.80:1/log?monitor", e.admin, "PointEventList")
	if diff := cmp.Diff(arr{}, point.next(t)); diff != "" {
		t.Fatalf("past events (-want +got):\n%s", diff)
	}
	start := time.Now()
	stop()
	if d := time.Since(start); d > 3*time.Second {
		t.Errorf("shutdown took %s", d)
	}
	for name, s := range map[string]*stream{"log": all, "point log": point} {
		if n, err := s.end(t); n != 0 || !errors.Is(err, io.EOF) {
			t.Errorf("%s: %d more values, then %v; want a clean end", name, n, err)
		}
	}
}

// TestNetworkLogCutsOffSlowReaders checks that a reader that stops reading
// is cut off by the journal instead of holding events, and that its stream
// then ends cleanly after what was buffered.
func TestNetworkLogCutsOffSlowReaders(t *testing.T) {
	e := newEnv(t)
	base, _ := e.serve(t)
	conn, err := net.Dial("tcp", strings.TrimPrefix(base, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	fmt.Fprintf(conn, "GET /network/edgeward/log HTTP/1.1\r\nHost: edgeward\r\nAuthorization: Token %s\r\n\r\n", e.admin)
	br := bufio.NewReader(conn)
	res, err := http.ReadResponse(br, nil)
	if err != nil || res.StatusCode != 200 {
		t.Fatalf("open stream: %v %v", res, err)
	}
	// Far more than the socket buffers and the subscription buffer hold
	// while the client reads nothing.
	const published = 2000
	big := strings.Repeat("x", 16<<10)
	for i := range published {
		e.journal.Publish(events.Event{Kind: "flood", Message: big, Fields: map[string]string{"i": fmt.Sprint(i)}})
	}
	dec := json.NewDecoder(res.Body)
	n := 0
	for {
		var v map[string]string
		if err := dec.Decode(&v); err != nil {
			if !errors.Is(err, io.EOF) {
				t.Fatalf("stream ended with %v after %d events, want a clean end", err, n)
			}
			break
		}
		if v["i"] != fmt.Sprint(n) {
			t.Fatalf("event %d is %s: events lost or reordered before the cut", n, v["i"])
		}
		n++
	}
	t.Logf("%d events before the cut", n)
	if n < logBuffer || n >= published {
		t.Fatalf("%d events before the cut, want at least the %d buffered and fewer than the %d published", n, logBuffer, published)
	}
}

// TestNetworkStreamHead checks that a HEAD of a stream answers with the
// stream's headers and ends.
func TestNetworkStreamHead(t *testing.T) {
	e := newEnv(t)
	for _, path := range []string{"/network/log", "/network/edgeward/log", "/network/points/203.0.113.1:1/log?monitor"} {
		req := httptest.NewRequest("HEAD", path, nil)
		req.Header.Set("Authorization", "Token "+e.admin)
		res, err := e.app.Test(req, 2000)
		if err != nil {
			t.Fatalf("HEAD %s: %v", path, err)
		}
		res.Body.Close()
		if res.StatusCode != 200 || res.Header.Get("Content-Type") != "application/json" {
			t.Fatalf("HEAD %s: %d %v", path, res.StatusCode, res.Header)
		}
	}
}
