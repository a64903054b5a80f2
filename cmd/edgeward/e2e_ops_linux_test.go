package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"os/exec"
	"path/filepath"
	"regexp"
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

// TestLogFormats starts the binary with text logs (the default) and a
// syslog daemon of the test's own (a unixgram socket), and checks both
// carry the start line with the URL to open, at the right severity.
func TestLogFormats(t *testing.T) {
	sock := filepath.Join(t.TempDir(), "log")
	daemon, err := net.ListenUnixgram("unixgram", &net.UnixAddr{Name: sock, Net: "unixgram"})
	if err != nil {
		t.Fatal(err)
	}
	defer daemon.Close()
	cmd := exec.Command(binary, "serve", "--listen", "127.0.0.1:0", "--data", t.TempDir(), "--netns", netns(t),
		"--wg-interface", "", "--syslog", "--syslog-addr", "unixgram:"+sock)
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	line := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			if strings.Contains(sc.Text(), "msg=serving") {
				line <- sc.Text()
			}
		}
	}()
	var got string
	select {
	case got = <-line:
	case <-time.After(20 * time.Second):
		t.Fatal("no serving line in text format")
	}
	url := regexp.MustCompile(`url=(http://127\.0\.0\.1:\d+/) `).FindStringSubmatch(got)
	if !strings.HasPrefix(got, "time=") || !strings.Contains(got, " level=INFO ") || url == nil {
		t.Fatalf("start line %q: want a text line with url=http://127.0.0.1:PORT/", got)
	}

	_ = daemon.SetReadDeadline(time.Now().Add(10 * time.Second))
	buf := make([]byte, 4096)
	for {
		n, err := daemon.Read(buf)
		if err != nil {
			t.Fatalf("no serving record from syslog: %v", err)
		}
		msg := string(buf[:n])
		if !strings.Contains(msg, "msg=serving") {
			continue
		}
		// <30>: facility daemon (3) * 8 + severity info (6); no time= of
		// ours, syslog stamps its own.
		if !strings.HasPrefix(msg, "<30>") || !strings.Contains(msg, "edgeward[") || strings.Contains(msg, "time=") ||
			!strings.Contains(msg, "url="+url[1]) {
			t.Errorf("syslog record %q", msg)
		}
		break
	}

	// Requests: a refused /api call at info, answered ones (assets) and
	// monitoring's at debug (left out).
	for _, p := range []string{"static/app.css", "healthz", "api/peers"} {
		if res, err := http.Get(url[1] + p); err == nil {
			res.Body.Close()
		}
	}
	deadline := time.Now().Add(5 * time.Second)
	for {
		n, err := daemon.Read(buf)
		if err != nil || time.Now().After(deadline) {
			t.Fatalf("no request record for /api/peers: %v", err)
		}
		msg := string(buf[:n])
		if strings.Contains(msg, "path=/static/") || strings.Contains(msg, "path=/healthz") {
			t.Errorf("logged at info: %q", msg)
		}
		if strings.Contains(msg, "msg=request") && strings.Contains(msg, "path=/api/peers") {
			break
		}
	}
}
