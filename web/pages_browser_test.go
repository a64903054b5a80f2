package web

import (
	"context"
	"strings"
	"testing"
	"time"

	cdpbrowser "github.com/chromedp/cdproto/browser"
	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/emulation"
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

// TestUIBrowserShell checks the pages of the shell itself with c.check
// (light and dark, laptop and phone: no sideways scrolling, buttons on
// the screen, contrast, CSP): setup and login before login, a 404 before
// and after login, and the dashboard. On a phone the sections sit in the
// top bar's menu, which opens without script; on a laptop they are the
// sidebar.
func TestUIBrowserShell(t *testing.T) {
	e := newUIEnv(t)
	c := newChrome(t, e)
	c.check("shell-setup", "/setup", "setup-form")
	e.setUp(t, e.browser(t))
	c.check("shell-login", "/login", "login-form")
	c.check("shell-404-anonymous", "/no-such-page", "error-message")
	if c.eval(`String(document.querySelectorAll("nav a").length)`) != "0" {
		t.Error("a 404 before login shows the navigation")
	}
	c.login()
	c.check("shell-dashboard", "/", "node-name")
	c.check("shell-404", "/no-such-page", "error-message")
	if got := c.eval(`Array.from(document.querySelectorAll("nav[data-testid=nav] a")).map(a => a.textContent).join(",")`); got != "Dashboard,Peers,Access,Firewall,Interfaces,System" {
		t.Errorf("a 404 after login navigates to %q", got)
	}

	// Laptop: the sidebar shows every section without opening anything.
	c.run("laptop", chromedp.EmulateViewport(1280, 800), chromedp.Navigate(c.base+"/"), chromedp.WaitVisible(testSel("node-name")))
	if got := c.eval(`String(document.querySelector("nav a[href='/peers']").checkVisibility())`); got != "true" {
		t.Error("the sidebar hides the sections on a laptop")
	}
	// Phone: the sections are behind the menu; it opens on a tap.
	c.run("phone", chromedp.EmulateViewport(390, 844, chromedp.EmulateMobile, chromedp.EmulateTouch),
		chromedp.Navigate(c.base+"/"), chromedp.WaitVisible(testSel("menu")))
	if got := c.eval(`String(document.querySelector("nav a[href='/peers']").checkVisibility())`); got != "false" {
		t.Error("the phone's menu shows the sections before it is opened")
	}
	c.run("open the menu", chromedp.Click(testSel("menu")), chromedp.WaitVisible(`nav a[href="/peers"]`))
	c.shot("shell-menu-open-390")
	c.run("go to the peers", chromedp.Click(`nav a[href="/peers"]`), chromedp.WaitVisible(testSel("peer-form")))
	c.run("reset the screen", chromedp.EmulateReset())
}

// TestUIBrowserCheckFinds makes sure pageCheck is not blind: on a real
// page it reports low contrast (also on a translucent layer), a button off
// the screen and sideways scrolling, and stays quiet about the same
// things where they do not count (large text at 3:1, text in an SVG, a
// button in a closed <details>).
func TestUIBrowserCheckFinds(t *testing.T) {
	e := newUIEnv(t)
	c := newChrome(t, e)
	c.run("open setup", chromedp.EmulateViewport(390, 844), chromedp.Navigate(c.base+"/setup"), chromedp.WaitVisible(testSel("setup-form")))
	if bad := c.eval(pageCheck); bad != "" {
		t.Fatalf("setup page before the bad parts:\n%s", bad)
	}
	// Styles set through the CSSOM: the CSP refuses style attributes.
	c.run("add bad parts", chromedp.Evaluate[chromedp.Void](`(() => {
		const m = document.querySelector("main");
		const add = (parent, html, style) => {
			parent.insertAdjacentHTML("beforeend", html);
			Object.assign(parent.lastElementChild.style, style);
			return parent.lastElementChild;
		};
		add(m, '<p data-testid="grey">grey on white</p>', {color: "#999", background: "#fff"});
		const veil = add(m, "<div></div>", {background: "rgba(0,0,0,.5)"});
		add(veil, '<p data-testid="veiled">dark on a veil</p>', {color: "#333"});
		add(m, "<p>large grey is fine at 3:1</p>", {color: "#949494", background: "#fff", fontSize: "24px"});
		add(m, '<svg><text fill="#eee" y="10">svg text</text></svg>', {});
		const more = add(m, "<details><summary>more</summary></details>", {});
		add(more, "<button>hidden</button>", {marginLeft: "900px"});
		add(m, '<button data-testid="far">far</button>', {position: "relative", left: "380px"});
		const box = add(m, "<div></div>", {width: "100px", overflowX: "auto"});
		add(box, '<button data-testid="clipped">clipped</button>', {marginLeft: "150px"});
	})()`))
	bad := c.eval(pageCheck)
	for _, want := range []string{
		"the page scrolls sideways",
		`outside the screen: button[data-testid="far"]`,
		`cut off by its box: button[data-testid="clipped"]`,
		`contrast 2.85 < 4.5: p[data-testid="grey"]`,
		`p[data-testid="veiled"]`,
	} {
		if !strings.Contains(bad, want) {
			t.Errorf("pageCheck did not report %q; it said:\n%s", want, bad)
		}
	}
	for _, quiet := range []string{"large grey", "svg text", `"hidden"`} {
		if strings.Contains(bad, quiet) {
			t.Errorf("pageCheck reported %q; it said:\n%s", quiet, bad)
		}
	}
}

// TestUIBrowserScript covers app.js on the error page: the time the
// server wrote in UTC is shown in the browser's time zone (here Tokyo,
// with the date only when it is not today there), and the copy button,
// hidden without the script, copies the request id.
func TestUIBrowserScript(t *testing.T) {
	e := newUIEnv(t)
	c := newChrome(t, e)
	tokyo, err := time.LoadLocation("Asia/Tokyo")
	if err != nil {
		t.Fatal(err)
	}
	c.run("grant the clipboard", chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
		for _, name := range []string{"clipboard-read", "clipboard-write"} {
			_, err := cdp.Call(ctx, tg, cdpbrowser.SetPermission, cdpbrowser.SetPermissionParams{Origin: c.base,
				Permission: &cdpbrowser.PermissionDescriptor{Name: name}, Setting: cdpbrowser.PermissionSettingGranted})
			if err != nil {
				return err
			}
		}
		return nil
	}))
	c.run("live in Tokyo", chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
		_, err := cdp.Call(ctx, tg, emulation.SetTimezoneOverride, emulation.SetTimezoneOverrideParams{TimezoneID: "Asia/Tokyo"})
		return err
	}))
	c.open("/no-such-page", "error-at")
	at, err := time.Parse(time.RFC3339, c.eval(`document.querySelector("[data-testid=error-at] time").getAttribute("datetime")`))
	if err != nil {
		t.Fatal(err)
	}
	want := at.In(tokyo).Format("15:04")
	if at.In(tokyo).Format(time.DateOnly) != time.Now().In(tokyo).Format(time.DateOnly) {
		want = at.In(tokyo).Format("2006-01-02 15:04")
	}
	if got := c.text("error-at"); got != want {
		t.Errorf("error time %q, want %q (Tokyo time of %s)", got, want, at)
	}

	id := c.text("request-id")
	c.run("copy the request id", chromedp.Click(testSel("copy-request-id")),
		chromedp.Poll[chromedp.Void](`document.querySelector("[data-testid=copy-request-id]").textContent === "Copied"`))
	if got := c.eval(`navigator.clipboard.readText()`); got != id {
		t.Errorf("clipboard %q, want the request id %q", got, id)
	}
	c.run("the label comes back", chromedp.Poll[chromedp.Void](
		`document.querySelector("[data-testid=copy-request-id]").textContent === "Copy request id"`))
}

// TestUIBrowserRowsStack: a wide <table class="rows"> whose last cell
// holds buttons fits a phone as stacked cards, each cell labelled from its
// data-label, every button on the screen; on a laptop it stays a table.
func TestUIBrowserRowsStack(t *testing.T) {
	e := newUIEnv(t)
	c := newChrome(t, e)
	const table = `(() => {
		// As many columns as the setup page's narrow column holds on a
		// laptop: wider tables scroll there, which check reports.
		const cols = ["Name", "Address", "Endpoint", "Received"];
		const row = cols.map(c => '<td data-label="' + c + '">' + c.toLowerCase() + '-value-that-is-long</td>').join("") +
			'<td class="actions" data-label=""><a class="btn btn-small btn-secondary" href="/">Edit</a>' +
			'<button class="btn btn-small btn-danger">Delete</button></td>';
		document.querySelector("main").insertAdjacentHTML("beforeend",
			'<div class="table-wrap"><table class="rows" data-testid="rows"><thead><tr>' + cols.map(c => "<th>" + c + "</th>").join("") +
			'<th></th></tr></thead><tbody><tr>' + row + '</tr><tr>' + row + '</tr></tbody></table></div>');
	})()`
	for _, s := range screens {
		c.run("open setup", chromedp.EmulateViewport(s.width, s.height), chromedp.Navigate(c.base+"/setup"),
			chromedp.WaitVisible(testSel("setup-form")), chromedp.Evaluate[chromedp.Void](table))
		if bad := c.eval(pageCheck); bad != "" {
			t.Errorf("%d px:\n%s", s.width, bad)
		}
		stacked := c.eval(`getComputedStyle(document.querySelector("[data-testid=rows] td")).display + " " +
			getComputedStyle(document.querySelector("[data-testid=rows] td"), "::before").content`)
		want := `table-cell none`
		if s.phone {
			want = `flow-root "Name"`
		}
		if stacked != want {
			t.Errorf("%d px: first cell %s, want %s", s.width, stacked, want)
		}
	}
}
