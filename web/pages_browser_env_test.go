package web

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/emulation"
	cdppage "github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"
)

// windowWidth and windowHeight are the browser window's size, which
// screenshots outside check are taken at.
const windowWidth, windowHeight = 1100, 800

// chromiumPath is Debian's Chromium (apt-get install chromium).
const chromiumPath = "/usr/bin/chromium"

// cspWatch records, in every document, the CSP violations the page
// causes; it is injected through DevTools, so the CSP does not apply to it.
const cspWatch = `window.__csp = [];
document.addEventListener("securitypolicyviolation", e => window.__csp.push(e.violatedDirective + " " + e.blockedURI));`

// chrome is e's app served on a loopback port and a headless Chromium
// pointed at it. Screenshots go to $EDGEWARD_SCREENSHOTS (or a temp dir).
type chrome struct {
	t     *testing.T
	ctx   context.Context
	base  string // http://127.0.0.1:port
	shots string
}

// newChrome serves e.app and starts Chromium; both stop when t ends. It
// skips t in -short mode and where Chromium is not installed.
func newChrome(t *testing.T, e *uiEnv) *chrome {
	t.Helper()
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

	base := e.serve(t)

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
		chromedp.WindowSize(windowWidth, windowHeight),
	)
	bctx, cancelBrowser := chromedp.NewContext(actx)
	// Cleanups run last-in first-out: the browser goes before the server.
	t.Cleanup(cancelAlloc)
	t.Cleanup(cancelBrowser)
	// The first Do starts the browser and lives as long as bctx; the
	// timeout goes on the steps after it.
	err := chromedp.Do(bctx, chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
		_, err := cdp.Call(ctx, tg, cdppage.AddScriptToEvaluateOnNewDocument, cdppage.AddScriptToEvaluateOnNewDocumentParams{Source: cspWatch})
		return err
	}))
	if err != nil {
		t.Fatalf("start %s: %v", chromiumPath, err)
	}
	ctx, cancel := context.WithTimeout(bctx, 90*time.Second)
	t.Cleanup(cancel)
	return &chrome{t: t, ctx: ctx, base: base, shots: shots}
}

// serve serves e.app on a loopback port until t ends and returns its base
// URL (http://127.0.0.1:port).
func (e *uiEnv) serve(t *testing.T) string {
	t.Helper()
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
	return "http://" + ln.Addr().String()
}

// run does the actions of one step and fails the test if one fails.
func (c *chrome) run(step string, actions ...chromedp.Action[chromedp.Void]) {
	c.t.Helper()
	if err := chromedp.Do(c.ctx, actions...); err != nil {
		c.t.Fatalf("%s: %v", step, err)
	}
}

// open navigates to path and waits for the element with testID.
func (c *chrome) open(path, testID string) {
	c.t.Helper()
	c.run("open "+path, chromedp.Navigate(c.base+path), chromedp.WaitVisible(testSel(testID)))
}

// location is the current page's path (with its query).
func (c *chrome) location() string {
	c.t.Helper()
	loc, err := chromedp.Run(c.ctx, chromedp.Location())
	if err != nil {
		c.t.Fatal(err)
	}
	return strings.TrimPrefix(loc, c.base)
}

// text is the trimmed text of the first element with testID.
func (c *chrome) text(testID string) string {
	c.t.Helper()
	s, err := chromedp.Run(c.ctx, chromedp.Text(testSel(testID)))
	if err != nil {
		c.t.Fatalf("text of %s: %v", testID, err)
	}
	return strings.TrimSpace(s)
}

// eval runs a JavaScript expression that yields a string.
func (c *chrome) eval(expr string) string {
	c.t.Helper()
	s, err := chromedp.Run(c.ctx, chromedp.Evaluate[string](expr, chromedp.EvalAwaitPromise))
	if err != nil {
		c.t.Fatalf("evaluate %s: %v", expr, err)
	}
	return s
}

// login logs in with testPassword (setup must be done).
func (c *chrome) login() {
	c.t.Helper()
	c.run("log in", chromedp.Navigate(c.base+"/login"), chromedp.WaitVisible(testSel("login-form")),
		chromedp.SendKeys(testSel("password"), testPassword),
		chromedp.Click(testSel("submit")),
		chromedp.WaitVisible(testSel("node-name")))
}

// shot writes a screenshot of the whole page as name.png and checks that
// the page loaded its script and style under the CSP and violated nothing.
func (c *chrome) shot(name string) {
	c.t.Helper()
	png, err := chromedp.Run(c.ctx, chromedp.FullScreenshot(100))
	if err != nil {
		c.t.Fatalf("screenshot %s: %v", name, err)
	}
	if err := os.WriteFile(filepath.Join(c.shots, name+".png"), png, 0o644); err != nil {
		c.t.Fatal(err)
	}
	if got := c.eval(`String(typeof htmx) + " " + getComputedStyle(document.body).marginTop + " " + JSON.stringify(window.__csp)`); got != "object 0px []" {
		c.t.Errorf("%s: htmx, body margin, CSP violations = %q; want %q", name, got, "object 0px []")
	}
}

// screens are the sizes check looks at: a laptop and a phone (iPhone 12).
var screens = []struct {
	width, height int64
	phone         bool
}{{1280, 800, false}, {390, 844, true}}

// check opens path in the light and the dark colour scheme, on a laptop
// (1280x800) and a phone (390x844) screen, waits for the element with
// readyTestID and fails the test for each problem pageCheck finds (the
// page scrolling sideways, a button off the screen, text below WCAG AA
// contrast) and for any CSP violation. It writes a full-page screenshot
// <name>-<light|dark>-<1280|390>.png of each, and leaves the browser on
// the page at its default size and scheme.
func (c *chrome) check(name, path, readyTestID string) {
	c.t.Helper()
	for _, scheme := range []string{"light", "dark"} {
		for _, s := range screens {
			shot := fmt.Sprintf("%s-%s-%d", name, scheme, s.width)
			opts := []chromedp.EmulateViewportOption{chromedp.EmulatePortrait}
			if s.phone {
				opts = append(opts, chromedp.EmulateMobile, chromedp.EmulateTouch)
			}
			c.run(shot, colourScheme(scheme), chromedp.EmulateViewport(s.width, s.height, opts...),
				chromedp.Navigate(c.base+path), chromedp.WaitVisible(testSel(readyTestID)))
			if bad := c.eval(pageCheck); bad != "" {
				c.t.Errorf("%s (%s):\n%s", shot, path, bad)
			}
			if csp := c.eval(`JSON.stringify(window.__csp)`); csp != "[]" {
				c.t.Errorf("%s (%s): CSP violations %s", shot, path, csp)
			}
			png, err := chromedp.Run(c.ctx, chromedp.FullScreenshot(100))
			if err != nil {
				c.t.Fatalf("screenshot %s: %v", shot, err)
			}
			if err := os.WriteFile(filepath.Join(c.shots, shot+".png"), png, 0o644); err != nil {
				c.t.Fatal(err)
			}
		}
	}
	// Back to the window's own size: EmulateReset left the phone's
	// viewport in place for the screenshots that followed.
	c.run("reset the screen", colourScheme(""), chromedp.EmulateReset(), chromedp.EmulateViewport(windowWidth, windowHeight))
}

// colourScheme makes the page see prefers-color-scheme as scheme ("" for
// the browser's own).
func colourScheme(scheme string) chromedp.Action[chromedp.Void] {
	return chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
		features := []*emulation.MediaFeature{{Name: "prefers-color-scheme", Value: scheme}}
		_, err := cdp.Call(ctx, tg, emulation.SetEmulatedMedia, emulation.SetEmulatedMediaParams{Features: features})
		return err
	})
}

func testSel(id string) chromedp.CSS {
	return chromedp.CSS(`[data-testid="` + id + `"]`)
}
