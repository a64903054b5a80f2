package web

import (
	"net/netip"
	"regexp"
	"testing"

	"github.com/chromedp/chromedp"
)

// TestUIBrowserNetwork bans an address for good and a range for two hours
// through the network page's form in Chromium, sees both listed (the range
// with its time left), lifts the range with its row's button (an htmx swap
// of the page's state) and sees it gone without a navigation. Screenshot
// 20-network shows the page with two bans, one greylisted address and the
// bulk form.
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
	if got := row(subnet, "ban-kind"); got != "range" {
		t.Errorf("range listed as %q", got)
	}
	if got := row(subnet, "ban-left"); !regexp.MustCompile(`^(1h 59m|2h 0m)$`).MatchString(got) {
		t.Errorf("range's time left %q", got)
	}
	if got := row(address, "ban-left"); got != "for good" {
		t.Errorf("address's time left %q", got)
	}
	if !e.acl.Banned(netip.MustParseAddr("203.0.113.200")) {
		t.Error("the form did not ban the range")
	}
	if got := c.text("grey-left"); !regexp.MustCompile(`^(9m \d+s|10m 0s)$`).MatchString(got) {
		t.Errorf("greylist time left %q", got)
	}
	c.run("show the bulk form", chromedp.WaitVisible(testSel("bulk-form")))
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
