package web

import (
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
)

// TestUIBrowser drives the pages in headless Chromium through first start:
// setup code, dashboard, logout, a refused and an accepted login, the
// password page and adding a peer. It
// writes a screenshot of each page to $EDGEWARD_SCREENSHOTS (or a temp
// dir) and checks that a form POST without the CSRF token is refused.
func TestUIBrowser(t *testing.T) {
	e := newUIEnv(t)
	c := newChrome(t, e)
	run, text, eval, shot, base := c.run, c.text, c.eval, c.shot, c.base
	ctx := c.ctx

	// First start: every page leads to the setup form.
	run("open the setup page", chromedp.Navigate(base+"/"), chromedp.WaitVisible(testSel("setup-form")))
	if loc, _ := chromedp.Run(ctx, chromedp.Location()); loc != base+"/setup" {
		t.Errorf("first page %s, want %s/setup", loc, base)
	}
	shot("01-setup")
	run("submit a wrong setup code",
		chromedp.SendKeys(testSel("code"), "aaaa-bbbb-cccc-dddd"),
		chromedp.SendKeys(testSel("password"), testPassword),
		chromedp.SendKeys(testSel("repeat"), testPassword),
		chromedp.Click(testSel("submit")),
		chromedp.WaitVisible(testSel("code-error")))
	if got := text("code-error"); got != "Wrong setup code." {
		t.Errorf("code error %q", got)
	}
	shot("02-setup-wrong-code")
	run("submit the setup code",
		chromedp.SetValue(testSel("code"), e.code),
		chromedp.SendKeys(testSel("password"), testPassword),
		chromedp.SendKeys(testSel("repeat"), testPassword),
		chromedp.Click(testSel("submit")),
		chromedp.WaitVisible(testSel("node-name")))
	if got := text("node-name"); got != testNodeName {
		t.Errorf("dashboard node name %q, want %q", got, testNodeName)
	}
	shot("03-dashboard")

	// htmx refreshes the stats section in place.
	run("refresh the stats",
		chromedp.Evaluate[chromedp.Void](`document.querySelector("[data-testid=count-peers]").textContent = "stale"`),
		chromedp.Click(testSel("refresh")),
		chromedp.Poll[chromedp.Void](`document.querySelector("[data-testid=count-peers]").textContent === "0"`))
	if loc, _ := chromedp.Run(ctx, chromedp.Location()); loc != base+"/" {
		t.Errorf("after the htmx refresh the page is %s, want %s/", loc, base)
	}

	// A form POST without the CSRF token is refused, with the session
	// cookie the browser sends along.
	post := `fetch("/logout", {method: "POST", redirect: "manual",
		headers: {"Content-Type": "application/x-www-form-urlencoded"}, body: "%s"}).then(r => String(r.status))`
	if got := eval(strings.Replace(post, "%s", "", 1)); got != "403" {
		t.Errorf("POST /logout without a CSRF token: status %s, want 403", got)
	}
	if got := eval(strings.Replace(post, "%s", "_csrf=forged", 1)); got != "403" {
		t.Errorf("POST /logout with a forged CSRF token: status %s, want 403", got)
	}
	run("still logged in", chromedp.Navigate(base+"/"), chromedp.WaitVisible(testSel("node-name")))

	run("log out", chromedp.Click(testSel("logout")), chromedp.WaitVisible(testSel("login-form")))
	shot("04-login")
	run("log in with a wrong password",
		chromedp.SendKeys(testSel("password"), "not the password"),
		chromedp.Click(testSel("submit")),
		chromedp.WaitVisible(testSel("password-error")))
	shot("05-login-refused")
	run("log in",
		chromedp.SendKeys(testSel("password"), testPassword),
		chromedp.Click(testSel("submit")),
		chromedp.WaitVisible(testSel("node-name")))
	if got := text("node-name"); got != testNodeName {
		t.Errorf("dashboard node name after login %q, want %q", got, testNodeName)
	}
	run("open the password page", chromedp.Navigate(base+"/settings/password"), chromedp.WaitVisible(testSel("password-form")))
	shot("06-password")

	// Peers: add one through the form, see it listed with its config, and
	// filter the table with htmx.
	run("add a peer", chromedp.Click(`nav a[href="/peers"]`), chromedp.WaitVisible(testSel("peer-form")),
		chromedp.SendKeys(testSel("name"), "laptop"),
		chromedp.Click(testSel("submit")),
		chromedp.WaitVisible(testSel("client-config")))
	if got := text("peer-name"); got != "laptop" {
		t.Errorf("listed peer %q, want laptop", got)
	}
	shot("07-peers")
	run("filter the peers",
		chromedp.SendKeys(testSel("filter-name"), "nothing"),
		chromedp.WaitVisible(testSel("no-peers")))
	if got := eval(`String(document.querySelectorAll("[data-testid=client-config]").length)`); got != "1" {
		t.Errorf("the htmx filter replaced more than the table: %s config blocks", got)
	}
	t.Logf("screenshots in %s", c.shots)
}
