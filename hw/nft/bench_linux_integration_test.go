//go:build linux

package nft

import (
	"bufio"
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"log/slog"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/edgeward/edgeward/core/acl"
)

const benchBans = 100_000

// benchNS creates an empty namespace for one benchmark iteration; done
// removes it. Both run with the timer stopped.
func benchNS(b *testing.B) (name string, fd *os.File, done func()) {
	b.Helper()
	var r [4]byte
	_, _ = rand.Read(r[:])
	name = "ew-nft-bench-" + hex.EncodeToString(r[:])
	if out, err := exec.Command("ip", "netns", "add", name).CombinedOutput(); err != nil {
		b.Skipf("kernel benchmark: ip netns add: %v: %s", err, out)
	}
	fd, err := os.Open("/run/netns/" + name)
	if err != nil {
		b.Fatal(err)
	}
	return name, fd, func() {
		_ = fd.Close()
		_ = exec.Command("ip", "netns", "del", name).Run()
	}
}

func benchElements() []acl.Element {
	es := make([]acl.Element, 0, benchBans)
	for _, a := range addrs("10.0.0.0", benchBans) {
		es = append(es, acl.Element{Kind: acl.KindBan, Addr: a, Timeout: time.Hour})
	}
	return es
}

func benchFirewall(b *testing.B, fd *os.File) *Firewall {
	b.Helper()
	f, err := New(Options{NetNS: int(fd.Fd()), Log: slog.New(slog.DiscardHandler)})
	if err != nil {
		b.Skipf("kernel benchmark: New: %v", err)
	}
	return f
}

// BenchmarkInstall100k installs 100,000 IPv4 bans with timeouts into a
// fresh namespace: the daemon's start.
func BenchmarkInstall100k(b *testing.B) {
	needRoot(b)
	rs := acl.Ruleset{GuardPorts: []uint16{443}, Rate: 20, Burst: 20, Elements: benchElements()}
	for b.Loop() {
		b.StopTimer()
		_, fd, done := benchNS(b)
		f := benchFirewall(b, fd)
		b.StartTimer()
		if err := f.Install(context.Background(), rs); err != nil {
			b.Fatalf("Install: %v", err)
		}
		b.StopTimer()
		_ = f.Close()
		done()
		b.StartTimer()
	}
}

// BenchmarkNftFile100k loads the same 100,000 elements with nft -f, the
// baseline.
func BenchmarkNftFile100k(b *testing.B) {
	needRoot(b)
	if _, err := exec.LookPath("nft"); err != nil {
		b.Skip("kernel benchmark: needs nft")
	}
	file := filepath.Join(b.TempDir(), "bans.nft")
	writeNftFile(b, file)
	for b.Loop() {
		b.StopTimer()
		name, _, done := benchNS(b)
		b.StartTimer()
		if out, err := exec.Command("ip", "netns", "exec", name, "nft", "-f", file).CombinedOutput(); err != nil {
			b.Fatalf("nft -f: %v: %s", err, out)
		}
		b.StopTimer()
		done()
		b.StartTimer()
	}
}

func writeNftFile(b *testing.B, file string) {
	out, err := os.Create(file)
	if err != nil {
		b.Fatal(err)
	}
	w := bufio.NewWriter(out)
	fmt.Fprintln(w, "table inet ewbench {\n\tset ban4 {\n\t\ttype ipv4_addr; flags timeout; size 1048576;\n\t\telements = {")
	for i, a := range addrs("10.0.0.0", benchBans) {
		sep := ","
		if i == benchBans-1 {
			sep = ""
		}
		fmt.Fprintf(w, "\t\t\t%s timeout 1h%s\n", a, sep)
	}
	fmt.Fprintln(w, "\t\t}\n\t}\n}")
	if err := w.Flush(); err != nil {
		b.Fatal(err)
	}
	if err := out.Close(); err != nil {
		b.Fatal(err)
	}
}

// BenchmarkApplyOne adds one ban to a table that holds 100,000: the cost
// of a ban decided at run time.
func BenchmarkApplyOne(b *testing.B) {
	needRoot(b)
	_, fd, done := benchNS(b)
	defer done()
	f := benchFirewall(b, fd)
	defer f.Close()
	ctx := context.Background()
	if err := f.Install(ctx, acl.Ruleset{Elements: benchElements()}); err != nil {
		b.Fatalf("Install: %v", err)
	}
	next := addrs("172.16.0.0", 1)[0]
	for b.Loop() {
		if err := f.Apply(ctx, acl.Delta{Add: []acl.Element{{Kind: acl.KindBan, Addr: next, Timeout: time.Hour}}}); err != nil {
			b.Fatalf("Apply: %v", err)
		}
		next = next.Next()
	}
}

// BenchmarkApply100k adds 100,000 bans to an installed, empty table in
// one Apply: a bulk import.
func BenchmarkApply100k(b *testing.B) {
	needRoot(b)
	d := acl.Delta{Add: benchElements()}
	for b.Loop() {
		b.StopTimer()
		_, fd, done := benchNS(b)
		f := benchFirewall(b, fd)
		if err := f.Install(context.Background(), acl.Ruleset{}); err != nil {
			b.Fatalf("Install: %v", err)
		}
		b.StartTimer()
		if err := f.Apply(context.Background(), d); err != nil {
			b.Fatalf("Apply: %v", err)
		}
		b.StopTimer()
		_ = f.Close()
		done()
		b.StartTimer()
	}
}

// BenchmarkCutWith100kFlows cuts one source's flow while 100,000 other
// flows are tracked, with the kernel filter (what Cut does for an address)
// and with the table scan (what it did, and still does for a prefix), and
// reports both and their ratio.
func BenchmarkCutWith100kFlows(b *testing.B) {
	needRoot(b)
	_, fd, done := benchNS(b)
	defer done()
	f := benchFirewall(b, fd)
	defer f.Close()
	if cur, err := os.ReadFile("/proc/sys/net/netfilter/nf_conntrack_max"); err == nil {
		var max int
		if _, err := fmt.Sscan(string(cur), &max); err == nil && max < 2*benchBans {
			b.Skipf("kernel benchmark: nf_conntrack_max is %d", max)
		}
	}
	addFlows(b, int(fd.Fd()), addrs("10.0.0.0", benchBans), 1)
	ctx := context.Background()
	target := netip.MustParseAddr("172.16.0.1")
	var filtered, scan time.Duration
	for b.Loop() {
		for _, scanned := range []bool{false, true} {
			b.StopTimer()
			addFlows(b, int(fd.Fd()), []netip.Addr{target}, 1)
			b.StartTimer()
			t0 := time.Now()
			var n int
			var err error
			if scanned {
				n, err = f.cutScan(ctx, netip.PrefixFrom(target, 32))
				scan += time.Since(t0)
			} else {
				n, err = f.cutFiltered(ctx, target)
				filtered += time.Since(t0)
			}
			if err != nil || n != 1 {
				b.Fatalf("cut (scan %v) = %d, %v; want 1", scanned, n, err)
			}
		}
	}
	n := float64(b.N)
	b.ReportMetric(float64(filtered.Microseconds())/n, "filtered_us")
	b.ReportMetric(float64(scan.Microseconds())/n, "scan_us")
	b.ReportMetric(float64(filtered)/float64(scan), "filtered/scan")
}
