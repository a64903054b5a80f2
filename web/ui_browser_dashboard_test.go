package web

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/edgeward/edgeward/core/events"
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
	if got := c.eval(`Array.from(document.querySelectorAll("[data-testid=event-kind]")).map(e => e.textContent).join(" ")`); !strings.HasPrefix(got, "peer_connected ban_added ") {
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
