package web

import (
	"context"
	"errors"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	cdppage "github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"
)

// chromiumPath is Debian's Chromium (apt-get install chromium).
const chromiumPath = "/usr/bin/chromium"

// cspWatch records, in every document, the CSP violations the page
// causes; it is injected through DevTools, so the CSP does not apply to it.
const cspWatch = `window.__csp = [];
document.addEventListener("securitypolicyviolation", e => window.__csp.push(e.violatedDirective + " " + e.blockedURI));`

// TestUIBrowser drives the pages in headless Chromium through first start:
// setup code, dashboard, logout, a refused and an accepted login, the
// password page and adding a peer. It
// writes a screenshot of each page to $EDGEWARD_SCREENSHOTS (or a temp
// dir) and checks that a form POST without the CSRF token is refused.
func TestUIBrowser(t *testing.T) {
	if testing.Short() {
		t.Skip("browser test skipped in -short mode")
	}
	if _, err := os.Stat(chromiumPath); err != nil {
		t.Skipf("browser test needs Chromium at %s (Debian: apt-get install chromium): %v", chromiumPath, err)
	}
	shots := os.Getenv("EDGEWARD_SCREENSHOTS")
	if shots == "" {
		shots = t.TempDir()
	} else if err := os.MkdirAll(shots, 0o755); err != nil {
		t.Fatal(err)
	}

	e := newUIEnv(t)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	served := make(chan error, 1)
	go func() { served <- e.app.Listener(ln) }()
	t.Cleanup(func() {
		if err := e.app.ShutdownWithTimeout(5 * time.Second); err != nil {
			t.Errorf("shutdown: %v", err)
		}
		if err := <-served; err != nil && !errors.Is(err, net.ErrClosed) {
			t.Errorf("serve: %v", err)
		}
	})
	base := "http://" + ln.Addr().String()

	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(),
		chromedp.ExecPath(chromiumPath),
		chromedp.Flag("headless", true),
		chromedp.Flag("no-sandbox", true),
		chromedp.Flag("disable-gpu", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("no-first-run", true),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(1100, 800),
	)
	defer cancelAlloc()
	bctx, cancelBrowser := chromedp.NewContext(actx)
	defer cancelBrowser()
	// The first Run starts the browser and lives as long as bctx; the
	// timeout goes on the steps after it.
	err = chromedp.Do(bctx, chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
		_, err := cdp.Call(ctx, tg, cdppage.AddScriptToEvaluateOnNewDocument, cdppage.AddScriptToEvaluateOnNewDocumentParams{Source: cspWatch})
		return err
	}))
	if err != nil {
		t.Fatalf("start %s: %v", chromiumPath, err)
	}
	ctx, cancel := context.WithTimeout(bctx, 60*time.Second)
	defer cancel()

	run := func(step string, actions ...chromedp.Action[chromedp.Void]) {
		t.Helper()
		if err := chromedp.Do(ctx, actions...); err != nil {
			t.Fatalf("%s: %v", step, err)
		}
	}
	text := func(testID string) string {
		t.Helper()
		s, err := chromedp.Run(ctx, chromedp.Text(testSel(testID)))
		if err != nil {
			t.Fatalf("text of %s: %v", testID, err)
		}
		return strings.TrimSpace(s)
	}
	eval := func(expr string) string {
		t.Helper()
		s, err := chromedp.Run(ctx, chromedp.Evaluate[string](expr, chromedp.EvalAwaitPromise))
		if err != nil {
			t.Fatalf("evaluate %s: %v", expr, err)
		}
		return s
	}
	shot := func(name string) {
		t.Helper()
		png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
		if err != nil {
			t.Fatalf("screenshot %s: %v", name, err)
		}
		if err := os.WriteFile(filepath.Join(shots, name+".png"), png, 0o644); err != nil {
			t.Fatal(err)
		}
		// Every page loads its script and style under the CSP, and
		// violates nothing.
		if got := eval(`String(typeof htmx) + " " + getComputedStyle(document.body).marginTop + " " + JSON.stringify(window.__csp)`); got != "object 0px []" {
			t.Errorf("%s: htmx, body margin, CSP violations = %q; want %q", name, got, "object 0px []")
		}
	}

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
	t.Logf("screenshots in %s", shots)
}

func testSel(id string) chromedp.CSS {
	return chromedp.CSS(`[data-testid="` + id + `"]`)
}
