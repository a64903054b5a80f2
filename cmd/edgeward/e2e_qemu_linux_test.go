package main

import (
	"bufio"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// firmwareDirEnv names a directory holding the firmware builds
// (edgeward-linux-arm64, ...), as `make firmware-builds` leaves them in
// bin/. Unset, the test builds them itself.
const firmwareDirEnv = "EDGEWARD_FIRMWARE_DIR"

// qemuTarget is one router build run under qemu-user.
type qemuTarget struct {
	name   string   // suffix of the build, edgeward-linux-<name>
	env    []string // GOARCH and friends
	qemu   string   // Debian's qemu-user-static emulator
	engine string   // the store engine the build must use
	// marker is a file only that engine writes in the store directory.
	marker string
}

var qemuTargets = []qemuTarget{
	{"arm64", []string{"GOARCH=arm64"}, "qemu-aarch64-static", "badger", "MANIFEST"},
	{"armv7", []string{"GOARCH=arm", "GOARM=7"}, "qemu-arm-static", "bbolt", "edgeward.db"},
	{"mipsle", []string{"GOARCH=mipsle", "GOMIPS=softfloat"}, "qemu-mipsel-static", "bbolt", "edgeward.db"},
}

// TestFirmwareUnderQemu runs each router build under qemu-user: serve on a
// loopback port, create a peer, ban an address, stop, start again, and
// find both. It proves the 32-bit builds run on bbolt (Badger fails there)
// and logs each one's start time and RSS.
//
// qemu-user passes netlink through only for the families it translates
// (route, not netfilter), so the firewall may report itself unavailable:
// the ban is checked in the store and the API, not in the kernel. Its
// namespace is a fresh one all the same, and the WireGuard data plane is
// off (--wg-interface ""), so nothing touches the host's network.
func TestFirmwareUnderQemu(t *testing.T) {
	for _, tg := range qemuTargets {
		t.Run(tg.name, func(t *testing.T) {
			t.Parallel()
			emu, err := exec.LookPath(tg.qemu)
			if err != nil {
				t.Skipf("%s not installed (Debian package qemu-user-static; .ci/run installs it)", tg.qemu)
			}
			runUnderQemu(t, emu, firmwareBinary(t, tg), tg)
		})
	}
}

// firmwareBinary returns the target's build from firmwareDirEnv, or builds
// it with the release flags.
func firmwareBinary(t *testing.T, tg qemuTarget) string {
	t.Helper()
	name := "edgeward-linux-" + tg.name
	if dir := os.Getenv(firmwareDirEnv); dir != "" {
		p := filepath.Join(dir, name)
		if _, err := os.Stat(p); err != nil {
			t.Fatalf("%s is set but: %v (run make firmware-builds)", firmwareDirEnv, err)
		}
		return p
	}
	p := filepath.Join(t.TempDir(), name)
	cmd := exec.Command("go", "build", "-trimpath", "-ldflags", "-s -w", "-o", p, ".")
	cmd.Env = append(append(os.Environ(), "CGO_ENABLED=0", "GOOS=linux"), tg.env...)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("build %s: %v\n%s", name, err, out)
	}
	return p
}

func runUnderQemu(t *testing.T, emu, bin string, tg qemuTarget) {
	ns, dir := netns(t), t.TempDir()
	args := []string{"--netns", ns, "--wg-interface", ""}
	// Emulation is slow: a minute to start, not the usual 20 s.
	const wait = time.Minute
	began := time.Now()
	s := startBinary(t, bin, []string{emu}, wait, dir, args...)
	startup := time.Since(began)

	peer := obj(s.call("POST", "/api/peers", map[string]any{"name": "router-" + tg.name}, 200))
	peerID, _ := peer["id"].(string)
	point := "/network/points/198.51.100.7:40000"
	s.call("PATCH", point, map[string]string{"acl": "ban"}, 200)
	enforced := obj(s.call("GET", "/network/acl/status", nil, 200))["enforced"]
	rss, hwm := procStatus(t, s.cmd.Process.Pid, "VmRSS"), procStatus(t, s.cmd.Process.Pid, "VmHWM")
	stopSlow(t, s, wait)
	scenario := time.Since(began)

	if _, err := os.Stat(filepath.Join(storeDir(dir), tg.marker)); err != nil {
		t.Errorf("the %s build did not store with %s: %v", tg.name, tg.engine, err)
	}
	s = startBinary(t, bin, []string{emu}, wait, dir, args...)
	got := obj(s.call("GET", "/api/peers/"+peerID, nil, 200))
	if got["name"] != "router-"+tg.name {
		t.Errorf("peer after restart = %v, want name router-%s", got, tg.name)
	}
	if b := s.call("GET", point+"/banned", nil, 200); b != true {
		t.Errorf("%s/banned after restart = %v, want true", point, b)
	}
	stopSlow(t, s, wait)
	t.Logf("%s (%s store) under %s: serving after %v, create+ban+stop %v, VmRSS %s, VmHWM %s, firewall enforced: %v",
		tg.name, tg.engine, filepath.Base(emu), startup.Round(time.Millisecond),
		scenario.Round(time.Millisecond), rss, hwm, enforced)
}

// stopSlow sends SIGTERM and waits up to wait for a clean exit.
func stopSlow(t *testing.T, s *server, wait time.Duration) {
	t.Helper()
	if err := s.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-s.done:
		if err != nil {
			t.Fatalf("exit after SIGTERM: %v\n%s", err, s.log)
		}
	case <-time.After(wait):
		t.Fatalf("no exit within %v of SIGTERM\n%s", wait, s.log)
	}
}

// procStatus returns one field of /proc/PID/status, such as "VmRSS" →
// "23456 kB". Under qemu-user the process is the emulator, so this is the
// guest program plus qemu's translator and code cache.
func procStatus(t *testing.T, pid int, field string) string {
	t.Helper()
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if k, v, ok := strings.Cut(sc.Text(), ":"); ok && k == field {
			return strings.TrimSpace(v)
		}
	}
	t.Fatalf("no %s in /proc/%d/status", field, pid)
	return ""
}
