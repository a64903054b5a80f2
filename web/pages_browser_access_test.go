package web

import (
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/edgeward/edgeward/core/overlay"
)

// TestUIBrowserAccessLayout checks the peers, a peer's, the groups and
// the policies pages at laptop and phone size, light and dark (c.check),
// with a table full enough to overflow a phone: several peers, one with a
// long name, connected, waiting for approval and never seen; a group with
// networks; policies with one and two rules. On the phone every row's
// status and Delete stay inside the screen, and the peer's Advanced fold
// holds the agent's settings until it is opened.
func TestUIBrowserAccessLayout(t *testing.T) {
	e := newUIEnv(t)
	e.rebuild(withGateway)
	e.setUp(t, e.browser(t))
	ctx := t.Context()

	laptop, err := e.ov.CreatePeer(ctx, overlay.NewPeer{Name: "laptop", KeepKey: true})
	if err != nil {
		t.Fatal(err)
	}
	long := e.addPeer(t, "conference-room-display-second-floor-east-wing")
	phone := e.addPeer(t, "phone")
	guest := e.addPeer(t, "guest tablet")
	if _, err := e.ov.UpdatePeer(ctx, guest.ID, overlay.PeerUpdate{Name: "guest tablet", ApprovalRequired: new(true)}); err != nil {
		t.Fatal(err)
	}
	hs := time.Now().Add(-2 * time.Minute)
	e.observe(t, laptop.PublicKey, true, netip.MustParseAddrPort("198.51.100.7:41000"), hs, 1536, 3<<20)
	e.observe(t, long.PublicKey, true, netip.MustParseAddrPort("[2001:db8:1234:5678::42]:51820"), hs, 5<<30, 700<<20)
	ops := e.addGroup(t, "ops", laptop.ID, phone.ID)
	if _, err := e.ov.SaveGroup(ctx, ops.ID, overlay.GroupSpec{Name: "ops", Peers: []string{laptop.ID, phone.ID},
		Resources: []netip.Prefix{netip.MustParsePrefix("192.168.1.0/24"), netip.MustParsePrefix("10.20.0.0/16")}}); err != nil {
		t.Fatal(err)
	}
	all := e.groupAll(t)
	reach := e.addPolicy(t, "ops reach the office", ops.ID, all.ID)
	if _, err := e.ov.SavePolicy(ctx, "", overlay.Policy{Name: "two rules", Description: "kept in sync by a script",
		Enabled: false, Rules: []overlay.Rule{
			{Enabled: true, Action: "accept", Protocol: overlay.ProtoAll, Sources: []string{all.ID}, Destinations: []string{ops.ID}},
			{Enabled: false, Action: "accept", Protocol: overlay.ProtoUDP, PortRanges: []overlay.PortRange{{Start: 8000, End: 8080}},
				Sources: []string{ops.ID}, Destinations: []string{ops.ID}}}}); err != nil {
		t.Fatal(err)
	}

	c := newChrome(t, e)
	c.login()
	c.check("peers", "/peers", "peers-table")
	c.check("peer", "/peers/"+laptop.ID, "peer-facts")
	c.check("groups", "/groups", "groups-table")
	c.check("policies", "/policies", "policies-table")
	// The pages behind the rows' buttons: editing, and the confirmation a
	// delete asks for.
	c.check("group-edit", "/groups/"+ops.ID+"/edit", "group-form")
	c.check("policy-edit", "/policies/"+reach.ID+"/edit", "policy-form")
	c.check("peer-delete", "/peers/"+phone.ID+"/delete", "cancel")

	// On a phone every row's status badge and Delete button are on screen.
	c.run("phone size", chromedp.EmulateViewport(390, 844), chromedp.Navigate(c.base+"/peers"),
		chromedp.WaitVisible(testSel("peers-table")))
	if got := c.eval(`(() => { const out = [];
		for (const row of document.querySelectorAll("[data-testid=peer-row]")) {
			for (const id of ["peer-connected", "peer-delete"]) {
				const r = row.querySelector("[data-testid=" + id + "]").getBoundingClientRect();
				if (r.width === 0 || r.left < 0 || r.right > innerWidth) out.push(id + " " + JSON.stringify(r));
			}
		}
		return out.join("; ") || "all on screen" })()`); got != "all on screen" {
		t.Errorf("off the phone's screen: %s", got)
	}
	if got := c.eval(`[...document.querySelectorAll("[data-testid=peer-connected]")].map(b => b.textContent).join("|")`); got !=
		"Connected|Waiting for approval|Connected|Not connected" {
		t.Errorf("status badges %q", got)
	}

	// The agent's settings wait in the closed fold; opening it shows them.
	c.run("desktop size", chromedp.EmulateViewport(1280, 800), chromedp.Navigate(c.base+"/peers/"+laptop.ID),
		chromedp.WaitVisible(testSel("edit-form")))
	agent := `["ssh_enabled", "peer-login-expiration", "peer-inactivity-expiration"].map(id =>
		document.querySelector("[data-testid=" + id + "]").checkVisibility() ? id + " shown" : id + " hidden").join(", ")`
	if got := c.eval(agent); got != "ssh_enabled hidden, peer-login-expiration hidden, peer-inactivity-expiration hidden" {
		t.Errorf("with the fold closed: %s", got)
	}
	c.run("open Advanced", chromedp.Click(`[data-testid="advanced"] > summary`), chromedp.WaitVisible(testSel("ssh_enabled")))
	if got := c.eval(agent); got != "ssh_enabled shown, peer-login-expiration shown, peer-inactivity-expiration shown" {
		t.Errorf("with the fold open: %s", got)
	}
	if got := c.eval(`String(document.querySelector("[data-testid=advanced]").closest("form").dataset.testid)`); got != "edit-form" {
		t.Errorf("the fold is in %q, want the edit form", got)
	}
	// Download .conf beside the QR code answers with the file.
	if got := c.eval(`(() => { const a = document.querySelector("[data-testid=config-download]");
		return fetch(a.href).then(r => r.status + " " + r.headers.get("content-type") + " " +
		r.headers.get("content-disposition") + " " + a.getAttribute("download")) })()`); got !=
		`200 text/plain; charset=utf-8 attachment; filename="laptop.conf" laptop.conf` {
		t.Errorf("Download .conf answers %q", got)
	}
	if n := strings.Count(c.eval(`document.querySelector("[data-testid=config-text]").textContent`), "PrivateKey = "); n != 1 {
		t.Errorf("the copy target holds %d private keys, want 1", n)
	}
}
