package web

import (
	"fmt"
	"net/netip"
	"regexp"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/edgeward/edgeward/core/acl"
)

// TestUIBrowserNetwork bans an address for good and a range for two hours
// through the firewall page's form in Chromium, sees both listed (the range
// with its time left), lifts the range with its row's button (an htmx swap
// of the page's state) and sees it gone without a navigation. Screenshot
// 20-network shows the page with two bans, one greylisted address and the
// bulk form opened.
func TestUIBrowserNetwork(t *testing.T) {
	e := newUIEnv(t)
	e.setUp(t, e.browser(t))
	c := newChrome(t, e)
	c.login()
	if _, err := e.acl.Greylist(t.Context(), netip.MustParseAddr("198.51.100.23"), "5 failed logins"); err != nil {
		t.Fatal(err)
	}

	const (
		address = `[data-testid="ban-row"][data-target="203.0.113.7"]`
		subnet  = `[data-testid="ban-row"][data-target="203.0.113.128/25"]`
	)
	c.open("/p2p", "acl-form")
	c.run("ban an address",
		chromedp.SendKeys(testSel("address"), "203.0.113.7"),
		chromedp.Click(testSel("acl-submit")),
		chromedp.WaitVisible(chromedp.CSS(address)))
	c.run("ban a range for two hours",
		chromedp.SendKeys(testSel("address"), "203.0.113.128/25"),
		chromedp.SendKeys(testSel("duration"), "2h"),
		chromedp.Click(testSel("acl-submit")),
		chromedp.WaitVisible(chromedp.CSS(subnet)))
	if got := c.location(); got != "/p2p?done=ban" {
		t.Errorf("after the bans the page is %s", got)
	}
	row := func(sel, testID string) string {
		return c.eval(`document.querySelector('` + sel + ` [data-testid="` + testID + `"]').textContent.trim()`)
	}
	if got := row(subnet, "ban-kind"); got != "Range" {
		t.Errorf("range listed as %q", got)
	}
	if got := row(subnet, "ban-left"); !regexp.MustCompile(`^(1 h 59 min|2 h)$`).MatchString(got) {
		t.Errorf("range's time left %q", got)
	}
	if got := row(address, "ban-left"); got != "for good" {
		t.Errorf("address's time left %q", got)
	}
	if !e.acl.Banned(netip.MustParseAddr("203.0.113.200")) {
		t.Error("the form did not ban the range")
	}
	if got := c.text("grey-left"); !regexp.MustCompile(`^(9|10) min$`).MatchString(got) {
		t.Errorf("greylist time left %q", got)
	}
	c.run("open the bulk form", chromedp.Click(`[data-testid="bulk-fold"] > summary`), chromedp.WaitVisible(testSel("bulk-form")))
	c.shot("20-network")

	c.eval(`window.__mark = "same page"`)
	c.run("lift the range", chromedp.Click(chromedp.CSS(subnet+` [data-testid="ban-lift"]`)),
		chromedp.WaitNotPresent(chromedp.CSS(subnet)))
	if e.acl.Banned(netip.MustParseAddr("203.0.113.200")) || !e.acl.Banned(netip.MustParseAddr("203.0.113.7")) {
		t.Error("the lift did not take exactly the range out of the ACL")
	}
	// htmx swapped the state in place: no navigation, the rest is kept.
	if got := c.eval(`String(window.__mark)`); got != "same page" {
		t.Errorf("the lift reloaded the page: mark %q", got)
	}
	if got := c.location(); got != "/p2p?done=ban" {
		t.Errorf("after the lift the page is %s, want no navigation", got)
	}
	for sel, want := range map[string]string{`[data-testid=grey-row]`: "1", `[data-testid=ban-row]`: "1"} {
		if got := c.eval(`String(document.querySelectorAll("` + sel + `").length)`); got != want {
			t.Errorf("%s: %s rows after the swap, want %s", sel, got, want)
		}
	}
	t.Logf("screenshots in %s", c.shots)
}

// TestUIBrowserFirewallLayout fills the firewall page as a busy router's
// looks (50 blocks, a few expiring, 12 greylisted addresses, a trusted
// range and address, a connected peer) and checks it in both colour schemes
// on a laptop and a phone: screenshots firewall-<light|dark>-<1280|390>.
// The lists past their first rows fold away, so the page stays short.
func TestUIBrowserFirewallLayout(t *testing.T) {
	e := newUIEnv(t)
	e.setUp(t, e.browser(t))
	ctx := t.Context()
	var bans []string
	for i := range 50 {
		bans = append(bans, fmt.Sprintf("203.0.113.%d", i+1))
	}
	if _, err := e.acl.Bulk(ctx, acl.Ban, bans[:44], 0, "test", acl.Guard{}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.acl.Bulk(ctx, acl.Ban, bans[44:], 3*time.Hour, "test", acl.Guard{}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.acl.Bulk(ctx, acl.Trust, []string{"192.0.2.0/28", "192.0.2.77"}, 0, "test", acl.Guard{}); err != nil {
		t.Fatal(err)
	}
	for i := range 12 {
		e.greylist(t, fmt.Sprintf("198.51.100.%d", 100+i))
	}
	e.connectPeer(t, "laptop", "198.51.100.4:51820")
	c := newChrome(t, e)
	c.login()

	c.check("firewall", "/p2p", "acl-form")
	c.run("laptop screen", chromedp.EmulateViewport(1280, 800))
	c.open("/p2p", "acl-form")
	for sel, want := range map[string]string{
		`[data-testid=ban-row]`:                          "50",
		`[data-testid=ban-fold] [data-testid=ban-row]`:   "45",
		`[data-testid=grey-fold] [data-testid=grey-row]`: "7",
		`[data-testid=bans] summary`:                     "1",
		`details[open] [data-testid=ban-row]`:            "0",
		`[data-testid=trust-row]`:                        "2",
	} {
		if got := c.eval(`String(document.querySelectorAll("` + sel + `").length)`); got != want {
			t.Errorf("%s: %s, want %s", sel, got, want)
		}
	}
	if got := c.eval(`document.querySelector("[data-testid=ban-fold] > summary").textContent.trim()`); got != "Show all 50" {
		t.Errorf("fold summary %q", got)
	}
	// Folded, the page is a fraction of the 2,600 px the stacked lists took.
	h := c.eval(`String(document.documentElement.scrollHeight)`)
	t.Logf("firewall page height at 1280x800: %s px; screenshots in %s", h, c.shots)
}
