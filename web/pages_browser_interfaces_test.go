package web

import (
	"errors"
	"strconv"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/edgeward/edgeward/core"
)

// TestUIBrowserInterfaces changes eth0's MTU in headless Chromium: the
// list, the interface page, the form, the confirm-or-rollback countdown
// (refreshed by htmx) and the confirmation. It checks the list and eth0's
// page in both colour schemes on a laptop and a phone (screenshots
// interfaces-* and interface-*) and writes 30-interfaces and
// 31-interface-confirm.
func TestUIBrowserInterfaces(t *testing.T) {
	e := newUIEnv(t)
	e.setUp(t, e.browser(t))
	c := newChrome(t, e)
	c.login()

	c.check("interfaces", "/interfaces", "interfaces-table")
	c.check("interface", eth0, "iface-form")
	c.open("/interfaces", "interfaces-table")
	if got := c.text("iface-name"); got != "eth0" {
		t.Errorf("first interface %q, want eth0", got)
	}
	if got := c.text("iface-speed"); got != "1 Gbit/s" {
		t.Errorf("eth0 speed %q", got)
	}
	c.shot("30-interfaces")

	c.run("open eth0", chromedp.Click(testSel("iface-name")), chromedp.WaitVisible(testSel("iface-form")))
	if loc := c.location(); loc != eth0 {
		t.Errorf("eth0's page is %s, want %s", loc, eth0)
	}
	if got := c.eval(`document.querySelector("[data-testid=confirm_within]").value`); got != "120" {
		t.Errorf("preselected deadline %q, want 120 seconds", got)
	}
	c.run("change the MTU",
		chromedp.Evaluate[chromedp.Void](`document.querySelector("[data-testid=mtu]").value = ""`),
		chromedp.SendKeys(testSel("mtu"), "1400"),
		chromedp.Click(testSel("submit")),
		chromedp.WaitVisible(testSel("confirm-box")))
	if got := c.text("confirm-state"); !strings.Contains(got, "pending") {
		t.Errorf("confirm state %q", got)
	}
	if got := c.text("iface-mtu"); got != "1400" {
		t.Errorf("MTU on the page %q, want 1400", got)
	}
	first, err := strconv.Atoi(c.text("confirm-remaining"))
	if err != nil || first < 1 || first > 120 {
		t.Fatalf("seconds left %q, want 1-120", c.text("confirm-remaining"))
	}
	if c.text("confirm-deadline") == "" {
		t.Error("no deadline shown")
	}
	// htmx refreshes the countdown in place: the number goes down without
	// a navigation.
	c.run("watch the countdown", chromedp.Poll[chromedp.Void](
		`Number(document.querySelector("[data-testid=confirm-remaining]").textContent) < `+strconv.Itoa(first)))
	if loc := c.location(); loc != eth0+"?saved=1" {
		t.Errorf("the countdown navigated to %s", loc)
	}
	if e.kernelMTU(t, "eth0") != 1400 {
		t.Errorf("kernel MTU %d while awaiting confirmation, want 1400", e.kernelMTU(t, "eth0"))
	}
	c.shot("31-interface-confirm")

	c.run("confirm", chromedp.Click(testSel("confirm")), chromedp.WaitVisible(testSel("confirm-done")))
	if got := c.text("confirm-done"); !strings.Contains(got, "confirmed") {
		t.Errorf("after confirming the page says %q", got)
	}
	if got := c.eval(`String(document.querySelectorAll("[data-testid=confirm-box]").length)`); got != "0" {
		t.Errorf("%s confirm boxes after confirming, want 0", got)
	}
	// Nothing is left for the rollback to restore, and the MTU stays.
	if err := e.links.Confirm(t.Context(), 1); !errors.Is(err, core.ErrConflict) {
		t.Errorf("core still has a change awaiting confirmation: %v", err)
	}
	if e.kernelMTU(t, "eth0") != 1400 || e.ifaceMTU(t, 1) != 1400 {
		t.Errorf("after confirming kernel MTU %d, config %d; want 1400", e.kernelMTU(t, "eth0"), e.ifaceMTU(t, 1))
	}
	if got := c.text("iface-update"); got != "Applied" {
		t.Errorf("update status %q, want applied", got)
	}
}
