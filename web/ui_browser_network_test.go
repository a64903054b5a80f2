package web

import (
	"net/netip"
	"regexp"
	"testing"

	"github.com/chromedp/chromedp"
)

// TestUIBrowserNetwork bans an address through the network page's form in
// Chromium, sees it listed, opens it again with the row's button (an htmx
// swap of the page's state) and sees it gone. Screenshot 20-network shows
// the page with one ban, one greylisted address and the bulk form.
func TestUIBrowserNetwork(t *testing.T) {
	e := newUIEnv(t)
	e.setUp(t, e.browser(t))
	c := newChrome(t, e)
	c.login()
	if _, err := e.acl.Greylist(t.Context(), netip.MustParseAddr("198.51.100.23"), "5 failed logins"); err != nil {
		t.Fatal(err)
	}

	const banned = `[data-testid="ban-row"][data-addr="203.0.113.7"]`
	c.open("/p2p", "acl-form")
	c.run("ban an address",
		chromedp.SendKeys(testSel("address"), "203.0.113.7"),
		chromedp.Click(testSel("acl-submit")),
		chromedp.WaitVisible(chromedp.CSS(banned)))
	if got := c.location(); got != "/p2p?done=ban" {
		t.Errorf("after the ban the page is %s", got)
	}
	if got := c.text("ban-addr"); got != "203.0.113.7" {
		t.Errorf("banned address %q", got)
	}
	if !e.acl.Banned(netip.MustParseAddr("203.0.113.7")) {
		t.Error("the form did not ban the address")
	}
	if got := c.text("grey-left"); !regexp.MustCompile(`^(9m \d+s|10m 0s)$`).MatchString(got) {
		t.Errorf("greylist time left %q", got)
	}
	c.run("show the bulk form", chromedp.WaitVisible(testSel("bulk-form")))
	c.shot("20-network")

	c.run("open the address", chromedp.Click(chromedp.CSS(banned+` [data-testid="ban-open"]`)),
		chromedp.WaitVisible(testSel("no-bans")))
	if e.acl.Banned(netip.MustParseAddr("203.0.113.7")) {
		t.Error("the ban is still in the ACL")
	}
	// htmx swapped the state in place: no navigation, the greylist is kept.
	if got := c.location(); got != "/p2p?done=ban" {
		t.Errorf("after opening the page is %s, want no navigation", got)
	}
	if got := c.eval(`String(document.querySelectorAll("[data-testid=grey-row]").length)`); got != "1" {
		t.Errorf("%s greylist rows after the swap, want 1", got)
	}
	t.Logf("screenshots in %s", c.shots)
}
