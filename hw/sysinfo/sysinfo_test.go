package sysinfo

import (
	"os"
	"path/filepath"
	"runtime"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/edgeward/edgeward/core/host"
)

// TestReaderFixture reads a procfs made of files captured from a small
// router (512 MB, a day up).
func TestReaderFixture(t *testing.T) {
	got, err := Reader("testdata/proc")()
	if err != nil {
		t.Fatal(err)
	}
	want := host.Facts{Load1: 0.12, Load5: 0.34, Load15: 0.56, CPUs: runtime.NumCPU(),
		MemTotal: 501384 << 10, MemAvailable: 250692 << 10, RSS: 61440 << 10,
		Uptime: 26*time.Hour + 3*time.Minute + 4*time.Second + 500*time.Millisecond}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("facts (-want +got):\n%s", diff)
	}
	if got.MemUsedPercent() != 50 {
		t.Errorf("memory used %d %%, want 50", got.MemUsedPercent())
	}
}

// TestReaderRefuses: a file missing or not as the kernel writes it fails
// the read, naming the file.
func TestReaderRefuses(t *testing.T) {
	tests := []struct {
		name, file, text, wantErr string
	}{
		{"short loadavg", "loadavg", "0.1 0.2\n", "parse loadavg: 2 fields, want at least 3"},
		{"bad load", "loadavg", "0.1 x 0.3 1/2 3\n", `parse loadavg: strconv.ParseFloat: parsing "x": invalid syntax`},
		{"no MemAvailable", "meminfo", "MemTotal: 100 kB\nMemFree: 50 kB\n", "parse meminfo: no MemAvailable"},
		{"bad MemTotal", "meminfo", "MemTotal: lots kB\n", `parse meminfo: MemTotal: strconv.ParseUint: parsing "lots": invalid syntax`},
		{"no VmRSS", "self/status", "Name:\tkthreadd\n", "parse self/status: no VmRSS"},
		{"empty uptime", "uptime", "\n", "parse uptime: empty"},
		{"missing", "uptime", "", "read uptime: open"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			if err := os.CopyFS(dir, os.DirFS("testdata/proc")); err != nil {
				t.Fatal(err)
			}
			path := filepath.Join(dir, tt.file)
			if tt.text == "" {
				if err := os.Remove(path); err != nil {
					t.Fatal(err)
				}
			} else if err := os.WriteFile(path, []byte(tt.text), 0o644); err != nil {
				t.Fatal(err)
			}
			_, err := Reader(dir)()
			if err == nil || len(err.Error()) < len(tt.wantErr) || err.Error()[:len(tt.wantErr)] != tt.wantErr {
				t.Errorf("error %v, want it to start %q", err, tt.wantErr)
			}
		})
	}
}

// TestReaderLive reads this machine's procfs: every number is there and
// within what a running box can have.
func TestReaderLive(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("procfs is Linux's")
	}
	f, err := Reader("/proc")()
	if err != nil {
		t.Fatal(err)
	}
	if f.MemTotal == 0 || f.MemAvailable > f.MemTotal || f.RSS == 0 || f.RSS > f.MemTotal || f.Uptime <= 0 || f.Load1 < 0 || f.CPUs < 1 {
		t.Errorf("implausible facts %+v", f)
	}
}

func TestMemUsedPercent(t *testing.T) {
	for _, tt := range []struct {
		f    host.Facts
		want int
	}{{host.Facts{}, 0}, {host.Facts{MemTotal: 1000, MemAvailable: 1000}, 0}, {host.Facts{MemTotal: 1000, MemAvailable: 1}, 99},
		{host.Facts{MemTotal: 1000, MemAvailable: 2000}, 0}} {
		if got := tt.f.MemUsedPercent(); got != tt.want {
			t.Errorf("%+v: %d %%, want %d", tt.f, got, tt.want)
		}
	}
}
