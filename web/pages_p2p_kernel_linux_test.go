//go:build linux

package web

import (
	"log/slog"
	"os/exec"
	"strings"
	"testing"

	"github.com/edgeward/edgeward/core/links/linkstest"
	"github.com/edgeward/edgeward/hw/nft"
	"github.com/edgeward/edgeward/web/internal/webtest"
)

// TestUINetworkRealKernel drives the network page over hw/nft in a network
// namespace the test makes: the page says the kernel enforces, an address
// and a range banned through the form land in the kernel's sets, and
// lifting them from the page takes them out again.
func TestUINetworkRealKernel(t *testing.T) {
	ns, fd, _ := webtest.Netns(t, "ew-web-")
	if out, err := exec.Command("ip", "netns", "exec", ns, "nft", "list", "tables").CombinedOutput(); err != nil {
		t.Skipf("nf_tables unavailable: %v: %s", err, out)
	}
	fw, err := nft.New(nft.Options{NetNS: fd, Log: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { fw.Close() })
	e := newUIEnvWith(t, newServicesOn(t, testNodeName, linkstest.New(), fw))
	b := e.browser(t)
	e.setUp(t, b)
	table := func() string {
		t.Helper()
		out, err := exec.Command("ip", "netns", "exec", ns, "nft", "list", "table", "inet", nft.TableName).CombinedOutput()
		if err != nil {
			t.Fatalf("nft list table: %v: %s", err, out)
		}
		return string(out)
	}

	if got := b.get("/p2p").text("enforcement-state"); got != "applied" {
		t.Errorf("enforcement on the page %q, want applied", got)
	}
	for _, addr := range []string{"203.0.113.7", "198.51.100.0/24"} {
		wantRedirect(t, b.submitFrom("/p2p", "/p2p/acl", map[string]string{"address": addr, "action": "ban"}), "/p2p?done=ban")
	}
	got := table()
	for _, want := range []string{"203.0.113.7", "198.51.100.0/24"} {
		if !strings.Contains(got, want) {
			t.Errorf("the kernel table lacks %s after the page's ban:\n%s", want, got)
		}
	}
	p := b.get("/p2p")
	if !p.has("ban-row") || !strings.Contains(p.text("bans"), "198.51.100.0/24") {
		t.Errorf("the bans list does not show the range\n%s", p.body)
	}
	for _, target := range []string{"203.0.113.7", "198.51.100.0/24"} {
		wantRedirect(t, b.submitFrom("/p2p", "/p2p/lift", map[string]string{"target": target}), "/p2p?done=lift")
	}
	got = table()
	for _, gone := range []string{"203.0.113.7", "198.51.100.0/24"} {
		if strings.Contains(got, gone) {
			t.Errorf("the kernel table still holds %s after the page's lift:\n%s", gone, got)
		}
	}
}
