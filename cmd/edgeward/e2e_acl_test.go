package main

import (
	"os/exec"
	"strings"
	"testing"
)

// TestACLLiftUnlocksLoopback: a ban of loopback is refused unless forced;
// forced, it locks the admin out of the API, across a restart; "acl lift"
// refuses while serve holds the store, and once it is stopped brings the
// admin back.
func TestACLLiftUnlocksLoopback(t *testing.T) {
	dir := t.TempDir()
	s := start(t, dir)
	s.call("PATCH", "/network/points/127.0.0.1:1", map[string]any{"acl": "ban"}, 400)
	s.call("GET", "/api/peers", nil, 200)
	s.call("PATCH", "/network/points/127.0.0.1:1", map[string]any{"acl": "ban", "force": true}, 200)
	if status, body := s.raw("GET", "/api/peers", nil); status != 403 {
		t.Fatalf("after a forced ban of loopback: status %d (%s), want 403", status, body)
	}
	out, err := exec.Command(binary, "acl", "lift", "--data", dir, "127.0.0.1").CombinedOutput()
	if err == nil || !strings.Contains(string(out), "in use by another edgeward process") {
		t.Fatalf("acl lift while serving: %q, %v; want a refusal saying the store is in use", out, err)
	}
	s.stopGracefully(t)

	s = start(t, dir)
	if status, _ := s.raw("GET", "/api/peers", nil); status != 403 {
		t.Fatalf("the ban of loopback did not survive a restart: status %d", status)
	}
	s.stopGracefully(t)

	if out, err := exec.Command(binary, "acl", "lift", "--data", dir).CombinedOutput(); err == nil || !strings.Contains(string(out), "--all") {
		t.Fatalf("acl lift without entries: %q, %v", out, err)
	}
	out, err = exec.Command(binary, "acl", "lift", "--data", dir, "::ffff:127.0.0.1").CombinedOutput()
	if err != nil || !strings.Contains(string(out), "entries lifted: 1;") {
		t.Fatalf("acl lift 127.0.0.1: %q, %v", out, err)
	}
	s = start(t, dir)
	s.call("GET", "/api/peers", nil, 200)
	if got := s.call("GET", "/network/points/127.0.0.1:1/banned", nil, 200); got != false {
		t.Fatalf("loopback banned = %v after the lift", got)
	}
	// --all lifts every ban, whatever it covers.
	s.call("POST", "/network/acl/bulk", map[string]any{"acl": "ban", "entries": []string{"0.0.0.0/0", "192.0.2.9"}, "force": true}, 200)
	s.stopGracefully(t)
	out, err = exec.Command(binary, "acl", "lift", "--data", dir, "--all").CombinedOutput()
	if err != nil || !strings.Contains(string(out), "entries lifted: 2 and emptied the greylist") {
		t.Fatalf("acl lift --all: %q, %v", out, err)
	}
	s = start(t, dir)
	s.call("GET", "/api/peers", nil, 200)
	s.stopGracefully(t)
}
