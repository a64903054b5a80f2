//go:build linux

package nic

import (
	"crypto/rand"
	"encoding/hex"
	"os"
	"os/exec"
	"slices"
	"testing"

	"github.com/edgeward/edgeward/core/links"
)

// TestLinksWithoutRoutes reads the links of a namespace whose main routing
// table was never created (no address, no route): the kernel answers the
// route dump with "FIB table does not exist", which means no default
// routes, not a failure.
func TestLinksWithoutRoutes(t *testing.T) {
	needRoot(t)
	var b [4]byte
	_, _ = rand.Read(b[:])
	ns := &testNS{name: "ew-nic-" + hex.EncodeToString(b[:])}
	run(t, "ip", "netns", "add", ns.name)
	t.Cleanup(func() { _ = exec.Command("ip", "netns", "del", ns.name).Run() })
	f, err := os.Open("/run/netns/" + ns.name)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = f.Close() })
	ns.fd = int(f.Fd())
	// Nothing up, no address: not even the local routes of lo exist.
	ns.ip(t, "link", "add", "ewq", "type", "veth", "peer", "name", "ewr")
	got, err := ns.nic(t).Links(ctxT(t))
	if err != nil {
		t.Fatalf("Links: %v", err)
	}
	if !slices.ContainsFunc(got, func(l links.Link) bool { return l.Name == "ewq" }) {
		t.Fatalf("ewq not among %d links", len(got))
	}
	for _, l := range got {
		if l.GatewayV4.IsValid() || l.GatewayV6.IsValid() {
			t.Errorf("%s has a gateway in a namespace without routes", l.Name)
		}
	}
}
