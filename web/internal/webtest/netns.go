package webtest

import (
	"crypto/rand"
	"encoding/hex"
	"os"
	"os/exec"
	"testing"
)

// Netns makes a network namespace for a kernel test, named prefix and a
// random suffix (packages run in parallel), and removes it when the test
// ends: its name, an open descriptor of it and a runner of ip commands
// inside it. It skips without root or without ip netns.
func Netns(t *testing.T, prefix string) (name string, fd int, ip func(args ...string) []byte) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("needs root to create a network namespace")
	}
	var b [4]byte
	_, _ = rand.Read(b[:])
	name = prefix + hex.EncodeToString(b[:])
	if out, err := exec.Command("ip", "netns", "add", name).CombinedOutput(); err != nil {
		t.Skipf("ip netns add: %v: %s", err, out)
	}
	t.Cleanup(func() { _ = exec.Command("ip", "netns", "del", name).Run() })
	f, err := os.Open("/run/netns/" + name)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	ip = func(args ...string) []byte {
		t.Helper()
		out, err := exec.Command("ip", append([]string{"-n", name}, args...)...).CombinedOutput()
		if err != nil {
			t.Fatalf("ip %v: %v: %s", args, err, out)
		}
		return out
	}
	return name, int(f.Fd()), ip
}
