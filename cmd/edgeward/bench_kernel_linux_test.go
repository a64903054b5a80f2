package main

import (
	"bufio"
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

// netns makes a network namespace for the test and removes it afterwards.
func netns(tb testing.TB) string {
	tb.Helper()
	if os.Geteuid() != 0 {
		tb.Skip("needs root to create network namespaces")
	}
	var b [4]byte
	_, _ = rand.Read(b[:])
	ns := "ew-cmd-" + hex.EncodeToString(b[:])
	if out, err := exec.Command("ip", "netns", "add", ns).CombinedOutput(); err != nil {
		tb.Skipf("ip netns add: %v: %s", err, out)
	}
	tb.Cleanup(func() { _ = exec.Command("ip", "netns", "del", ns).Run() })
	if out, err := exec.Command("ip", "-n", ns, "link", "set", "lo", "up").CombinedOutput(); err != nil {
		tb.Fatalf("lo up: %v: %s", err, out)
	}
	return ns
}

// bulkAddrs returns n distinct IPv4 addresses from 10.0.0.0/8.
func bulkAddrs(n int) []string {
	out := make([]string, n)
	for i := range n {
		out[i] = fmt.Sprintf("10.%d.%d.%d", (i>>16)&255, (i>>8)&255, i&255)
	}
	return out
}

// BenchmarkBulkBan100k bans 100,000 addresses through the API of the real
// binary running in its own namespace, one call until the kernel enforces
// them all; then loads the same addresses with nft -f into an equivalent
// set, and reports both, their ratio, the p50 and p99 latency of single
// bans (each its own API call) with 100,000 present and the daemon's peak
// RSS.
func BenchmarkBulkBan100k(b *testing.B) {
	const singleBans = 200
	addrs := bulkAddrs(100_000)
	body := strings.Join(addrs, "\n")
	var apiTotal, nftTotal time.Duration
	var one []time.Duration // single bans' latencies
	var peakRSS int64
	for range b.N {
		ns := netns(b)
		s := startIn(b, ns, b.TempDir())
		t0 := time.Now()
		status, raw := s.rawText("POST", "/network/acl/bulk?acl=ban", body)
		apiTotal += time.Since(t0)
		if status != 200 {
			b.Fatalf("bulk ban: %d %s", status, raw)
		}
		if out, err := exec.Command("ip", "netns", "exec", ns, "nft", "get", "element", "inet", "edgeward", "ban4", "{", addrs[len(addrs)-1], "}").CombinedOutput(); err != nil {
			b.Fatalf("last address not in the kernel after the call returned: %v: %s", err, out)
		}
		peakRSS = max(peakRSS, vmHWM(b, s.cmd.Process.Pid))
		for i := range singleBans {
			t1 := time.Now()
			if status, raw := s.raw("PATCH", fmt.Sprintf("/network/points/192.0.%d.%d:0", 2+i/250, 1+i%250), map[string]string{"acl": "ban"}); status != 200 {
				b.Fatalf("single ban: %d %s", status, raw)
			}
			one = append(one, time.Since(t1))
			time.Sleep(banSpacing)
		}
		s.stopGracefully(b)

		nftTotal += nftLoad(b, addrs)
	}
	n := float64(b.N)
	b.ReportMetric(float64(apiTotal.Milliseconds())/n, "api_ms")
	b.ReportMetric(float64(nftTotal.Milliseconds())/n, "nft_f_ms")
	b.ReportMetric(float64(apiTotal)/float64(nftTotal), "api/nft")
	slices.Sort(one)
	b.ReportMetric(float64(one[len(one)/2].Microseconds()), "one_ban_p50_us")
	b.ReportMetric(float64(one[len(one)*99/100].Microseconds()), "one_ban_p99_us")
	b.ReportMetric(float64(one[len(one)*99/100])/float64(banGoal), "p99/goal")
	b.ReportMetric(float64(peakRSS)/1024, "peak_rss_MiB")
}

// nftLoad times nft -f loading the addresses into an equivalent set
// (ipv4_addr, flags timeout) in a namespace of its own.
func nftLoad(b *testing.B, addrs []string) time.Duration {
	b.Helper()
	ns := netns(b)
	var buf bytes.Buffer
	buf.WriteString("table inet ewbench {\n set ban4 { type ipv4_addr; flags timeout; size 1048576; elements = { ")
	buf.WriteString(strings.Join(addrs, ", "))
	buf.WriteString(" } }\n}\n")
	file := filepath.Join(b.TempDir(), "ban.nft")
	if err := os.WriteFile(file, buf.Bytes(), 0o600); err != nil {
		b.Fatal(err)
	}
	t0 := time.Now()
	if out, err := exec.Command("ip", "netns", "exec", ns, "nft", "-f", file).CombinedOutput(); err != nil {
		b.Fatalf("nft -f: %v: %s", err, out)
	}
	return time.Since(t0)
}

// vmHWM is a process's peak resident set, in KiB.
func vmHWM(tb testing.TB, pid int) int64 {
	tb.Helper()
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		tb.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if rest, ok := strings.CutPrefix(sc.Text(), "VmHWM:"); ok {
			n, _ := strconv.ParseInt(strings.Fields(rest)[0], 10, 64)
			return n
		}
	}
	return 0
}

func (s *server) rawText(method, path, body string) (int, []byte) {
	s.t.Helper()
	req, _ := http.NewRequest(method, s.base+path, strings.NewReader(body))
	req.Header.Set("Authorization", "Token "+s.token)
	req.Header.Set("Content-Type", "text/plain")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		s.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer res.Body.Close()
	var out bytes.Buffer
	_, _ = out.ReadFrom(res.Body)
	return res.StatusCode, out.Bytes()
}
