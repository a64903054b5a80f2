package web

import (
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/edgeward/edgeward/core/auth"
)

// TestUIBrowserSettings drives the API tokens, groups and policies pages
// in headless Chromium: a token created on the page works against the API
// until it is revoked on the page; a group made of a peer and a policy
// from that group are created through the forms. Screenshots: 40-tokens,
// 41-groups, 42-policies.
func TestUIBrowserSettings(t *testing.T) {
	e := newUIEnv(t)
	e.setUp(t, e.browser(t))
	laptop := e.addPeer(t, "laptop")
	c := newChrome(t, e)
	c.login()

	// API token: created through the form, its secret shown once.
	c.open("/settings/tokens", "token-form")
	c.run("create a token",
		chromedp.SendKeys(testSel("name"), "ci"),
		chromedp.SetValue(testSel("role"), "viewer"),
		chromedp.Click(testSel("submit")),
		chromedp.WaitVisible(testSel("created-secret")))
	secret, err := chromedp.Run(c.ctx, chromedp.Value(testSel("created-secret")))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(secret, "ewt_") || !strings.Contains(c.text("created-once"), "cannot show it again") {
		t.Errorf("secret %q, warning %q", secret, c.text("created-once"))
	}
	// app.js shows the copy button beside the secret.
	if got := c.eval(`String(document.querySelector("[data-testid=copy-created-secret]").hidden)`); got != "false" {
		t.Errorf("copy button hidden: %s", got)
	}
	c.shot("40-tokens")

	apiPeers := func() (int, string) {
		t.Helper()
		req, err := http.NewRequestWithContext(t.Context(), http.MethodGet, c.base+"/api/peers", nil)
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Authorization", "Token "+secret)
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		body, err := io.ReadAll(res.Body)
		if err != nil {
			t.Fatal(err)
		}
		return res.StatusCode, string(body)
	}
	if status, body := apiPeers(); status != http.StatusOK || !strings.Contains(body, `"name":"laptop"`) {
		t.Errorf("GET /api/peers with the new token: %d %s", status, body)
	}

	var ciID string
	for _, tok := range e.toks.List() {
		if tok.Name == "ci" {
			ciID = tok.ID
		}
	}
	c.run("revoke the token",
		chromedp.Click(`[data-testid="token-row"][data-token-id="`+ciID+`"] [data-testid="token-revoke"]`),
		chromedp.WaitVisible(testSel("revoke-form")),
		chromedp.Click(testSel("confirm-revoke")),
		chromedp.WaitVisible(testSel("token-form")))
	if got := c.eval(`String(document.querySelectorAll("[data-testid=token-row]").length)`); got != "1" {
		t.Errorf("%s token rows after the revoke, want 1", got)
	}
	if status, body := apiPeers(); status != http.StatusUnauthorized {
		t.Errorf("GET /api/peers with the revoked token: %d %s", status, body)
	}

	// A group holding the peer, chosen with a checkbox.
	c.open("/groups", "group-form")
	c.run("create a group",
		chromedp.SendKeys(testSel("name"), "laptops"),
		chromedp.Click(`input[name="peers"][value="`+laptop.ID+`"]`),
		chromedp.Click(testSel("submit")),
		// Only groups other than All have an edit link: this one is listed.
		chromedp.WaitVisible(testSel("group-edit")))
	if got := c.eval(`[...document.querySelectorAll("[data-testid=group-name]")].map(e => e.textContent).join(",")`); got != "All,laptops" {
		t.Errorf("listed groups %q, want All,laptops", got)
	}
	gs := e.ov.Groups("laptops")
	if len(gs) != 1 || len(gs[0].Members) != 1 || gs[0].Members[0].ID != laptop.ID {
		t.Fatalf("group laptops: %+v", gs)
	}
	c.shot("41-groups")

	// A policy from that group to All, over TCP 22.
	all := e.ov.Groups("All")[0]
	c.run("create a policy",
		chromedp.Click(`[data-testid="access-nav"] a[href="/policies"]`),
		chromedp.WaitVisible(testSel("policy-form")),
		chromedp.SendKeys(testSel("name"), "laptops to all"),
		chromedp.Click(`input[name="sources"][value="`+gs[0].ID+`"]`),
		chromedp.Click(`input[name="destinations"][value="`+all.ID+`"]`),
		chromedp.SetValue(testSel("protocol"), "tcp"),
		chromedp.SendKeys(testSel("ports"), "22"),
		chromedp.Click(testSel("submit")),
		chromedp.WaitVisible(testSel("policy-row")))
	got := []string{c.text("policy-name"), c.text("rule-sources"), c.text("rule-destinations"), c.text("rule-traffic"), c.text("policy-enabled")}
	if want := []string{"laptops to all", "laptops", "All", "TCP port 22", "Enabled"}; strings.Join(got, "|") != strings.Join(want, "|") {
		t.Errorf("policy row %q, want %q", got, want)
	}
	if pols := e.ov.Policies(); len(pols) != 1 || pols[0].Rules[0].Sources[0] != gs[0].ID {
		t.Errorf("policies in the core: %+v", pols)
	}
	c.shot("42-policies")
	t.Logf("screenshots in %s", c.shots)
}

// TestUIBrowserSystemLayout checks the System pages in both colour schemes
// on a laptop and a phone, with three API tokens listed (the phone's rows
// stack, Revoke stays on screen): screenshots tokens-*, password-*,
// update-* and backup-*. One Chromium per page keeps each within the
// browser's time limit.
func TestUIBrowserSystemLayout(t *testing.T) {
	for _, pages := range [][3]string{
		{"tokens", "/settings/tokens", "token-row"}, {"password", "/settings/password", "password-form"},
		{"update", "/settings/update", "update-facts"}, {"backup", "/settings/backup", "download-form"},
	} {
		t.Run(pages[0], func(t *testing.T) {
			// The backup page needs a backup service over the store.
			box := newBackupBox(t)
			e := box.uiEnv
			e.setUp(t, e.browser(t))
			var last string
			for _, name := range []string{"backup script", "monitoring (read only)"} {
				tok, _, err := e.toks.Create(t.Context(), name, auth.RoleViewer)
				if err != nil {
					t.Fatal(err)
				}
				last = tok.ID
			}
			c := newChrome(t, e)
			c.login()
			c.check(pages[0], pages[1], pages[2])
			if pages[0] == "tokens" {
				// The confirmation Revoke asks for.
				c.check("token-revoke", "/settings/tokens/"+last+"/revoke", "cancel")
			}
		})
	}
}
