package web

import (
	"net/netip"
	"strconv"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/device"

	"github.com/edgeward/edgeward/core/dataplane"
	"github.com/edgeward/edgeward/core/overlay"
)

// a11yCheck lists what a page gets wrong for a keyboard or screen-reader
// user: form controls without a label, buttons and links without a name,
// and content wider than the screen outside a scrolling box.
const a11yCheck = `(() => {
	const bad = [];
	for (const el of document.querySelectorAll("input:not([type=hidden]), select, textarea")) {
		// Hidden elements (a username for password managers) are not
		// shown to anyone.
		if (el.closest("[hidden]")) continue;
		if (el.labels.length === 0 && !el.getAttribute("aria-label") && !el.getAttribute("aria-labelledby")) bad.push("unlabelled " + el.outerHTML.slice(0, 80));
	}
	for (const el of document.querySelectorAll("button, a[href]")) {
		if (!el.textContent.trim() && !el.getAttribute("aria-label")) bad.push("nameless " + el.outerHTML.slice(0, 80));
	}
	if (document.documentElement.scrollWidth > window.innerWidth + 1) bad.push("page wider than the screen: " + document.documentElement.scrollWidth + " > " + window.innerWidth);
	return bad.join("\n");
})()`

// TestUIBrowserEveryPage opens every page on a phone-sized screen: each
// loads under the CSP, fits the screen (wide tables scroll inside their
// box), labels every control, and the keyboard reaches the skip link and
// the navigation first. A screenshot of each is written as 9x-phone-*.
func TestUIBrowserEveryPage(t *testing.T) {
	e := newUIEnv(t)
	e.setUp(t, e.browser(t))
	// The peer's page shows its kept config; the group form its
	// networks; the dashboard a data plane that cannot run, as in a
	// process without CAP_NET_ADMIN.
	p, err := e.ov.CreatePeer(t.Context(), overlay.NewPeer{Name: "laptop-with-a-rather-long-name", KeepKey: true})
	if err != nil {
		t.Fatal(err)
	}
	g, err := e.ov.SaveGroup(t.Context(), "", overlay.GroupSpec{Name: "home", Peers: []string{p.ID},
		Resources: []netip.Prefix{netip.MustParsePrefix("192.168.100.0/24"), netip.MustParsePrefix("0.0.0.0/0")}})
	if err != nil {
		t.Fatal(err)
	}
	plane := dataplane.New(e.ov, nil, nil, dataplane.Config{Interface: "wg0",
		Unavailable: "no WireGuard device: creating wg0 needs CAP_NET_ADMIN"})
	e.rebuild(func(d *Deps) { d.Plane = plane; withGateway(d) })
	c := newChrome(t, e)
	c.login()
	c.run("phone screen", chromedp.Emulate(device.IPhone12))
	ifaces := e.links.Interfaces(t.Context())
	pages := []struct{ path, shot string }{
		{"/", "90-phone-dashboard"},
		{"/peers", "91-phone-peers"},
		{"/peers/" + p.ID, "92-phone-peer"},
		{"/peers/" + p.ID + "/forget-key", "92-phone-peer-forget-key"},
		{"/groups", "93-phone-groups"},
		{"/groups/" + g.ID + "/edit", "93-phone-group-edit"},
		{"/policies", "94-phone-policies"},
		{"/p2p", "95-phone-network"},
		{"/interfaces", "96-phone-interfaces"},
		{"/interfaces/" + strconv.Itoa(ifaces[len(ifaces)-1].ID), "97-phone-interface"},
		{"/settings/tokens", "98-phone-tokens"},
		{"/settings/password", "99-phone-password"},
		{"/settings/update", "99-phone-update"},
	}
	for _, pg := range pages {
		c.open(pg.path, "title")
		if title := c.text("title"); strings.HasPrefix(title, "4") || strings.HasPrefix(title, "5") {
			t.Errorf("%s: %s", pg.path, title)
			continue
		}
		if bad := c.eval(a11yCheck); bad != "" {
			t.Errorf("%s:\n%s", pg.path, bad)
		}
		c.shot(pg.shot)
		// The first Tab lands on the skip link, the next ones on the
		// navigation.
		c.run("tab", chromedp.KeyEvent("\t"))
		if got := c.eval(`document.activeElement.textContent.trim()`); got != "Skip to content" {
			t.Errorf("%s: first Tab focuses %q", pg.path, got)
		}
		c.run("tab", chromedp.KeyEvent("\t"))
		if got := c.eval(`document.activeElement.closest("nav") ? "nav" : document.activeElement.outerHTML`); got != "nav" {
			t.Errorf("%s: second Tab focuses %s", pg.path, strings.TrimSpace(got))
		}
	}
}
