package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestCLI checks the commands besides serve: version, token create while
// the server is stopped, and the store refusing a second process.
func TestCLI(t *testing.T) {
	out, err := exec.Command(binary, "version").Output()
	if err != nil || !strings.HasPrefix(string(out), "edgeward ") {
		t.Fatalf("version: %q, %v", out, err)
	}
	if out, err := exec.Command(binary, "frobnicate").CombinedOutput(); err == nil || !strings.Contains(string(out), "usage") {
		t.Fatalf("unknown command: %q, %v", out, err)
	}
	dir := t.TempDir()
	s := start(t, dir)
	// While it runs, the store belongs to it.
	out, err = exec.Command(binary, "token", "create", "--data", dir, "--name", "ci").CombinedOutput()
	if err == nil || !strings.Contains(string(out), "in use") {
		t.Fatalf("token create while serving: %q, %v", out, err)
	}
	s.stopGracefully(t)

	cmd := exec.Command(binary, "token", "create", "--data", dir, "--name", "ci", "--role", "viewer")
	var stderr strings.Builder
	cmd.Stderr = &stderr
	raw, err := cmd.Output()
	if err != nil {
		t.Fatalf("token create: %v: %s", err, stderr.String())
	}
	viewer := strings.TrimSpace(string(raw))
	if !strings.HasPrefix(viewer, "ewt_") || strings.Contains(stderr.String(), viewer) {
		t.Fatalf("token create printed %q, stderr %q", viewer, stderr.String())
	}
	if out, err := exec.Command(binary, "token", "create", "--data", dir, "--name", "x", "--role", "root").CombinedOutput(); err == nil {
		t.Fatalf("bad role accepted: %q", out)
	}

	s = start(t, dir)
	s.token = viewer
	s.call("GET", "/api/peers", nil, 200)
	s.call("POST", "/api/peers", map[string]any{"name": "nope"}, 403)
	s.stopGracefully(t)

	// A lost admin password: reset while stopped, and the next start
	// writes a fresh setup code (the first one was written at first start).
	first, err := os.ReadFile(filepath.Join(dir, "setup.code"))
	if err != nil {
		t.Fatalf("setup code of the first start: %v", err)
	}
	if out, err := exec.Command(binary, "admin", "reset", "--data", dir).CombinedOutput(); err != nil {
		t.Fatalf("admin reset: %v: %s", err, out)
	}
	s = start(t, dir)
	again, err := os.ReadFile(filepath.Join(dir, "setup.code"))
	if err != nil || len(again) == 0 || string(again) == string(first) {
		t.Fatalf("setup code after reset: %q, %v (first %q)", again, err, first)
	}
	s.stopGracefully(t)
}
