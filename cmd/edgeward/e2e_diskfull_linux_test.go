package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/edgeward/edgeward/core/durable"
)

// smallFS mounts a tmpfs of size (such as "64m") on a fresh directory and
// unmounts it when the test ends, after the server using it was killed
// (cleanups run last first).
func smallFS(t *testing.T, size string) string {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("needs root to mount a small filesystem")
	}
	dir := t.TempDir()
	if out, err := exec.Command("mount", "-t", "tmpfs", "-o", "size="+size+",mode=0700", "tmpfs", dir).CombinedOutput(); err != nil {
		t.Fatalf("mount tmpfs: %v: %s", err, out)
	}
	t.Cleanup(func() {
		if out, err := exec.Command("umount", "-l", dir).CombinedOutput(); err != nil {
			t.Errorf("umount %s: %v: %s", dir, err, out)
		}
	})
	return dir
}

// fill writes a file in dir until only leave bytes are free (0: until the
// filesystem refuses).
func fill(t *testing.T, dir string, leave uint64) string {
	t.Helper()
	p := filepath.Join(dir, "filler")
	f, err := os.OpenFile(p, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	chunk := make([]byte, 64<<10)
	for {
		free, err := durable.Free(dir)
		if err != nil {
			t.Fatal(err)
		}
		if free <= leave {
			return p
		}
		if _, err := f.Write(chunk[:min(uint64(len(chunk)), free-leave)]); err != nil {
			if leave == 0 && strings.Contains(err.Error(), "no space") {
				return p
			}
			t.Fatalf("fill %s: %v", dir, err)
		}
	}
}

// A full data filesystem refuses writes with 507 in every dialect, keeps
// answering reads, and takes writes again once space is freed; the
// process never dies (Badger's mmapped files would SIGBUS it).
func TestServeFullDisk(t *testing.T) {
	dir := smallFS(t, "64m")
	s := start(t, dir) // the default 16 MiB reserve
	s.call("POST", "/api/peers", map[string]any{"name": "before-full"}, 200)

	for _, tt := range []struct {
		name  string
		leave uint64
	}{
		{"inside the reserve", 8 << 20},
		{"to the last byte", 0},
	} {
		t.Run(tt.name, func(t *testing.T) {
			filler := fill(t, dir, tt.leave)
			defer os.Remove(filler)
			msg := obj(s.call("POST", "/api/peers", map[string]any{"name": "while-full"}, 507))["message"]
			if m, _ := msg.(string); !strings.Contains(m, "data filesystem is full") {
				t.Errorf("507 message %q, want it to say the data filesystem is full", msg)
			}
			// The network dialect maps it the same way.
			status, raw := s.rawText("POST", "/network/acl/bulk?acl=ban", "198.51.100.7\n")
			if status != 507 {
				t.Errorf("POST /network/acl/bulk while full: %d %s, want 507", status, raw)
			}
			peers := arr(s.call("GET", "/api/peers", nil, 200))
			if len(peers) != 1 {
				t.Errorf("GET /api/peers while full: %d peers, want the 1 written before", len(peers))
			}
			s.alive()
		})
	}
	// The fillers are gone: writes work again.
	s.call("POST", "/api/peers", map[string]any{"name": "after-full"}, 200)
	if n := len(arr(s.call("GET", "/api/peers", nil, 200))); n != 2 {
		t.Errorf("%d peers after space was freed, want 2", n)
	}
	s.alive()
}
