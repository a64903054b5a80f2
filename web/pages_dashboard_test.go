package web

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"regexp"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/edgeward/edgeward/core/dataplane"
	"github.com/edgeward/edgeward/core/events"
	"github.com/edgeward/edgeward/core/host"
	"github.com/edgeward/edgeward/core/links"
	"github.com/edgeward/edgeward/core/overlay"
	"github.com/edgeward/edgeward/core/tunnel/tunneltest"
	"github.com/edgeward/edgeward/hw/sysinfo"
	"github.com/edgeward/edgeward/web/ui"
)

// TestUIDashboardLive checks what the dashboard adds to the basics
// (TestUIDashboard): connected peers, the interfaces with their rates, the
// traffic graph of the last hour and the latest events.
func TestUIDashboardLive(t *testing.T) {
	e := newUIEnv(t)
	b := e.browser(t)
	e.setUp(t, b)
	ctx := t.Context()
	for _, name := range []string{"laptop", "phone"} {
		if _, err := e.ov.CreatePeer(ctx, overlay.NewPeer{Name: name}); err != nil {
			t.Fatal(err)
		}
	}
	laptop := e.ov.Peers(overlay.Filter{Name: "laptop"})[0]
	if err := e.ov.SetConnected(ctx, laptop.PublicKey, true, netip.MustParseAddrPort("198.51.100.9:51820")); err != nil {
		t.Fatal(err)
	}
	// Half an hour at 1.25 MB/s in and 125 kB/s out, then 2.5 MB/s in.
	e.traffic(t, 180, func(int) int { return 1_250_000 }, func(int) int { return 125_000 })
	e.traffic(t, 1, func(int) int { return 2_500_000 }, func(int) int { return 0 })
	e.journal.Publish(events.Event{Kind: "test_event", Subject: "subject-1", Message: "something <happened>"})

	p := b.get("/")
	if got := p.text("count-peers") + "/" + p.text("count-connected"); got != "2/1" {
		t.Errorf("peers/connected = %s, want 2/1", got)
	}
	rows := p.doc.Find(`[data-testid="link-row"]`)
	if rows.Length() != 2 {
		t.Fatalf("%d interface rows, want 2 (eth0, eth1; loopback left out)\n%s", rows.Length(), p.body)
	}
	eth0, eth1 := rows.Eq(0), rows.Eq(1)
	for _, tt := range []struct{ got, want string }{
		{eth0.Find(`[data-testid="link-name"]`).Text(), "eth0"},
		{eth0.Find(`[data-testid="link-state"]`).Text(), "Up"},
		{eth0.Find(`[data-testid="link-speed"]`).Text(), "1 Gbit/s"},
		{eth0.Find(`[data-testid="link-rx"]`).Text(), "20.0 Mbit/s"},
		{eth0.Find(`[data-testid="link-tx"]`).Text(), "0 bit/s"},
		{eth1.Find(`[data-testid="link-state"]`).Text(), "Down"},
		{eth1.Find(`[data-testid="link-speed"]`).Text(), "unknown"},
		{p.text("graph-peak"), "20.0 Mbit/s"},
		{p.text("graph-rx-now"), "20.0 Mbit/s"},
		{p.text("graph-tx-now"), "0 bit/s"},
		{strings.Join(p.texts("graph-ytick"), ", "),
			"20 Mbit/s, 15 Mbit/s, 10 Mbit/s, 5 Mbit/s, 0"},
		{strings.Join(p.texts("graph-xtick"), ", "),
			"-60 min, -45 min, -30 min, -15 min, now"},
	} {
		if tt.got != tt.want {
			t.Errorf("got %q, want %q", tt.got, tt.want)
		}
	}
	// 181 samples of 10 s: 181 points of each line, the newest at the
	// right edge, at the top (the peak is a round 20 Mbit/s).
	pts, _ := p.doc.Find(`[data-testid="graph-rx"]`).Attr("points")
	if n := len(strings.Fields(pts)); n != 181 || !strings.HasSuffix(pts, " 359,0") {
		t.Errorf("rx line: %d points, ends %q", n, pts[max(0, len(pts)-20):])
	}
	ev := p.doc.Find(`[data-testid="event"]`).First()
	if got := ev.Find(`[data-testid="event-message"]`).Text(); got != "something <happened>" {
		t.Errorf("latest event %q\n%s", got, p.body)
	}
	if got, _ := p.doc.Find(`[data-testid="event-list"]`).Attr("sse-connect"); got != ui.EventStreamPath {
		t.Errorf("event list streams from %q", got)
	}
	if !strings.Contains(p.body, `src="/static/htmx-sse.min.js"`) {
		t.Error("the dashboard does not load the sse extension")
	}
}

// TestUIEventStream reads the page's event stream over a real connection:
// each new event arrives as a message with the rendered row, a reconnect
// with Last-Event-ID gets what it missed, and a browser without a session
// gets a 401 rather than a login page.
func TestUIEventStream(t *testing.T) {
	e := newUIEnv(t)
	b := e.browser(t)
	e.setUp(t, b)
	url := e.serve(t) + ui.EventStreamPath
	open := func(lastID string, withSession bool) *http.Response {
		t.Helper()
		req, err := http.NewRequestWithContext(t.Context(), http.MethodGet, url, nil)
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Accept", "text/event-stream")
		if lastID != "" {
			req.Header.Set("Last-Event-ID", lastID)
		}
		if withSession {
			req.AddCookie(b.cookie(ui.SessionCookiePlain))
		}
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { res.Body.Close() })
		return res
	}

	if res := open("", false); res.StatusCode != http.StatusUnauthorized {
		t.Errorf("without a session: %d, want 401", res.StatusCode)
	}

	res := open("", true)
	if res.StatusCode != http.StatusOK || res.Header.Get("Content-Type") != "text/event-stream" {
		t.Fatalf("stream: %d %q", res.StatusCode, res.Header.Get("Content-Type"))
	}
	first := e.journal.Publish(events.Event{Kind: "one", Message: "first\nof two"})
	e.journal.Publish(events.Event{Kind: "two", Message: "second"})
	r := bufio.NewReader(res.Body)
	msg1, msg2 := readSSE(t, r), readSSE(t, r)
	if msg1.event != "journal" || msg1.id != strconv.FormatUint(first.Seq, 10) || !strings.Contains(msg1.data, `data-seq="`+strconv.FormatUint(first.Seq, 10)+`"`) ||
		!strings.Contains(msg1.data, "first\nof two") {
		t.Errorf("first message %+v", msg1)
	}
	if !strings.Contains(msg2.data, ">second<") {
		t.Errorf("second message %+v", msg2)
	}

	// Reconnecting after the first: the second comes again, then new ones.
	again := bufio.NewReader(open(msg1.id, true).Body)
	if m := readSSE(t, again); m.id != msg2.id {
		t.Errorf("after Last-Event-ID %s got id %s, want %s", msg1.id, m.id, msg2.id)
	}
	e.journal.Publish(events.Event{Kind: "three", Message: "third"})
	if m := readSSE(t, again); !strings.Contains(m.data, ">third<") {
		t.Errorf("after the replay: %+v", m)
	}
}

type sseMsg struct{ id, event, data string }

// readSSE reads one message, skipping comments.
func readSSE(t *testing.T, r *bufio.Reader) sseMsg {
	t.Helper()
	var m sseMsg
	var data []string
	for {
		line, err := r.ReadString('\n')
		if err != nil {
			t.Fatalf("read stream: %v", err)
		}
		line = strings.TrimSuffix(line, "\n")
		switch {
		case line == "" && (m.event != "" || len(data) > 0):
			m.data = strings.Join(data, "\n")
			return m
		case strings.HasPrefix(line, "id: "):
			m.id = line[4:]
		case strings.HasPrefix(line, "event: "):
			m.event = line[7:]
		case strings.HasPrefix(line, "data: "):
			data = append(data, line[6:])
		}
	}
}

// BenchmarkUIDashboard renders the dashboard for a logged-in browser with
// an hour of traffic, 20 events and 200 peers: the page the admin leaves
// open, whose stats section polls every 5 s.
func BenchmarkUIDashboard(b *testing.B) {
	e := newUIEnv(b)
	br := e.browser(b)
	e.setUp(b, br)
	for i := range 200 {
		if _, err := e.ov.CreatePeer(b.Context(), overlay.NewPeer{Name: "peer-" + strconv.Itoa(i)}); err != nil {
			b.Fatal(err)
		}
	}
	e.traffic(b, 360, func(i int) int { return i * 1000 }, func(i int) int { return i * 100 })
	for range 20 {
		e.journal.Publish(events.Event{Kind: "bench", Message: "an event"})
	}
	for _, bc := range []struct {
		name   string
		header []string
	}{{"page", nil}, {"stats-poll", []string{"HX-Request", "true", "HX-Target", "stats", ui.BackgroundHeader, "1"}}} {
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			var size int
			cookie := br.cookie(ui.SessionCookiePlain)
			for b.Loop() {
				req := httptest.NewRequest(http.MethodGet, "/", nil)
				req.AddCookie(cookie)
				for i := 0; i+1 < len(bc.header); i += 2 {
					req.Header.Set(bc.header[i], bc.header[i+1])
				}
				res, err := e.app.Test(req, -1)
				if err != nil || res.StatusCode != http.StatusOK {
					b.Fatalf("GET /: %v %v", res, err)
				}
				n, _ := io.Copy(io.Discard, res.Body)
				res.Body.Close()
				size = int(n)
			}
			b.ReportMetric(float64(size), "html_bytes")
		})
	}
}

// TestUIDashboardWireGuard: the WireGuard card says whether the data plane
// runs and, prominently, why not; what it holds; and that a process
// without one has none. The connected count is the data plane's.
func TestUIDashboardWireGuard(t *testing.T) {
	type card struct {
		None                                        bool
		State, Why, Iface, Peers, Connected, Rx, Tx string
		Alert                                       bool
	}
	read := func(p page) card {
		return card{None: p.has("wg-none"), State: p.text("wg-state"), Why: p.text("wg-why"), Iface: p.text("wg-interface"),
			Peers: p.text("wg-peers"), Connected: p.text("wg-connected"), Rx: p.text("wg-rx"), Tx: p.text("wg-tx"),
			Alert: p.doc.Find(`[data-testid="wg-card"] [role="alert"]`).Length() > 0}
	}
	const why = "no WireGuard device: CAP_NET_ADMIN is missing"
	tests := []struct {
		name          string
		plane         func(t *testing.T, e *uiEnv)
		want          card
		wantConnected string // the dashboard's connected count
	}{
		{"no plane", func(*testing.T, *uiEnv) {}, card{None: true}, "0"},
		{"unavailable", func(t *testing.T, e *uiEnv) {
			plane := dataplane.New(e.ov, nil, nil, dataplane.Config{Interface: "wg0", Unavailable: why})
			e.rebuild(func(d *Deps) { d.Plane = plane })
		}, card{State: "Not running. " + why, Why: why, Iface: "wg0", Peers: "0", Connected: "0", Rx: "0 B", Tx: "0 B", Alert: true}, "0"},
		{"running", func(t *testing.T, e *uiEnv) {
			plane, dev := e.runningPlane(t)
			laptop := e.ov.Peers(overlay.Filter{Name: "laptop"})[0]
			see(t, dev, laptop.PublicKey, netip.MustParseAddrPort("198.51.100.7:41000"), time.Now().Add(-time.Minute), 3<<20, 1536)
			poll(t, plane)
		}, card{Iface: "wg0", Peers: "2", Connected: "1", Rx: "3.0 MiB", Tx: "1.5 KiB"}, "1"},
		{"running without the filter", func(t *testing.T, e *uiEnv) {
			plane := dataplane.New(e.ov, tunneltest.NewDevice(), nil, dataplane.Config{Interface: "wg7"})
			poll(t, plane)
			e.rebuild(func(d *Deps) { d.Plane = plane })
		}, card{Why: "policies are not enforced: the kernel filter is unavailable", Iface: "wg7", Peers: "2", Connected: "0",
			Rx: "0 B", Tx: "0 B", Alert: true}, "0"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newUIEnv(t)
			e.addPeer(t, "laptop")
			e.addPeer(t, "phone")
			tt.plane(t, e)
			b := e.browser(t)
			e.setUp(t, b)
			for _, p := range []page{b.get("/"), b.get("/", "HX-Request", "true", "HX-Target", "stats", ui.BackgroundHeader, "1")} {
				got := read(p)
				// The running state carries the time of the last read.
				if strings.HasPrefix(got.State, "Running") {
					got.State = ""
				} else if tt.want.State == "" && !tt.want.None {
					t.Errorf("state %q, want running", got.State)
				}
				if diff := cmp.Diff(tt.want, got); diff != "" {
					t.Errorf("WireGuard card (-want +got):\n%s", diff)
				}
				if got := p.text("count-peers") + "/" + p.text("count-connected"); got != "2/"+tt.wantConnected {
					t.Errorf("peers/connected %s, want 2/%s", got, tt.wantConnected)
				}
			}
		})
	}
}

// TestUIDashboardSystem: the system card shows this machine's real load,
// memory and uptime read from /proc, the store's size, and the address
// of the link with the default route; exact formatting over fixed
// facts; a box that cannot be read says so and keeps the rest.
func TestUIDashboardSystem(t *testing.T) {
	fixed := host.Facts{Load1: 0.5, Load5: 0.25, Load15: 1, CPUs: 1, MemTotal: 512 << 20, MemAvailable: 128 << 20,
		RSS: 60 << 20, Uptime: 26*time.Hour + 3*time.Minute}
	cores := fmt.Sprintf("(%d cores)", runtime.NumCPU())
	if runtime.NumCPU() == 1 {
		cores = "(1 core)"
	}
	tests := []struct {
		name string
		read host.Read
		want map[string]string // testid: exact text, or a pattern in /slashes/
	}{
		{"this machine", sysinfo.Reader("/proc"), map[string]string{
			"sys-load": `/^\d+\.\d\d, \d+\.\d\d, \d+\.\d\d$/`, "sys-cpus": cores,
			"sys-mem-percent": `/^\d{1,3} %$/`, "sys-mem": `/^\(\d+\.\d [KMG]iB of \d+\.\d [KMG]iB\)$/`,
			"sys-rss": `/^\d+\.\d MiB$/`, "sys-uptime": `/^\d+ (s|min|h|h \d+ min|days?|days? \d+ h)$/`,
			"sys-store": "3.0 MiB", "sys-wan": "192.168.1.1 on eth0", "sys-error": ""}},
		{"fixed", func() (host.Facts, error) { return fixed, nil }, map[string]string{
			"sys-load": "0.50, 0.25, 1.00", "sys-cpus": "(1 core)", "sys-mem-percent": "75 %", "sys-mem": "(384.0 MiB of 512.0 MiB)",
			"sys-rss": "60.0 MiB", "sys-uptime": "1 day 2 h", "sys-store": "3.0 MiB", "sys-wan": "192.168.1.1 on eth0"}},
		{"unreadable", func() (host.Facts, error) { return host.Facts{}, errors.New("read loadavg: permission denied") }, map[string]string{
			"sys-error": "Cannot read the box's load and memory: read loadavg: permission denied", "sys-load": "",
			"sys-store": "3.0 MiB", "sys-wan": "192.168.1.1 on eth0"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newUIEnv(t)
			e.rebuild(func(d *Deps) {
				d.System = tt.read
				d.StoreSize = func() int64 { return 3 << 20 }
			})
			b := e.browser(t)
			e.setUp(t, b)
			for _, p := range []page{b.get("/"), b.get("/", "HX-Request", "true", "HX-Target", "stats", ui.BackgroundHeader, "1")} {
				for id, want := range tt.want {
					got := p.text(id)
					if pat, ok := strings.CutPrefix(want, "/"); ok {
						if !regexp.MustCompile(strings.TrimSuffix(pat, "/")).MatchString(got) {
							t.Errorf("%s = %q, want it to match %s", id, got, want)
						}
					} else if got != want {
						t.Errorf("%s = %q, want %q", id, got, want)
					}
				}
				if !p.has("system-card") {
					t.Error("no system card")
				}
			}
		})
	}
	// The gateway, and a box with no default route.
	e := newUIEnv(t)
	b := e.browser(t)
	e.setUp(t, b)
	if got := b.get("/").doc.Find(`[data-testid="system-card"]`).Text(); !strings.Contains(got, "via 192.168.1.254") {
		t.Errorf("system card without the gateway: %q", got)
	}
	e.kernel.Change("eth0", func(l *links.Link) { l.GatewayV4 = netip.Addr{} })
	if got := b.get("/").text("sys-wan"); got != "No default route" {
		t.Errorf("WAN without a default route %q", got)
	}
}
