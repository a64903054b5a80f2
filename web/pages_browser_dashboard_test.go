package web

import (
	"fmt"
	"math"
	"net/netip"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/edgeward/edgeward/core/events"
	"github.com/edgeward/edgeward/core/overlay"
	"github.com/edgeward/edgeward/hw/sysinfo"
)

// TestUIBrowserDashboardLive: the dashboard shows an hour of traffic and
// an event published after the page loaded appears without a reload. It
// logs the page weight (HTML and assets, as transferred).
func TestUIBrowserDashboardLive(t *testing.T) {
	e := newUIEnv(t)
	e.setUp(t, e.browser(t))
	// An hour of traffic shaped like a working day's swell.
	e.traffic(t, 360, func(i int) int { return 400_000 + int(300_000*math.Sin(float64(i)/40)) + i*1000 },
		func(i int) int { return 60_000 + int(40_000*math.Cos(float64(i)/25)) })
	e.journal.Publish(events.Event{Kind: "ban_added", Subject: "203.0.113.7", Message: "203.0.113.7 banned for 1h"})
	c := newChrome(t, e)
	c.login()
	c.run("mark the page", chromedp.Evaluate[chromedp.Void](`window.__mark = "same page"`),
		chromedp.WaitVisible(testSel("traffic-graph")))
	// The list is subscribed once the stream has answered.
	c.run("wait for the stream", chromedp.Poll[chromedp.Void](
		`(document.querySelector("[data-testid=event-list]")["htmx-internal-data"]?.sseEventSource?.readyState) === 1`))

	e.journal.Publish(events.Event{Kind: "peer_connected", Subject: "laptop", Message: "laptop connected from 198.51.100.9"})
	c.run("see the event arrive", chromedp.Poll[chromedp.Void](
		`document.querySelector("[data-testid=event] [data-testid=event-message]").textContent === "laptop connected from 198.51.100.9"`))
	if got := c.eval(`String(window.__mark)`); got != "same page" {
		t.Errorf("the page reloaded: mark %q", got)
	}
	// The links service's own discoveries come before the test's events.
	if got := c.eval(`Array.from(document.querySelectorAll("[data-testid=event-kind]")).map(e => e.dataset.kind).join(" ")`); !strings.HasPrefix(got, "peer_connected ban_added ") {
		t.Errorf("events listed: %s", got)
	}
	c.shot("08-dashboard-live")

	// Page weight: the document and every asset it loaded, as sent.
	weight := c.eval(`(() => {
		const nav = performance.getEntriesByType("navigation")[0];
		let sent = nav.encodedBodySize, raw = nav.decodedBodySize;
		for (const r of performance.getEntriesByType("resource")) {
			if (r.name.endsWith("/events/stream")) continue;
			sent += r.encodedBodySize; raw += r.decodedBodySize;
		}
		return sent + " " + raw;
	})()`)
	var sent, raw int
	if _, err := fmt.Sscan(weight, &sent, &raw); err != nil || sent == 0 {
		t.Fatalf("page weight %q: %v", weight, err)
	}
	t.Logf("dashboard page weight: %s bytes of bodies as sent, %s bytes decoded",
		strconv.Itoa(sent), strconv.Itoa(raw))
}

// TestUIBrowserWireGuard shows the pages over a running data plane (its
// device a fake): the dashboard's WireGuard card, the peers table with a
// connected peer, which turns to connected by its own poll without a
// reload, and groups with networks typed into the form.
func TestUIBrowserWireGuard(t *testing.T) {
	e := newUIEnv(t)
	e.setUp(t, e.browser(t))
	ctx := t.Context()
	var peers []overlay.Created
	for _, name := range []string{"laptop", "phone", "nas"} {
		p, err := e.ov.CreatePeer(ctx, overlay.NewPeer{Name: name, KeepKey: true})
		if err != nil {
			t.Fatal(err)
		}
		peers = append(peers, p)
	}
	plane, dev := e.runningPlane(t)
	see(t, dev, peers[0].PublicKey, netip.MustParseAddrPort("198.51.100.7:41000"), time.Now().Add(-2*time.Minute), 1<<30+5<<20, 87<<20)
	poll(t, plane)
	c := newChrome(t, e)
	c.login()

	c.run("see the WireGuard card", chromedp.WaitVisible(testSel("wg-card")))
	if got := c.text("wg-interface") + " " + c.text("wg-peers") + " " + c.text("wg-connected") + " " + c.text("wg-rx"); got != "wg0 3 1 1.0 GiB" {
		t.Errorf("WireGuard card %q, want wg0 3 1 1.0 GiB", got)
	}
	if !strings.HasPrefix(c.text("wg-state"), "Running") || c.text("count-connected") != "1" {
		t.Errorf("state %q, connected %q", c.text("wg-state"), c.text("count-connected"))
	}
	c.shot("20-dashboard-wireguard")

	c.open("/peers", "peers-table")
	if got := c.text("peer-connected") + " " + c.text("peer-handshake") + " " + c.text("peer-endpoint"); got != "Connected 2 min ago 198.51.100.7:41000" {
		t.Errorf("laptop's row %q", got)
	}
	c.shot("21-peers-connected")
	// The phone connects; the table's own poll shows it, on the same page.
	c.eval(`window.__samePeers = "yes"`)
	see(t, dev, peers[1].PublicKey, netip.MustParseAddrPort("203.0.113.9:51820"), time.Now(), 4096, 2048)
	poll(t, plane)
	phone := `document.querySelector("[data-peer-id='` + peers[1].ID + `'] [data-testid=peer-connected]")`
	c.run("see the phone connect", chromedp.Poll[chromedp.Void](phone+`.textContent === "Connected"`, chromedp.WithPollingTimeout(15*time.Second)))
	if got := c.eval(`String(window.__samePeers)`); got != "yes" {
		t.Errorf("the page reloaded: %q", got)
	}

	c.open("/groups", "group-form")
	c.run("add a group with networks",
		chromedp.SendKeys(testSel("name"), "home lan"),
		chromedp.Click(`[data-testid="peers-option"][value="`+peers[0].ID+`"]`),
		chromedp.SendKeys(testSel("resources"), "192.168.1.0/24\nmy printer\n"),
		chromedp.Click(testSel("submit")),
		chromedp.WaitVisible(testSel("resources-line-error")))
	if got := c.text("resources-line-error"); got != `Line 2: "my printer" is not a network such as 192.168.1.0/24.` {
		t.Errorf("line error %q", got)
	}
	c.shot("22-groups-resources-refused")
	c.run("fix the line",
		chromedp.SetValue(testSel("resources"), "192.168.1.0/24\n192.168.1.20\n0.0.0.0/0"),
		chromedp.Click(testSel("submit")),
		chromedp.WaitVisible(testSel("group-resource")))
	if got := c.eval(`Array.from(document.querySelectorAll("[data-testid=group-resource]")).map(e => e.textContent).join(" ")`); got != "192.168.1.0/24 192.168.1.20/32 0.0.0.0/0" {
		t.Errorf("listed networks %q", got)
	}
	c.shot("23-groups-resources")
	t.Logf("screenshots in %s", c.shots)
}

// TestUIBrowserDashboard checks the dashboard's layout in both themes and
// both sizes (c.check), that each subject has its card, that the graph
// has labelled axes and reads out the values under the pointer, and that
// the system card shows this machine's numbers.
func TestUIBrowserDashboard(t *testing.T) {
	e := newUIEnv(t)
	e.rebuild(func(d *Deps) {
		d.System = sysinfo.Reader("/proc")
		d.StoreSize = func() int64 { return 12 << 20 }
	})
	e.setUp(t, e.browser(t))
	e.addPeer(t, "laptop")
	// An hour at 2.5 MB/s in (20 Mbit/s), 250 kB/s out.
	e.traffic(t, 360, func(int) int { return 2_500_000 }, func(int) int { return 250_000 })
	c := newChrome(t, e)
	c.login()
	c.check("dashboard", "/", "traffic-graph")

	for _, id := range []string{"firewall-card", "peers-card", "wg-card", "system-card", "links-card", "traffic-card", "events"} {
		if got := c.eval(`String(document.querySelectorAll("[data-testid=` + id + `]").length)`); got != "1" {
			t.Errorf("%s cards %s, want 1", got, id)
		}
	}
	ticks := func(id string) string {
		return c.eval(`Array.from(document.querySelectorAll("[data-testid=` + id + `]")).map(e => e.textContent).join(", ")`)
	}
	if got := ticks("graph-ytick"); got != "20 Mbit/s, 15 Mbit/s, 10 Mbit/s, 5 Mbit/s, 0" {
		t.Errorf("rate axis %q", got)
	}
	if got := ticks("graph-xtick"); got != "-60 min, -45 min, -30 min, -15 min, now" {
		t.Errorf("time axis %q", got)
	}
	// The labels are laid out along the plot: the rate labels from its top
	// to its bottom, the time labels from its left to its right.
	layout := c.eval(`(() => {
		const svg = document.querySelector("[data-testid=traffic-graph] svg").getBoundingClientRect();
		const y = document.querySelectorAll("[data-testid=graph-ytick]"), x = document.querySelectorAll("[data-testid=graph-xtick]");
		const mid = r => (r.top + r.bottom) / 2, first = y[0].getBoundingClientRect(), last = y[y.length - 1].getBoundingClientRect();
		const left = x[0].getBoundingClientRect(), right = x[x.length - 1].getBoundingClientRect();
		return [Math.abs(mid(first) - svg.top) < 12, Math.abs(mid(last) - svg.bottom) < 12, first.right <= svg.left,
			Math.abs(left.left - svg.left) < 2, Math.abs(right.right - svg.right) < 2, left.top >= svg.bottom].join(" ");
	})()`)
	if layout != "true true true true true true" {
		t.Errorf("axis labels not along the plot: %s (top, bottom, left of it, x start, x end, under it)", layout)
	}
	if got := c.text("graph-rx-now") + " / " + c.text("graph-tx-now"); got != "20.0 Mbit/s / 2.0 Mbit/s" {
		t.Errorf("legend %q", got)
	}

	// The pointer a quarter from the left: 45 min ago.
	c.run("hover the graph", chromedp.Evaluate[chromedp.Void](`(() => {
		const svg = document.querySelector("[data-testid=traffic-graph] svg"), r = svg.getBoundingClientRect();
		svg.dispatchEvent(new PointerEvent("pointermove", {bubbles: true, clientX: r.left + r.width / 4, clientY: r.top + r.height / 2}));
	})()`), chromedp.Poll[chromedp.Void](`document.querySelector("[data-testid=graph-readout]").textContent !== ""`))
	if got := c.text("graph-readout"); !regexp.MustCompile(`^-4[45] min: received 20\.0 Mbit/s, sent 2\.0 Mbit/s$`).MatchString(got) {
		t.Errorf("readout %q", got)
	}
	c.shot("dashboard-hover")

	for id, pat := range map[string]string{"sys-load": `^\d+\.\d\d, \d+\.\d\d, \d+\.\d\d$`, "sys-mem-percent": `^\d{1,3} %$`,
		"sys-rss": `^\d+\.\d MiB$`, "sys-store": `^12\.0 MiB$`, "sys-wan": `^192\.168\.1\.1 on eth0$`, "sys-uptime": `\d`} {
		if got := c.text(id); !regexp.MustCompile(pat).MatchString(got) {
			t.Errorf("%s = %q, want %s", id, got, pat)
		}
	}
}
