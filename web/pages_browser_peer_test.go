package web

import (
	"net/netip"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/edgeward/edgeward/core/overlay"
)

// TestUIBrowserPeer drives one peer's page in headless Chromium: a peer
// created on /peers shows its config with a QR code, its name links to its
// page, which offers the kept config as a download and a QR code, follows
// the peer's connection live, renames it, and a debug-bundle job turns
// from pending to succeeded by htmx polling, without a reload, and
// downloads; at last the kept key is forgotten.
func TestUIBrowserPeer(t *testing.T) {
	e := newUIEnv(t)
	e.setUp(t, e.browser(t))
	c := newChrome(t, e)
	c.login()

	c.open("/peers", "peer-form")
	c.run("add a peer",
		chromedp.SendKeys(testSel("name"), "laptop"),
		chromedp.Click(testSel("submit")),
		chromedp.WaitVisible(testSel("client-qr")))
	// The code is drawn: a square of real size on the page.
	if got := c.eval(`(() => { const r = document.querySelector("[data-testid=client-qr]").getBoundingClientRect();
		return r.width > 100 && r.width === r.height ? "square" : r.width + "x" + r.height })()`); got != "square" {
		t.Errorf("QR code box %s, want a square over 100px", got)
	}
	c.shot("10-peer-created")
	// The kept config downloads from the peer's route, named after it.
	if got := c.eval(`(() => { const a = document.querySelector("[data-testid=created-download]");
		return fetch(a.href).then(r => r.status + " " + r.headers.get("content-type") + " " + a.getAttribute("download") + " " +
		r.headers.get("content-disposition")) })()`); got != `200 text/plain; charset=utf-8 laptop.conf attachment; filename="laptop.conf"` {
		t.Errorf("Download .conf of the new peer answers %q", got)
	}

	peers := e.ov.Peers(overlay.Filter{Name: "laptop"})
	if len(peers) != 1 {
		t.Fatalf("%d peers named laptop", len(peers))
	}
	path := "/peers/" + peers[0].ID
	c.run("open the peer through the table", chromedp.Click(testSel("peer-link")), chromedp.WaitVisible(testSel("peer-facts")))
	if got := c.location(); got != path {
		t.Errorf("the link led to %s, want %s", got, path)
	}
	if got := c.text("peer-ip"); got != peers[0].IP.String() {
		t.Errorf("peer IP %q, want %s", got, peers[0].IP)
	}

	// The box to keep the key was checked by default: the page offers the
	// config again, as a download and a QR code next to it.
	c.run("see the kept config", chromedp.WaitVisible(testSel("config-download")), chromedp.WaitVisible(testSel("config-qr")))
	if got := c.eval(`(() => { const a = document.querySelector("[data-testid=config-download]").getBoundingClientRect();
		const q = document.querySelector("[data-testid=config-qr]").getBoundingClientRect();
		return q.width > 100 && q.width === q.height && a.left > q.right && a.top < q.bottom ? "beside" : JSON.stringify([a, q]) })()`); got != "beside" {
		t.Errorf("QR code not a square beside the download link: %s", got)
	}
	kc, kept, err := e.ov.Kept(t.Context(), peers[0].ID)
	key := kc.PrivateKey
	if err != nil || !kept {
		t.Fatalf("the key is not kept: %v", err)
	}
	if got := c.eval(`fetch(document.querySelector("[data-testid=config-download]").href).then(async r =>
		r.status + " " + r.headers.get("content-type") + " " + r.headers.get("content-disposition") + " " +
		(await r.text()).includes("PrivateKey = ` + key + `"))`); got !=
		`200 text/plain; charset=utf-8 attachment; filename="`+peers[0].DNSLabel+`.conf" true` {
		t.Errorf("download answers %q", got)
	}
	// The connection section follows the data plane without a reload.
	c.eval(`window.__sameConn = "yes"`)
	if err := e.ov.Observe(t.Context(), []overlay.Observation{{PublicKey: peers[0].PublicKey, Connected: true,
		Endpoint: netip.MustParseAddrPort("198.51.100.7:41000"), LastHandshake: time.Now(), LastSeen: time.Now(),
		RxBytes: 42 << 20, TxBytes: 7 << 10}}); err != nil {
		t.Fatal(err)
	}
	c.run("see the peer connect", chromedp.Poll[chromedp.Void](
		`document.querySelector("[data-testid=peer-connected]").textContent === "Connected"`, chromedp.WithPollingTimeout(15*time.Second)))
	if got := c.eval(`window.__sameConn + " " + document.querySelector("[data-testid=peer-endpoint]").textContent + " " +
		document.querySelector("[data-testid=peer-rx]").textContent`); got != "yes 198.51.100.7:41000 42.0 MiB" {
		t.Errorf("same page, endpoint, received = %q", got)
	}
	c.shot("12-peer-connection")

	c.run("rename the peer",
		chromedp.SetValue(testSel("name"), "work laptop"),
		chromedp.Click(testSel("save")),
		chromedp.WaitVisible(testSel("saved")))
	if name, title := c.text("peer-name"), c.text("title"); name != "work laptop" || title != "work laptop" {
		t.Errorf("after the rename: name %q, title %q", name, title)
	}
	if got, _ := e.ov.Peer(peers[0].ID); got.Name != "work laptop" {
		t.Errorf("core has name %q", got.Name)
	}

	// The worker is stopped, so the job waits as pending and the list polls.
	c.run("create a debug bundle",
		chromedp.Click(testSel("anonymize")),
		chromedp.Click(testSel("job-submit")),
		chromedp.WaitVisible(testSel("job-row")))
	if got := c.text("job-status"); got != "Working" {
		t.Fatalf("new job %q, want Working", got)
	}
	// A reload would drop this mark.
	c.eval(`window.__samePage = "yes"`)
	e.startBundleJobs(t)
	c.run("wait for the job to finish",
		chromedp.Poll[chromedp.Void](`document.querySelector("[data-testid=job-status]").textContent === "Ready"`),
		chromedp.WaitVisible(testSel("job-download")))
	if got := c.eval(`String(window.__samePage) + " " + String(document.querySelector("[data-testid=jobs]").hasAttribute("hx-trigger"))`); got != "yes false" {
		t.Errorf("same page, still polling = %q; want %q", got, "yes false")
	}
	if got := c.eval(`fetch(document.querySelector("[data-testid=job-download]").href)
		.then(r => r.status + " " + r.headers.get("content-type"))`); got != "200 application/gzip" {
		t.Errorf("download answers %q, want 200 application/gzip", got)
	}
	c.shot("11-peer")

	// Forget the key: a confirmation, then the page says it is gone.
	c.run("forget the key", chromedp.Click(testSel("forget-key")), chromedp.WaitVisible(testSel("forget-key-form")))
	c.shot("13-peer-forget-key")
	c.run("confirm", chromedp.Click(testSel("confirm-forget-key")), chromedp.WaitVisible(testSel("key-forgotten")))
	if _, kept, _ := e.ov.Kept(t.Context(), peers[0].ID); kept {
		t.Error("the key is still kept")
	}
	if got := c.eval(`String(document.querySelectorAll("[data-testid=config-download], [data-testid=config-qr]").length)`); got != "0" {
		t.Errorf("%s download links or QR codes after forgetting", got)
	}
	t.Logf("screenshots in %s", c.shots)
}
