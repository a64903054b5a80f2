package main

import (
	"bytes"
	"net"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"
)

// TestBackupRestoreRunningBox restores a backup into the running binary:
// the restore is staged, the process restarts its services in place on
// the same address, and the state of the backup is what it serves.
func TestBackupRestoreRunningBox(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	ln.Close()
	dir := t.TempDir()
	s := start(t, dir, "--listen", "127.0.0.1:"+strconv.Itoa(port))
	s.call(http.MethodPost, "/api/peers", map[string]any{"name": "kept", "wg_pub_key": pubKey(t)}, http.StatusOK)

	req, _ := http.NewRequest(http.MethodGet, s.base+"/api/system/backup", nil)
	req.Header.Set("Authorization", "Token "+s.token)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	var archive bytes.Buffer
	_, _ = archive.ReadFrom(res.Body)
	res.Body.Close()
	if res.StatusCode != http.StatusOK || archive.Len() == 0 {
		t.Fatalf("backup: status %d, %d bytes", res.StatusCode, archive.Len())
	}
	t.Logf("backup of a fresh box with one peer: %d bytes", archive.Len())

	// A change after the backup, which the restore takes back.
	s.call(http.MethodPost, "/api/peers", map[string]any{"name": "after-backup", "wg_pub_key": pubKey(t)}, http.StatusOK)

	req, _ = http.NewRequest(http.MethodPost, s.base+"/api/system/restore", bytes.NewReader(archive.Bytes()))
	req.Header.Set("Authorization", "Token "+s.token)
	req.Header.Set("Content-Type", "application/gzip")
	began := time.Now()
	res, err = http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusAccepted {
		t.Fatalf("restore: status %d", res.StatusCode)
	}
	deadline := time.Now().Add(20 * time.Second)
	for !strings.Contains(s.log.String(), `"msg":"restore applied"`) || !serving(s) {
		if time.Now().After(deadline) {
			t.Fatalf("the box did not come back with the restore\n%s", s.log)
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Logf("restore staged, applied and serving again after %v", time.Since(began).Round(time.Millisecond))
	var names []string
	for _, p := range arr(s.call(http.MethodGet, "/api/peers", nil, http.StatusOK)) {
		names = append(names, obj(p)["name"].(string))
	}
	if strings.Join(names, ",") != "kept" {
		t.Errorf("peers after the restore: %v, want [kept]", names)
	}
	select {
	case err := <-s.done:
		t.Fatalf("the process exited instead of restarting in place: %v\n%s", err, s.log)
	default:
	}
}

// serving reports whether the server answers its API.
func serving(s *server) bool {
	req, _ := http.NewRequest(http.MethodGet, s.base+"/api/peers", nil)
	req.Header.Set("Authorization", "Token "+s.token)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		return false
	}
	res.Body.Close()
	return res.StatusCode == http.StatusOK
}
