// Package sysinfo reads the box's load, memory and uptime from procfs
// (Linux's /proc). The files are plain text the kernel writes on each
// read, so a read costs a few small syscalls and no netlink.
package sysinfo

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"time"

	"github.com/edgeward/edgeward/core/host"
)

// Reader returns a host.Read over the procfs mounted at proc ("/proc").
// A file that cannot be read or parsed fails the whole read: a card with
// half its numbers zero would mislead.
func Reader(proc string) host.Read {
	return func() (host.Facts, error) {
		f := host.Facts{CPUs: runtime.NumCPU()}
		for _, r := range []struct {
			name  string
			parse func([]byte, *host.Facts) error
		}{{"loadavg", parseLoadavg}, {"meminfo", parseMeminfo}, {"self/status", parseStatus}, {"uptime", parseUptime}} {
			b, err := os.ReadFile(filepath.Join(proc, r.name))
			if err != nil {
				return host.Facts{}, fmt.Errorf("read %s: %w", r.name, err)
			}
			if err := r.parse(b, &f); err != nil {
				return host.Facts{}, fmt.Errorf("parse %s: %w", r.name, err)
			}
		}
		return f, nil
	}
}

// parseLoadavg reads "0.12 0.34 0.56 1/234 5678".
func parseLoadavg(b []byte, f *host.Facts) error {
	fields := strings.Fields(string(b))
	if len(fields) < 3 {
		return fmt.Errorf("%d fields, want at least 3", len(fields))
	}
	for i, dst := range []*float64{&f.Load1, &f.Load5, &f.Load15} {
		v, err := strconv.ParseFloat(fields[i], 64)
		if err != nil {
			return err
		}
		*dst = v
	}
	return nil
}

// parseMeminfo reads MemTotal and MemAvailable ("MemTotal: 1024 kB").
// Kernels before 3.14 have no MemAvailable; none that edgeward runs on.
func parseMeminfo(b []byte, f *host.Facts) error {
	total, err := kB(b, "MemTotal:")
	if err != nil {
		return err
	}
	avail, err := kB(b, "MemAvailable:")
	if err != nil {
		return err
	}
	f.MemTotal, f.MemAvailable = total, avail
	return nil
}

// parseStatus reads the process's VmRSS from /proc/self/status.
func parseStatus(b []byte, f *host.Facts) error {
	rss, err := kB(b, "VmRSS:")
	f.RSS = rss
	return err
}

// parseUptime reads "62999.28 105050.56": seconds since boot, then idle
// seconds summed over the CPUs.
func parseUptime(b []byte, f *host.Facts) error {
	fields := strings.Fields(string(b))
	if len(fields) < 1 {
		return fmt.Errorf("empty")
	}
	secs, err := strconv.ParseFloat(fields[0], 64)
	if err != nil {
		return err
	}
	f.Uptime = time.Duration(secs * float64(time.Second))
	return nil
}

// kB finds the line starting with key and returns its value in bytes;
// procfs writes these in kibibytes whatever the "kB" says.
func kB(b []byte, key string) (uint64, error) {
	name := strings.TrimSuffix(key, ":")
	s := bufio.NewScanner(bytes.NewReader(b))
	for s.Scan() {
		rest, ok := strings.CutPrefix(s.Text(), key)
		if !ok {
			continue
		}
		fields := strings.Fields(rest)
		if len(fields) == 0 {
			return 0, fmt.Errorf("%s without a value", name)
		}
		v, err := strconv.ParseUint(fields[0], 10, 64)
		if err != nil {
			return 0, fmt.Errorf("%s: %w", name, err)
		}
		return v * 1024, nil
	}
	return 0, fmt.Errorf("no %s line", name)
}
