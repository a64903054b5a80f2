package image

import (
	"slices"

	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"aead.dev/minisign"
	"github.com/edgeward/edgeward/firmware/slots/slotstest"
)

// kernelDir is where fetch-kernel.sh unpacks the kernel; .ci/run fetches
// it before the tests, and EDGEWARD_IMAGE_KERNEL may point elsewhere.
func kernelDir(t *testing.T) string {
	dir := os.Getenv("EDGEWARD_IMAGE_KERNEL")
	if dir == "" {
		dir = "build/kernel"
	}
	if _, err := os.Stat(filepath.Join(dir, ".done")); err != nil {
		t.Skipf("no kernel in %s: run firmware/image/fetch-kernel.sh (make firmware-image does)", dir)
	}
	return dir
}

// buildImage builds init, edgeward and the initramfs into dir.
func buildImage(t *testing.T, dir, kernel string) string {
	t.Helper()
	static := append(os.Environ(), "CGO_ENABLED=0", "GOOS=linux", "GOARCH=amd64")
	for _, b := range []struct{ out, pkg, version string }{
		{"init", "./init", ""},
		{"edgeward", "../../cmd/edgeward", "image-test"},
		{"mkimage", "./mkimage", ""},
	} {
		ld := "-s -w"
		if b.version != "" {
			ld += " -X main.version=" + b.version
		}
		cmd := exec.Command("go", "build", "-trimpath", "-ldflags", ld, "-o", filepath.Join(dir, b.out), b.pkg)
		cmd.Env = static
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("build %s: %v\n%s", b.pkg, err, out)
		}
	}
	initramfs := filepath.Join(dir, "initramfs.cpio.gz")
	run(t, filepath.Join(dir, "mkimage"), "-kernel", kernel, "-init", filepath.Join(dir, "init"),
		"-edgeward", filepath.Join(dir, "edgeward"), "-out", initramfs)
	return initramfs
}

func run(t *testing.T, name string, args ...string) string {
	t.Helper()
	out, err := exec.Command(name, args...).CombinedOutput()
	if err != nil {
		t.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, out)
	}
	return string(out)
}

// vm is one boot of the image.
type vm struct {
	cmd  *exec.Cmd
	port int
	mu   sync.Mutex
	log  bytes.Buffer
	done chan struct{}
}

func (v *vm) Write(p []byte) (int, error) {
	v.mu.Lock()
	defer v.mu.Unlock()
	return v.log.Write(p)
}

func (v *vm) console() string {
	v.mu.Lock()
	defer v.mu.Unlock()
	return v.log.String()
}

// boot starts qemu on the image with disk as its data disk and the
// guest's API port forwarded to a free loopback port. The user-mode
// network is restricted: the guest reaches nothing outside qemu.
func boot(t *testing.T, kernel, initramfs, disk string) *vm {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	v := &vm{port: l.Addr().(*net.TCPAddr).Port, done: make(chan struct{})}
	l.Close()
	// TCG, not KVM: CI machines have no /dev/kvm, and the boot takes
	// seconds either way.
	v.cmd = exec.Command("qemu-system-x86_64", "-accel", "tcg", "-m", "512", "-smp", "1",
		"-nographic", "-no-reboot", "-kernel", filepath.Join(kernel, "vmlinuz"), "-initrd", initramfs,
		"-append", "console=ttyS0 panic=-1 quiet",
		"-drive", "file="+disk+",format=raw,if=virtio",
		"-netdev", fmt.Sprintf("user,id=n0,restrict=on,hostfwd=tcp:127.0.0.1:%d-:8080", v.port),
		"-device", "virtio-net-pci,netdev=n0")
	v.cmd.Stdout, v.cmd.Stderr = v, v
	if err := v.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { _ = v.cmd.Wait(); close(v.done) }()
	t.Cleanup(v.powerCut)
	return v
}

// powerCut ends the VM the way a pulled plug does: no shutdown, so what
// the next boot finds is what edgeward made durable.
func (v *vm) powerCut() {
	_ = v.cmd.Process.Kill()
	<-v.done
}

// call makes an API request with token and decodes a JSON answer into out.
func (v *vm) call(t *testing.T, method, path, token string, body any, out any) int {
	t.Helper()
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			t.Fatal(err)
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, fmt.Sprintf("http://127.0.0.1:%d%s", v.port, path), rd)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Token "+token)
	req.Header.Set("Content-Type", "application/json")
	res, err := probeClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v\nconsole:\n%s", method, path, err, v.console())
	}
	defer res.Body.Close()
	raw, _ := io.ReadAll(res.Body)
	if out != nil {
		if err := json.Unmarshal(raw, out); err != nil {
			t.Fatalf("%s %s: %d %s: %v", method, path, res.StatusCode, raw, err)
		}
	}
	return res.StatusCode
}

// probeClient opens a new connection for every request, so a ban is
// seen by the next request rather than hidden by a kept-alive one.
var probeClient = &http.Client{Timeout: 3 * time.Second, Transport: &http.Transport{DisableKeepAlives: true}}

// reachable reports whether the API answers a request now.
func (v *vm) reachable(token string) bool {
	req, _ := http.NewRequest("GET", fmt.Sprintf("http://127.0.0.1:%d/network/acl/status", v.port), nil)
	req.Header.Set("Authorization", "Token "+token)
	res, err := probeClient.Do(req)
	if err != nil {
		return false
	}
	res.Body.Close()
	return res.StatusCode == http.StatusOK
}

// waitUp waits for the API and returns how long the boot took.
func (v *vm) waitUp(t *testing.T, token string, start time.Time) time.Duration {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	for !v.reachable(token) {
		select {
		case <-v.done:
			t.Fatalf("the VM stopped before its API answered:\n%s", v.console())
		case <-ctx.Done():
			t.Fatalf("the API did not answer within 3 minutes:\n%s", v.console())
		case <-time.After(500 * time.Millisecond):
		}
	}
	return time.Since(start)
}

type aclStatus struct {
	Enforced bool `json:"enforced"`
	Bans     int  `json:"bans"`
}

// TestImageBoots boots the image, makes a peer and a ban, proves the ban
// is enforced by the VM's kernel (a probe through the forwarded port is
// dropped while its source is banned), then cuts the power, boots the same
// disk again and finds the state kept and enforced.
func TestImageBoots(t *testing.T) {
	if _, err := exec.LookPath("qemu-system-x86_64"); err != nil {
		t.Skip("qemu-system-x86_64 is not installed (Debian package qemu-system-x86; .ci/run installs it)")
	}
	if _, err := exec.LookPath("mkfs.ext4"); err != nil {
		t.Skip("mkfs.ext4 is not installed (Debian package e2fsprogs)")
	}
	kernel := kernelDir(t)
	dir := t.TempDir()
	initramfs := buildImage(t, dir, kernel)

	// The data disk: ext4 holding a store with one admin token, as a
	// provisioning step would leave it.
	seed := filepath.Join(dir, "seed")
	out, err := exec.Command(filepath.Join(dir, "edgeward"), "token", "create", "--data", filepath.Join(seed, "edgeward"),
		"--name", "ci", "--role", "admin").Output()
	token := strings.TrimSpace(string(out))
	if err != nil || !strings.HasPrefix(token, "ewt_") {
		t.Fatalf("token create: %v: %q", err, out)
	}
	// The update key and the flag that names it; the update test below
	// signs with the private half.
	pub, priv := slotstest.Key(t)
	slotstest.WriteKeyFile(t, filepath.Join(seed, "update.pub"), pub)
	if err := os.WriteFile(filepath.Join(seed, "flags"), []byte("--update-key=/data/update.pub\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	disk := filepath.Join(dir, "disk.img")
	if err := os.WriteFile(disk, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Truncate(disk, 256<<20); err != nil {
		t.Fatal(err)
	}
	run(t, "mkfs.ext4", "-q", "-F", "-d", seed, disk)

	start := time.Now()
	v := boot(t, kernel, initramfs, disk)
	t.Logf("first boot: API up after %s", v.waitUp(t, token, start).Round(100*time.Millisecond))

	var peer struct{ ID string }
	if code := v.call(t, "POST", "/api/peers", token, map[string]any{"name": "laptop",
		"wg_pub_key": "xTIBA5rboUvnH4htodjb6e697QjLERt1NAB4mZqp8Dg="}, &peer); code != 200 || peer.ID == "" {
		t.Fatalf("create peer: %d %+v", code, peer)
	}
	if code := v.call(t, "PATCH", "/network/points/203.0.113.7:9732", token, map[string]string{"acl": "ban"}, nil); code != 200 {
		t.Fatalf("ban: %d", code)
	}
	var st aclStatus
	if v.call(t, "GET", "/network/acl/status", token, nil, &st); !st.Enforced || st.Bans != 1 {
		t.Fatalf("acl status %+v, want one ban, enforced", st)
	}

	// Inside the VM every forwarded connection comes from slirp's host
	// address 10.0.2.2: banned for a few seconds, the API must become
	// unreachable, then reachable again when the ban expires. It is the
	// requester's own address, which the box refuses to ban unless forced.
	var refused []struct{ ID string }
	if code := v.call(t, "POST", "/network/acl/bulk", token, map[string]any{"acl": "ban",
		"entries": []string{"10.0.2.2"}, "ttl_seconds": 6}, &refused); code != 400 {
		t.Fatalf("ban of the requester's own address: %d %+v, want 400", code, refused)
	}
	var bulk struct{ Enforced bool }
	if code := v.call(t, "POST", "/network/acl/bulk", token, map[string]any{"acl": "ban",
		"entries": []string{"10.0.2.2"}, "ttl_seconds": 6, "force": true}, &bulk); code != 200 || !bulk.Enforced {
		t.Fatalf("timed ban: %d %+v", code, bulk)
	}
	if v.reachable(token) {
		t.Fatal("the API answered a banned source: the ban is not enforced in the VM's kernel")
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	for !v.reachable(token) {
		select {
		case <-ctx.Done():
			t.Fatalf("the API stayed unreachable after the ban expired:\n%s", v.console())
		case <-time.After(500 * time.Millisecond):
		}
	}

	v.powerCut()
	start = time.Now()
	v = boot(t, kernel, initramfs, disk)
	t.Logf("second boot: API up after %s", v.waitUp(t, token, start).Round(100*time.Millisecond))
	var peers []struct{ ID, Name string }
	if v.call(t, "GET", "/api/peers", token, nil, &peers); len(peers) != 1 || peers[0].ID != peer.ID {
		t.Fatalf("peers after the power cut: %+v, want %s", peers, peer.ID)
	}
	if v.call(t, "GET", "/network/acl/status", token, nil, &st); !st.Enforced || st.Bans != 1 {
		t.Fatalf("acl status after the power cut %+v, want the permanent ban, enforced", st)
	}

	testUpdates(t, v, dir, token, priv)
}

// updateState is GET /api/system/update.
type updateState struct {
	Version    string `json:"version"`
	Running    string `json:"running_slot"`
	Active     string `json:"active_slot"`
	Trial      string `json:"trial_slot"`
	RolledBack string `json:"rolled_back"`
}

// testUpdates updates the booted image: a tampered upload is refused and
// changes nothing, a good version is started and kept, and a version that
// exits at start is rolled back by the launcher and the image's init.
func testUpdates(t *testing.T, v *vm, dir, token string, key minisign.PrivateKey) {
	good := filepath.Join(dir, "edgeward-update")
	build(t, good, "../../cmd/edgeward", "-s -w -X main.version=image-update-2")
	// A version that answers "version" (the upload runs it once to see it
	// runs on this CPU) and fails at start: the image has no shell, so it
	// is a program of its own.
	badSrc := filepath.Join(dir, "bad", "main.go")
	if err := os.MkdirAll(filepath.Dir(badSrc), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(badSrc, []byte(`package main

import ("fmt"; "os")

func main() {
	if len(os.Args) > 1 && os.Args[1] == "version" {
		fmt.Println("edgeward image-update-bad")
		return
	}
	fmt.Println("this version cannot start")
	os.Exit(3)
}
`), 0o644); err != nil {
		t.Fatal(err)
	}
	bad := filepath.Join(dir, "edgeward-bad")
	build(t, bad, badSrc, "-s -w")
	goodBin, err := os.ReadFile(good)
	if err != nil {
		t.Fatal(err)
	}
	badBin, err := os.ReadFile(bad)
	if err != nil {
		t.Fatal(err)
	}

	tampered := slices.Clone(goodBin)
	tampered[len(tampered)/2] ^= 0xff
	if code := v.upload(t, token, tampered, slotstest.Sign(t, key, goodBin)); code < 400 || code >= 500 {
		t.Fatalf("tampered update: %d, want a 4xx refusal", code)
	}
	var st updateState
	if v.call(t, "GET", "/api/system/update", token, nil, &st); st.Trial != "" || st.Active != "" || st.Version != "image-test" {
		t.Fatalf("after the tampered upload: %+v, want nothing changed", st)
	}

	start := time.Now()
	if code := v.upload(t, token, goodBin, slotstest.Sign(t, key, goodBin)); code != 202 {
		t.Fatalf("good update: %d", code)
	}
	st = v.waitUpdate(t, token, "the good update committed", func(s updateState) bool {
		return s.Version == "image-update-2" && s.Trial == "" && s.Active != "" && s.Running == s.Active
	})
	t.Logf("good update: uploaded, started and committed in %s (slot %s)", time.Since(start).Round(100*time.Millisecond), st.Active)
	kept := st.Active

	start = time.Now()
	if code := v.upload(t, token, badBin, slotstest.Sign(t, key, badBin)); code != 202 {
		t.Fatalf("bad update: %d", code)
	}
	st = v.waitUpdate(t, token, "the bad update rolled back", func(s updateState) bool {
		return s.RolledBack != "" && s.Trial == "" && s.Version == "image-update-2" && s.Running == kept
	})
	t.Logf("bad update rolled back in %s: %s", time.Since(start).Round(100*time.Millisecond), st.RolledBack)
	var peers []struct{ ID string }
	if v.call(t, "GET", "/api/peers", token, nil, &peers); len(peers) != 1 {
		t.Fatalf("peers after the updates: %+v", peers)
	}
}

// build builds a static amd64 binary of pkg (a package or a file) to out.
func build(t *testing.T, out, pkg, ldflags string) {
	t.Helper()
	cmd := exec.Command("go", "build", "-trimpath", "-ldflags", ldflags, "-o", out, pkg)
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS=linux", "GOARCH=amd64")
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("build %s: %v\n%s", pkg, err, b)
	}
}

// upload posts an update with its signature in X-Signature.
func (v *vm) upload(t *testing.T, token string, file, sig []byte) int {
	t.Helper()
	req, err := http.NewRequest("POST", fmt.Sprintf("http://127.0.0.1:%d/api/system/update", v.port), bytes.NewReader(file))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Token "+token)
	req.Header.Set("Content-Type", "application/octet-stream")
	req.Header.Set("X-Signature", strings.ReplaceAll(strings.TrimSpace(string(sig)), "\n", `\n`))
	res, err := uploadClient.Do(req)
	if err != nil {
		t.Fatalf("upload: %v\nconsole:\n%s", err, v.console())
	}
	defer res.Body.Close()
	body, _ := io.ReadAll(res.Body)
	t.Logf("upload of %d bytes: %d %s", len(file), res.StatusCode, apiShorten(body))
	return res.StatusCode
}

var uploadClient = &http.Client{Timeout: 2 * time.Minute, Transport: &http.Transport{DisableKeepAlives: true}}

func apiShorten(b []byte) string {
	if len(b) > 300 {
		return string(b[:300]) + "…"
	}
	return string(b)
}

// waitUpdate polls the update state (the box restarts between versions,
// so failed requests are retried) until cond holds.
func (v *vm) waitUpdate(t *testing.T, token, what string, cond func(updateState) bool) updateState {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	var last updateState
	for {
		req, _ := http.NewRequest("GET", fmt.Sprintf("http://127.0.0.1:%d/api/system/update", v.port), nil)
		req.Header.Set("Authorization", "Token "+token)
		if res, err := probeClient.Do(req); err == nil {
			var st updateState
			if json.NewDecoder(res.Body).Decode(&st) == nil && res.StatusCode == 200 {
				last = st
				if cond(st) {
					res.Body.Close()
					return st
				}
			}
			res.Body.Close()
		}
		select {
		case <-ctx.Done():
			t.Fatalf("%s: never happened; last state %+v\nconsole:\n%s", what, last, v.console())
		case <-time.After(time.Second):
		}
	}
}
