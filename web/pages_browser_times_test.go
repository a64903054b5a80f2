package web

import (
	"context"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/chromedp"

	"github.com/edgeward/edgeward/core/acl"
	"github.com/edgeward/edgeward/core/events"
)

// TestUIBrowserLocalTimes: in a browser in Tokyo every moment the pages
// show is Tokyo time, with the date only when it is not today there: a
// block's "since" and a greylisting's end (its tooltip) on the Firewall
// page, a token's "Created", and the dashboard's event log, both a row
// the server rendered and one the stream added after the page loaded.
func TestUIBrowserLocalTimes(t *testing.T) {
	e := newUIEnv(t)
	e.setUp(t, e.browser(t))
	tokyo, err := time.LoadLocation("Asia/Tokyo")
	if err != nil {
		t.Fatal(err)
	}
	e.setPoint(t, "203.0.113.7:0", acl.Ban)
	e.greylist(t, "198.51.100.9")
	// An old event: shown with its date.
	old := time.Date(2026, 1, 2, 20, 4, 5, 0, time.UTC)
	e.journal.Publish(events.Event{Time: old, Kind: "ban_added", Subject: "203.0.113.7", Message: "203.0.113.7 banned"})

	c := newChrome(t, e)
	c.run("live in Tokyo", chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
		_, err := cdp.Call(ctx, tg, emulation.SetTimezoneOverride, emulation.SetTimezoneOverrideParams{TimezoneID: "Asia/Tokyo"})
		return err
	}))
	c.login()

	// shown reads the <time> at sel: its moment, its text and its
	// tooltip.
	shown := func(sel string) (at time.Time, text, title string) {
		t.Helper()
		got := c.eval(`(() => { const el = document.querySelector(` + strconv.Quote(sel) + `);
			return el ? [el.getAttribute("datetime"), el.textContent, el.title].join("|") : "" })()`)
		parts := strings.Split(got, "|")
		if len(parts) != 3 {
			t.Fatalf("no <time> at %s", sel)
		}
		at, err := time.Parse(time.RFC3339, parts[0])
		if err != nil {
			t.Fatalf("%s: %v", sel, err)
		}
		return at, parts[1], parts[2]
	}
	// local is at as the pages show it in Tokyo.
	local := func(at time.Time) string {
		if at.In(tokyo).Format(time.DateOnly) != time.Now().In(tokyo).Format(time.DateOnly) {
			return at.In(tokyo).Format("2006-01-02 15:04")
		}
		return at.In(tokyo).Format("15:04")
	}
	wantLocal := func(what, sel string) time.Time {
		t.Helper()
		at, text, _ := shown(sel)
		if want := local(at); text != want {
			t.Errorf("%s shown as %q, want %q (Tokyo time of %s)", what, text, want, at)
		}
		return at
	}

	c.open("/p2p", "acl-form")
	if at := wantLocal("block's since", `[data-testid="ban-row"][data-target="203.0.113.7"] [data-testid="ban-since"] time`); time.Since(at) > time.Minute {
		t.Errorf("block's since %s, want just now", at)
	}
	// A duration keeps its words; its end is the tooltip, in Tokyo with
	// the date.
	at, text, title := shown(`[data-testid="grey-left"] time`)
	if want := at.In(tokyo).Format("2006-01-02 15:04"); title != want || !strings.HasSuffix(text, " min") {
		t.Errorf("greylisting left %q until %q, want minutes until %q", text, title, want)
	}

	c.open("/settings/tokens", "token-form")
	wantLocal("token's Created", `[data-testid="token-created"] time`)

	c.open("/", "node-name")
	if at := wantLocal("event rendered by the server", `[data-testid="event"]:has([data-kind="ban_added"]) time`); !at.Equal(old) {
		t.Errorf("oldest event at %s, want %s", at, old)
	}
	c.run("wait for the stream", chromedp.Poll[chromedp.Void](
		`(document.querySelector("[data-testid=event-list]")["htmx-internal-data"]?.sseEventSource?.readyState) === 1`))
	e.journal.Publish(events.Event{Kind: "peer_connected", Subject: "laptop", Message: "laptop connected from 198.51.100.9"})
	c.run("see the event arrive", chromedp.Poll[chromedp.Void](
		`document.querySelector("[data-testid=event] [data-testid=event-message]").textContent === "laptop connected from 198.51.100.9"`))
	if at := wantLocal("event from the stream", `[data-testid="event"]:has([data-kind="peer_connected"]) time`); time.Since(at) > time.Minute {
		t.Errorf("streamed event at %s, want just now", at)
	}
	c.shot("50-local-times")
}
