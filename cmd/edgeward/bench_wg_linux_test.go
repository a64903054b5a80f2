package main

import (
	"io"
	"math"
	"net/http"
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/nftables"
	"golang.zx2c4.com/wireguard/wgctrl"
)

// BenchmarkWGThroughput measures TCP throughput between two peers through
// the gateway (iperf3, one 5 s run per iteration, receiver's rate): with
// edgeward as the gateway, with edgeward holding the fleet as well (10,000
// other peers, 1,000 other rules), and with a plain wireguard-go hub and
// no firewall (baseline). The peers are Debian's wireguard-go in all three.
// ratio reports the first two over the baseline.
func BenchmarkWGThroughput(b *testing.B) {
	needBenchTools(b, "wireguard-go", "wg", "iperf3", "ping")
	rates := map[string]float64{}
	for _, c := range []struct {
		name string
		pair func(b *testing.B) (from, to *wgPeer)
	}{
		{"edgeward", func(b *testing.B) (*wgPeer, *wgPeer) { return edgewardPair(b, b.TempDir()) }},
		{"edgeward-10k", func(b *testing.B) (*wgPeer, *wgPeer) { return edgewardPair(b, sharedFleet(b).copy(b)) }},
		{"baseline", baselinePair},
	} {
		b.Run(c.name, func(b *testing.B) {
			from, to := c.pair(b)
			b.ResetTimer()
			var sum float64
			for range b.N {
				sum += iperfMbps(b, from, to, 5)
			}
			rates[c.name] = sum / float64(b.N)
			b.ReportMetric(rates[c.name], "Mbit/s")
		})
	}
	// A benchmark with sub-benchmarks prints no metrics of its own.
	b.Run("ratio", func(b *testing.B) {
		base := rates["baseline"]
		if base == 0 || rates["edgeward"] == 0 || rates["edgeward-10k"] == 0 {
			b.Skip("needs edgeward, edgeward-10k and baseline in the same run")
		}
		b.ReportMetric(rates["edgeward"]/base, "ratio-a")
		b.ReportMetric(rates["edgeward-10k"]/base, "ratio-b")
		b.ReportMetric(0, "ns/op")
	})
}

// edgewardPair starts edgeward on dir and adds peers a and b, and one
// policy letting a reach b on every protocol.
func edgewardPair(b *testing.B, dir string) (*wgPeer, *wgPeer) {
	b.Helper()
	l := newBenchLab(b, dir)
	src := obj(l.s.call("POST", "/api/groups", map[string]any{"name": "bench-src"}, 200))["id"].(string)
	dst := obj(l.s.call("POST", "/api/groups", map[string]any{"name": "bench-dst"}, 200))["id"].(string)
	l.s.call("POST", "/api/policies", map[string]any{"name": "bench", "enabled": true, "rules": []any{
		map[string]any{"name": "a to b", "enabled": true, "action": "accept", "protocol": "all",
			"sources": []string{src}, "destinations": []string{dst}}}}, 200)
	from, to := l.addPeer("bench-a", src), l.addPeer("bench-b", dst)
	reach(b, from, to.ip)
	return from, to
}

// baselinePair builds the same namespaces with a plain wireguard-go hub
// configured by wg in the gateway's: its own key, the two peers with
// their /32s, forwarding on, no nftables.
func baselinePair(b *testing.B) (*wgPeer, *wgPeer) {
	b.Helper()
	l := newBenchLab(b, "")
	hub := newPrivateKey(b)
	startWireGuardGo(b, l.gw, l.iface)
	from, to := l.plumb("base-a"), l.plumb("base-b")
	from.ip, to.ip = "100.64.0.2", "100.64.0.3"
	fromKey, toKey := newPrivateKey(b), newPrivateKey(b)
	wgSetKey(b, l.gw, l.iface, hub.String(), "listen-port", "51820",
		"peer", fromKey.PublicKey().String(), "allowed-ips", from.ip+"/32",
		"peer", toKey.PublicKey().String(), "allowed-ips", to.ip+"/32")
	sh(b, "ip", "-n", l.gw, "addr", "add", "100.64.0.1/16", "dev", l.iface)
	sh(b, "ip", "-n", l.gw, "link", "set", l.iface, "up")
	sh(b, "ip", "netns", "exec", l.gw, "sysctl", "-qw", "net.ipv4.ip_forward=1")
	for _, p := range []struct {
		peer *wgPeer
		key  string
	}{{from, fromKey.String()}, {to, toKey.String()}} {
		l.join(p.peer, p.key, hub.PublicKey().String(), "", p.peer.ip+"/32", []string{"100.64.0.0/16"})
	}
	reach(b, from, to.ip)
	return from, to
}

// addsPerOp is how many peers one iteration of BenchmarkWGAddPeer adds,
// so that its percentiles stand on at least 100 samples.
const addsPerOp = 100

// BenchmarkWGAddPeer adds peers, one at a time, to a gateway holding the
// fleet. Each sample is the time from sending POST /api/peers until the
// peer's address is in its group's kernel set, read from the gateway's
// namespace over netlink every 0.2 ms. The data plane writes the device
// before the sets in the same sync (dataplane.Plane.Sync), so the device
// holds the key by then; one read of the device after the last add checks
// that it holds every key added, with its address. The device is not read
// after each add: a read of 10,000 peers makes the daemon format and
// collect several MB, and that garbage slowed the next adds by 5 to 15 ms
// at the median when it was.
//
// Reports the percentiles of that time (p50-ms, p99-ms, max-ms) and of the
// API call alone (api-p50-ms, api-p99-ms).
func BenchmarkWGAddPeer(b *testing.B) {
	f := sharedFleet(b)
	l := newBenchLab(b, f.copy(b))
	wc, nf := newWGClient(b), l.nftIn()
	l.waitFleet(wc, nf)
	group := f.groups[0]
	set := l.setOf(nf, f.ips[0]) // peer 0 is in groups[0]
	added := map[string]string{} // key -> overlay address
	var total, api []time.Duration
	b.ResetTimer()
	for i := range b.N * addsPerOp {
		key := newPrivateKey(b).PublicKey().String()
		t0 := time.Now()
		created := obj(l.s.call("POST", "/api/peers", map[string]any{"name": "added-" + strconv.Itoa(i),
			"wg_pub_key": key, "groups": []string{group}}, 200))
		api = append(api, time.Since(t0))
		ip := netip.MustParseAddr(created["ip"].(string))
		for {
			ok, err := setHolds(nf, set, ip)
			if err != nil {
				b.Fatalf("read set %s: %v", set.Name, err)
			}
			if ok {
				break
			}
			if time.Since(t0) > 10*time.Second {
				b.Fatalf("%s not in set %s 10 s after POST /api/peers", ip, set.Name)
			}
			time.Sleep(200 * time.Microsecond)
		}
		total = append(total, time.Since(t0))
		added[key] = ip.String() + "/32"
	}
	b.StopTimer()
	dev, err := l.device(wc)
	if err != nil {
		b.Fatalf("read device: %v", err)
	}
	for _, p := range dev.Peers {
		if want, ok := added[p.PublicKey.String()]; ok {
			if len(p.AllowedIPs) != 1 || p.AllowedIPs[0].String() != want {
				b.Errorf("device peer %s allows %v, want %s", p.PublicKey, p.AllowedIPs, want)
			}
			delete(added, p.PublicKey.String())
		}
	}
	if len(added) > 0 {
		b.Fatalf("%d added peers are in their set but not on the device", len(added))
	}
	b.ReportMetric(ms(percentile(total, 0.50)), "p50-ms")
	b.ReportMetric(ms(percentile(total, 0.99)), "p99-ms")
	b.ReportMetric(ms(slices.Max(total)), "max-ms")
	b.ReportMetric(ms(percentile(api, 0.50)), "api-p50-ms")
	b.ReportMetric(ms(percentile(api, 0.99)), "api-p99-ms")
}

// BenchmarkWGStart10k restarts edgeward on a data directory holding the
// fleet: the time from exec until the device holds the 10,000 peers (s),
// until the API serves (serve-s) and until the kernel sets hold all of
// them (sets-s). The table is deleted while edgeward is stopped, as after
// a reboot: the device goes with the process, the table would not.
func BenchmarkWGStart10k(b *testing.B) {
	needBenchTools(b, "nft")
	f := sharedFleet(b)
	l := newBenchLab(b, f.copy(b))
	wc, nf := newWGClient(b), l.nftIn()
	l.waitFleet(wc, nf) // and the page cache warm
	var dev, serve, sets time.Duration
	b.ResetTimer()
	for range b.N {
		b.StopTimer()
		l.s.stopGracefully(b)
		sh(b, "ip", "netns", "exec", l.gw, "nft", "delete", "table", "inet", "edgeward")
		b.StartTimer()
		t0 := time.Now()
		l.start()
		serve += time.Since(t0)
		l.waitDevicePeers(wc, fleetPeers, 30*time.Second)
		dev += time.Since(t0)
		l.waitSets(nf, fleetPeers)
		sets += time.Since(t0)
	}
	b.StopTimer()
	n := float64(b.N)
	b.ReportMetric(dev.Seconds()/n, "s")
	b.ReportMetric(serve.Seconds()/n, "serve-s")
	b.ReportMetric(sets.Seconds()/n, "sets-s")
}

// connectedPeers is how many fleet peers BenchmarkWGRSS connects: one
// namespace and one wireguard-go process each. They need addresses of
// their own: edgeward greylists for 10 minutes a source address sending
// more than 20 handshake initiations a second (burst 20), which 100 peers
// behind one address starting together do.
const connectedPeers = 100

// BenchmarkWGRSS reads edgeward's resident memory (VmRSS, the largest of
// five reads over a second) holding the fleet with connectedPeers of its
// peers connected (MiB), before any connected (idle-MiB), and its peak
// (VmHWM, peak-MiB).
func BenchmarkWGRSS(b *testing.B) {
	needBenchTools(b, "wireguard-go", "wg")
	f := sharedFleet(b)
	var rss, idle, peak int64
	for range b.N {
		l := newBenchLab(b, f.copy(b))
		wc := newWGClient(b)
		l.waitFleet(wc, l.nftIn())
		pid := l.s.cmd.Process.Pid
		idle = max(idle, rssOver(b, pid))
		dev, err := l.device(wc)
		if err != nil {
			b.Fatal(err)
		}
		for k := range connectedPeers {
			p := l.plumb("crowd-" + strconv.Itoa(k))
			startWireGuardGo(b, p.ns, p.iface)
			wgSetKey(b, p.ns, p.iface, f.keys[k].String(), "peer", dev.PublicKey.String(),
				"endpoint", l.endpoint(p), "allowed-ips", "100.64.0.1/32", "persistent-keepalive", "5")
			sh(b, "ip", "-n", p.ns, "link", "set", p.iface, "up")
		}
		awaitFor(b, 60*time.Second, "edgeward counts the peers connected", func() bool {
			return obj(l.s.call("GET", "/network/tunnel", nil, 200))["connected"] == float64(connectedPeers)
		})
		rss = max(rss, rssOver(b, pid))
		peak = max(peak, procField(b, pid, "VmHWM"))
	}
	b.ReportMetric(float64(rss)/1024, "MiB")
	b.ReportMetric(float64(idle)/1024, "idle-MiB")
	b.ReportMetric(float64(peak)/1024, "peak-MiB")
}

// rssGoalMiB is the resident memory edgeward should stay under holding
// 10,000 peers and 100,000 bans.
const rssGoalMiB = 48

// BenchmarkWGRSSBans reads edgeward's resident memory holding the fleet
// (10,000 peers, without the embedded WireGuard device: its 30 KB a peer
// are the device's, see BenchmarkWGRSS) and 100,000 bans, once steady (MiB, the largest VmRSS of
// five reads over a second; anon-MiB is the part that is not mapped files:
// the binary's own code and the store's tables are the rest) and at its peak while four clients list the
// peers for three seconds (peak-MiB, VmHWM), and reports each against
// rssGoalMiB (of_goal, peak/goal: under 1 meets it).
func BenchmarkWGRSSBans(b *testing.B) {
	needBenchTools(b, "wireguard-go", "wg")
	f := sharedFleet(b)
	var rss, anon, peak int64
	var lists int
	for range b.N {
		s := startIn(b, netns(b), f.copy(b), "--overlay", benchOverlay, "--wg-interface", "")
		if got := len(s.call("GET", "/api/peers?name=fleet-", nil, 200).([]any)); got != fleetPeers {
			b.Fatalf("%d peers, want %d", got, fleetPeers)
		}
		if status, raw := s.rawText("POST", "/network/acl/bulk?acl=ban", strings.Join(bulkAddrs(100_000), "\n")); status != 200 {
			b.Fatalf("bulk ban: %d %s", status, raw)
		}
		pid := s.cmd.Process.Pid
		// Steady: no client connected (an idle keep-alive connection keeps
		// its last answer's buffer until the idle timeout) and the trimmer
		// (2 s) has handed back what the bulk left.
		http.DefaultClient.CloseIdleConnections()
		time.Sleep(7 * time.Second)
		rss = max(rss, rssOver(b, pid))
		anon = max(anon, procField(b, pid, "RssAnon"))
		var wg sync.WaitGroup
		var mu sync.Mutex
		stop := time.Now().Add(3 * time.Second)
		for range 4 {
			wg.Go(func() {
				for time.Now().Before(stop) {
					req, _ := http.NewRequest("GET", s.base+"/api/peers", nil)
					req.Header.Set("Authorization", "Token "+s.token)
					res, err := http.DefaultClient.Do(req)
					if err != nil {
						b.Error(err)
						return
					}
					_, _ = io.Copy(io.Discard, res.Body)
					_ = res.Body.Close()
					mu.Lock()
					lists++
					mu.Unlock()
				}
			})
		}
		wg.Wait()
		peak = max(peak, procField(b, pid, "VmHWM"))
	}
	b.ReportMetric(float64(rss)/1024, "MiB")
	b.ReportMetric(float64(rss)/1024/rssGoalMiB, "of_goal")
	b.ReportMetric(float64(anon)/1024, "anon-MiB")
	b.ReportMetric(float64(peak)/1024, "peak-MiB")
	b.ReportMetric(float64(lists)/float64(b.N)/3, "lists/s")
}

// waitDevicePeers waits until the gateway's device holds n peers.
func (l *benchLab) waitDevicePeers(c *wgctrl.Client, n int, d time.Duration) {
	l.tb.Helper()
	awaitFor(l.tb, d, "the device holds "+strconv.Itoa(n)+" peers", func() bool {
		dev, err := l.device(c)
		return err == nil && len(dev.Peers) == n
	})
}

// rssOver is the largest VmRSS of pid over one second (five reads): the
// collector lets it swing by tens of MiB.
func rssOver(b *testing.B, pid int) int64 {
	var n int64
	for i := range 5 {
		if i > 0 {
			time.Sleep(250 * time.Millisecond)
		}
		n = max(n, procField(b, pid, "VmRSS"))
	}
	return n
}

// waitSets waits until the gateway's member sets hold n addresses in all.
func (l *benchLab) waitSets(c *nftables.Conn, n int) {
	l.tb.Helper()
	awaitFor(l.tb, 30*time.Second, "the sets hold "+strconv.Itoa(n)+" members", func() bool {
		got, err := memberCount(c)
		return err == nil && got == n
	})
}

// waitFleet waits until the device and the sets hold the fleet.
func (l *benchLab) waitFleet(wc *wgctrl.Client, nf *nftables.Conn) {
	l.tb.Helper()
	l.waitDevicePeers(wc, fleetPeers, 30*time.Second)
	l.waitSets(nf, fleetPeers)
}

// percentile is the nearest-rank q-th percentile of ds.
func percentile(ds []time.Duration, q float64) time.Duration {
	s := slices.Sorted(slices.Values(ds))
	i := int(math.Ceil(q*float64(len(s)))) - 1
	return s[max(0, min(i, len(s)-1))]
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
