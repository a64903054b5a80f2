package netns

import (
	"crypto/rand"
	"encoding/hex"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestDo reads the namespace id inside and outside a namespace the test
// makes: fn sees the other namespace, the caller's thread stays home.
func TestDo(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root to create network namespaces")
	}
	var b [4]byte
	_, _ = rand.Read(b[:])
	name := "ew-netns-" + hex.EncodeToString(b[:])
	if out, err := exec.Command("ip", "netns", "add", name).CombinedOutput(); err != nil {
		t.Skipf("ip netns add: %v: %s", err, out)
	}
	t.Cleanup(func() { _ = exec.Command("ip", "netns", "del", name).Run() })
	f, err := os.Open(filepath.Join("/run/netns", name))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	self := func() string {
		l, _ := os.Readlink("/proc/thread-self/ns/net")
		return l
	}
	home := self()
	var inside string
	if err := Do(int(f.Fd()), func() error { inside = self(); return nil }); err != nil {
		t.Fatal(err)
	}
	if inside == home || !strings.HasPrefix(inside, "net:[") {
		t.Fatalf("inside %q, home %q", inside, home)
	}
	for range 20 { // no thread came back in the wrong namespace
		if got := self(); got != home {
			t.Fatalf("caller moved to %q", got)
		}
	}
	if err := Do(0, func() error { inside = self(); return nil }); err != nil || inside != home {
		t.Fatalf("Do(0) ran in %q, %v", inside, err)
	}
}
