//go:build linux

package nic

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"os"
	"os/exec"
	"testing"
)

// newNetns creates a network namespace with a veth pair in it and removes
// it when the test ends. The host's own namespace is never touched.
func newNetns(t *testing.T) string {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("needs root to create network namespaces")
	}
	var b [4]byte
	_, _ = rand.Read(b[:])
	ns := "ew-nic-" + hex.EncodeToString(b[:])
	if out, err := exec.Command("ip", "netns", "add", ns).CombinedOutput(); err != nil {
		t.Skipf("ip netns add: %v: %s", err, out)
	}
	t.Cleanup(func() { _ = exec.Command("ip", "netns", "del", ns).Run() })
	for _, args := range [][]string{
		{"link", "add", "ewa", "mtu", "1400", "type", "veth", "peer", "name", "ewb"},
		{"addr", "add", "192.0.2.1/24", "dev", "ewa"},
		{"link", "set", "ewa", "up"},
	} {
		if out, err := exec.Command("ip", append([]string{"-n", ns}, args...)...).CombinedOutput(); err != nil {
			t.Fatalf("ip %v: %v: %s", args, err, out)
		}
	}
	return ns
}

// TestHelperSnapshot prints Snapshot as JSON when run inside a namespace
// by TestSnapshotMatchesIP.
func TestHelperSnapshot(t *testing.T) {
	if os.Getenv("EDGEWARD_NIC_HELPER") != "1" {
		t.Skip("helper for TestSnapshotMatchesIP")
	}
	n, err := New(Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer n.Close()
	links, err := n.Snapshot(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	_ = json.NewEncoder(os.Stdout).Encode(links)
}

// TestSnapshotMatchesIP compares Snapshot with what iproute2 reports for
// the same links in a namespace of the test's own.
func TestSnapshotMatchesIP(t *testing.T) {
	ns := newNetns(t)
	out, err := exec.Command("ip", "-n", ns, "-j", "link").Output()
	if err != nil {
		t.Fatalf("ip -j link: %v", err)
	}
	var want []struct {
		Ifindex   int    `json:"ifindex"`
		Ifname    string `json:"ifname"`
		MTU       int    `json:"mtu"`
		Address   string `json:"address"`
		Operstate string `json:"operstate"`
	}
	if err := json.Unmarshal(out, &want); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("ip", "netns", "exec", ns, os.Args[0], "-test.run=^TestHelperSnapshot$")
	cmd.Env = append(os.Environ(), "EDGEWARD_NIC_HELPER=1")
	raw, err := cmd.Output()
	if err != nil {
		t.Fatalf("helper: %v", err)
	}
	var got []LinkSnapshot
	// Decode reads the first JSON value and ignores the PASS trailer.
	dec := json.NewDecoder(bytes.NewReader(raw))
	if err := dec.Decode(&got); err != nil {
		t.Fatalf("decode helper output %q: %v", raw, err)
	}
	if len(got) != len(want) {
		t.Fatalf("snapshot has %d links, ip has %d", len(got), len(want))
	}
	byName := map[string]LinkSnapshot{}
	for _, l := range got {
		byName[l.Name] = l
	}
	for _, w := range want {
		g := byName[w.Ifname]
		if g.Index != w.Ifindex || g.MTU != w.MTU || g.MAC != w.Address && w.Address != "00:00:00:00:00:00" {
			t.Errorf("%s: got index %d mtu %d mac %q, want %d %d %q", w.Ifname, g.Index, g.MTU, g.MAC, w.Ifindex, w.MTU, w.Address)
		}
		if g.OperState != map[string]string{"UP": "up", "DOWN": "down", "LOWERLAYERDOWN": "lowerlayerdown", "UNKNOWN": "unknown"}[w.Operstate] {
			t.Errorf("%s: operstate %q, ip says %q", w.Ifname, g.OperState, w.Operstate)
		}
	}
	if a := byName["ewa"].Addresses; len(a) != 1 || a[0] != "192.0.2.1/24" {
		t.Errorf("ewa addresses = %v, want [192.0.2.1/24]", a)
	}
}
