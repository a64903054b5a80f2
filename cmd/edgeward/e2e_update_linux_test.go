package main

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
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

	"github.com/edgeward/edgeward/firmware/slots/slotstest"
)

// supervisor restarts "edgeward run-slot" whenever it exits, as procd's
// respawn or systemd's Restart=always do.
type supervisor struct {
	mu     sync.Mutex
	cmd    *exec.Cmd
	stop   bool
	starts int
	log    *logBuf
	done   chan struct{}
}

func supervise(t *testing.T, argv []string) *supervisor {
	s := &supervisor{log: &logBuf{}, done: make(chan struct{})}
	go func() {
		defer close(s.done)
		for {
			s.mu.Lock()
			if s.stop {
				s.mu.Unlock()
				return
			}
			cmd := exec.Command(argv[0], argv[1:]...)
			cmd.Stdout, cmd.Stderr = s.log, s.log
			if err := cmd.Start(); err != nil {
				s.mu.Unlock()
				t.Errorf("start launcher: %v", err)
				return
			}
			s.cmd = cmd
			s.starts++
			s.mu.Unlock()
			_ = cmd.Wait()
			time.Sleep(100 * time.Millisecond)
		}
	}()
	t.Cleanup(func() {
		s.mu.Lock()
		s.stop = true
		if s.cmd != nil {
			_ = s.cmd.Process.Signal(os.Interrupt)
		}
		s.mu.Unlock()
		select {
		case <-s.done:
		case <-time.After(20 * time.Second):
			_ = s.cmd.Process.Kill()
		}
	})
	return s
}

// freePort is a loopback port nothing listens on, so every start of the
// box listens on the same address.
func freePort(t *testing.T) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// updateStatus is GET /api/system/update, or ok false while the box is
// down.
func updateStatus(base, token string) (st map[string]any, ok bool) {
	req, _ := http.NewRequest("GET", base+"/api/system/update", nil)
	req.Header.Set("Authorization", "Token "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, false
	}
	defer resp.Body.Close()
	if resp.StatusCode != 200 || json.NewDecoder(resp.Body).Decode(&st) != nil {
		return nil, false
	}
	return st, true
}

// waitStatus polls the update state until cond holds.
func waitStatus(t *testing.T, base, token string, what string, sup *supervisor, cond func(map[string]any) bool) map[string]any {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	var last map[string]any
	for time.Now().Before(deadline) {
		if st, ok := updateStatus(base, token); ok {
			last = st
			if cond(st) {
				return st
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("%s: never happened; last state %v\n%s", what, last, sup.log)
	return nil
}

// upload posts file with sig as the raw body; it returns the status and
// the decoded answer.
func upload(t *testing.T, base, token string, file, sig []byte) (int, map[string]any) {
	t.Helper()
	req, _ := http.NewRequest("POST", base+"/api/system/update", bytes.NewReader(file))
	req.Header.Set("Authorization", "Token "+token)
	req.Header.Set("Content-Type", "application/octet-stream")
	if sig != nil {
		req.Header.Set("X-Signature", strings.ReplaceAll(strings.TrimSpace(string(sig)), "\n", `\n`))
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("upload: %v", err)
	}
	defer resp.Body.Close()
	var out map[string]any
	b, _ := io.ReadAll(resp.Body)
	if err := json.Unmarshal(b, &out); err != nil {
		t.Fatalf("upload answered %d %q", resp.StatusCode, b)
	}
	return resp.StatusCode, out
}

// slotFiles lists the files in the update slots.
func slotFiles(t *testing.T, dir string) []string {
	var out []string
	for _, s := range []string{"a", "b"} {
		es, _ := os.ReadDir(filepath.Join(dir, s))
		for _, e := range es {
			out = append(out, s+"/"+e.Name())
		}
	}
	return out
}

// TestUpdate runs the box under run-slot and a restarting supervisor and
// updates it: refused uploads leave nothing behind, a good version is
// kept, one that exits at start and one that never commits both roll
// back to it by themselves.
func TestUpdate(t *testing.T) {
	ns := netns(t)
	tmp := t.TempDir()
	good := filepath.Join(tmp, "edgeward-v2")
	if out, err := exec.Command("go", "build", "-ldflags", "-X main.version=v2-good", "-o", good, ".").CombinedOutput(); err != nil {
		t.Fatalf("build v2: %v\n%s", err, out)
	}
	pub, priv := slotstest.Key(t)
	keyFile := filepath.Join(tmp, "update.pub")
	slotstest.WriteKeyFile(t, keyFile, pub)
	data, upd, addr := filepath.Join(tmp, "data"), filepath.Join(tmp, "slots"), freePort(t)
	sup := supervise(t, []string{binary, "run-slot", "--update-dir", upd, "--trial-starts", "3", "--trial-window", "8s", "--",
		"serve", "--listen", addr, "--data", data, "--netns", ns, "--wg-interface", uniqueIface(), "--update-key", keyFile})
	base := "http://" + addr
	var token string
	for i := 0; i < 200 && token == ""; i++ {
		b, _ := os.ReadFile(filepath.Join(data, "admin.token"))
		token = strings.TrimSpace(string(b))
		time.Sleep(100 * time.Millisecond)
	}
	st := waitStatus(t, base, token, "first start", sup, func(st map[string]any) bool { return st["key_configured"] == true })
	if st["running_slot"] != "" || st["active_slot"] != "" || st["trial_slot"] != "" {
		t.Fatalf("first start runs %v, want the installed binary", st)
	}

	goodBin, err := os.ReadFile(good)
	if err != nil {
		t.Fatal(err)
	}
	goodSig := slotstest.Sign(t, priv, goodBin)
	tampered := bytes.Clone(goodBin)
	tampered[len(tampered)/2] ^= 1
	_, other := slotstest.Key(t)
	for _, tt := range []struct {
		name       string
		file, sig  []byte
		wantStatus int
		wantField  string
	}{
		{"unsigned", goodBin, nil, 400, "signature"},
		{"tampered", tampered, goodSig, 422, "signature"},
		{"other key", goodBin, slotstest.Sign(t, other, goodBin), 422, "signature"},
		{"garbage signature", goodBin, []byte("untrusted comment: x\nnot base64"), 422, "signature"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			code, out := upload(t, base, token, tt.file, tt.sig)
			if code != tt.wantStatus || out["field"] != tt.wantField || out["message"] == "" {
				t.Errorf("upload answered %d %v, want %d on field %q", code, out, tt.wantStatus, tt.wantField)
			}
			if files := slotFiles(t, upd); len(files) != 0 {
				t.Errorf("a refused upload left %v", files)
			}
			if st, _ := updateStatus(base, token); st["trial_slot"] != "" {
				t.Errorf("a refused upload put %v on trial", st["trial_slot"])
			}
		})
	}

	// A good update: written to slot a, hash echoed, on trial, commits.
	start := time.Now()
	code, out := upload(t, base, token, goodBin, goodSig)
	sum := sha256.Sum256(goodBin)
	if code != 202 || out["slot"] != "a" || out["sha256"] != hex.EncodeToString(sum[:]) || out["version"] != "v2-good" {
		t.Fatalf("good upload answered %d %v", code, out)
	}
	if written, err := os.ReadFile(filepath.Join(upd, "a", "edgeward")); err != nil || !bytes.Equal(written, goodBin) {
		t.Fatalf("slot a holds %d bytes (%v), want the update's %d", len(written), err, len(goodBin))
	}
	waitStatus(t, base, token, "good update committed", sup, func(st map[string]any) bool {
		return st["version"] == "v2-good" && st["running_slot"] == "a" && st["active_slot"] == "a" && st["trial_slot"] == ""
	})
	t.Logf("update time (upload of %d bytes to committed): %v", len(goodBin), time.Since(start).Round(time.Millisecond))

	// Two bad updates, each written to slot b: one exits at start, one
	// starts but never commits. Both roll back to slot a by themselves.
	for _, bad := range []struct{ name, script, why string }{
		{"exits at start", "echo boom >&2; exit 3", "started 3 times"},
		{"never commits", "exec sleep 600", "deadline"},
	} {
		t.Run(bad.name, func(t *testing.T) {
			script := []byte(fmt.Sprintf("#!/bin/sh\ncase \"$1\" in version) echo edgeward bad ;; *) %s ;; esac\n", bad.script))
			code, out := upload(t, base, token, script, slotstest.Sign(t, priv, script))
			if code != 202 || out["slot"] != "b" || out["version"] != "bad" {
				t.Fatalf("bad upload answered %d %v", code, out)
			}
			st := waitStatus(t, base, token, "rollback", sup, func(st map[string]any) bool {
				return st["version"] == "v2-good" && st["trial_slot"] == "" && st["rolled_back"] != ""
			})
			if !strings.Contains(st["rolled_back"].(string), bad.why) || st["active_slot"] != "a" {
				t.Errorf("after the rollback: %v, want active a and a reason about %q", st, bad.why)
			}
		})
	}
}
