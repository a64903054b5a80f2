package main

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"os/exec"
	"strings"
	"testing"
	"time"
)

// TestHealthzAndMetrics checks the wiring of /healthz and /metrics in the
// binary: healthy once the firewall table is installed in its namespace,
// and scraped with a metrics token made through the API.
func TestHealthzAndMetrics(t *testing.T) {
	s := start(t, t.TempDir(), "--wg-interface", "")
	waitHealthy(t, s)
	tok := obj(s.call("POST", "/api/tokens", map[string]any{"name": "prometheus", "role": "metrics"}, 200))
	s.call("POST", "/network/acl/bulk", map[string]any{"acl": "ban", "entries": []string{"198.51.100.7"}}, 200)

	req, _ := http.NewRequest("GET", s.base+"/metrics", nil)
	req.Header.Set("Authorization", "Token "+tok["token"].(string))
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	body, _ := io.ReadAll(res.Body)
	if res.StatusCode != 200 {
		t.Fatalf("GET /metrics = %d: %s", res.StatusCode, body)
	}
	for _, want := range []string{
		`edgeward_acl_entries{list="ban",scope="address"} 1`,
		`edgeward_greylist_capacity 65536`,
		`edgeward_peers 0`,
		`edgeward_tunnel_running 0`,
		`edgeward_store_bytes `,
		`go_goroutines `,
	} {
		if !bytes.Contains(body, []byte("\n"+want)) {
			t.Errorf("scrape lacks %q", want)
		}
	}
	var msg struct{ Message string }
	req, _ = http.NewRequest("GET", s.base+"/api/peers", nil)
	req.Header.Set("Authorization", "Token "+tok["token"].(string))
	res2, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res2.Body.Close()
	_ = json.NewDecoder(res2.Body).Decode(&msg)
	if res2.StatusCode != 403 || !strings.Contains(msg.Message, "metrics") {
		t.Errorf("metrics token on /api/peers = %d %q, want 403", res2.StatusCode, msg.Message)
	}
}

// TestFirewallRemove installs the table by serving in a namespace, stops
// the server (the table stays, enforcing) and removes it with the
// command; a second remove finds nothing and is not an error.
func TestFirewallRemove(t *testing.T) {
	ns := netns(t)
	s := start(t, t.TempDir(), "--netns", ns, "--wg-interface", "")
	waitHealthy(t, s)
	s.stopGracefully(t)
	tables := func() string {
		out, err := exec.Command("ip", "netns", "exec", ns, "nft", "list", "tables").CombinedOutput()
		if err != nil {
			t.Fatalf("nft list tables: %v: %s", err, out)
		}
		return string(out)
	}
	if got := tables(); !strings.Contains(got, "table inet edgeward") {
		t.Fatalf("after serving, nft list tables = %q, want table inet edgeward", got)
	}
	tests := []struct{ name, want string }{
		{"present", "removed table inet edgeward"},
		{"absent", "nothing to remove"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, err := exec.Command(binary, "firewall", "remove", "--netns", ns).CombinedOutput()
			if err != nil || !strings.Contains(string(out), tt.want) {
				t.Fatalf("firewall remove = %q, %v; want %q", out, err, tt.want)
			}
			if got := tables(); strings.Contains(got, "edgeward") {
				t.Errorf("nft list tables = %q after remove", got)
			}
		})
	}
	if out, err := exec.Command(binary, "firewall", "remove", "--netns", "ew-no-such-ns").CombinedOutput(); err == nil {
		t.Errorf("remove in a missing namespace succeeded: %q", out)
	}
}

// TestHelpExitsZero: -h is a question, not a mistake.
func TestHelpExitsZero(t *testing.T) {
	for _, args := range [][]string{{"serve", "-h"}, {"firewall", "remove", "-h"}, {"token", "create", "--help"}} {
		out, err := exec.Command(binary, args...).CombinedOutput()
		if err != nil || !strings.Contains(string(out), "Usage of") {
			t.Errorf("edgeward %s = %v: %s", strings.Join(args, " "), err, out)
		}
	}
}

// waitHealthy waits until /healthz says ok: the firewall table is in.
func waitHealthy(t *testing.T, s *server) {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for {
		res, err := http.Get(s.base + "/healthz")
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(res.Body)
		res.Body.Close()
		if res.StatusCode == 200 && string(body) == "ok\n" {
			return
		}
		if res.StatusCode != 503 || string(body) != "not ok\n" {
			t.Fatalf("GET /healthz = %d %q", res.StatusCode, body)
		}
		if time.Now().After(deadline) {
			t.Fatalf("never healthy\n%s", s.log)
		}
		time.Sleep(100 * time.Millisecond)
	}
}
