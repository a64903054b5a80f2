package main

import (
	"bufio"
	"bytes"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/google/nftables"
	"golang.zx2c4.com/wireguard/wgctrl"
	"golang.zx2c4.com/wireguard/wgctrl/wgtypes"
)

// benchOverlay is the overlay of the benchmarks: room for the fleet's
// 10,000 peers and more (wgLab's /24 holds 253).
const benchOverlay = "100.64.0.0/16"

// benchLab is wgLab for benchmarks, whose helpers take a *testing.T: a
// gateway namespace and peer namespaces joined to it by veth pairs (the
// same addressing as wgLab), peers running Debian's wireguard-go. The
// gateway runs edgeward (s is set) or, for the baseline, a plain
// wireguard-go hub.
type benchLab struct {
	tb    testing.TB
	gw    string
	iface string
	net   int
	dir   string
	s     *server
	peers []*wgPeer
}

// needBenchTools skips the benchmark when a tool it runs is missing.
func needBenchTools(tb testing.TB, tools ...string) {
	tb.Helper()
	for _, tool := range tools {
		if _, err := exec.LookPath(tool); err != nil {
			tb.Skipf("%s is not installed (apt install wireguard-go wireguard-tools iperf3 iputils-ping)", tool)
		}
	}
}

// newBenchLab makes the gateway namespace and, when dir is not empty,
// starts edgeward there on that data directory.
func newBenchLab(tb testing.TB, dir string) *benchLab {
	tb.Helper()
	var b [1]byte
	_, _ = rand.Read(b[:])
	l := &benchLab{tb: tb, gw: netns(tb), iface: uniqueIface(), net: int(b[0]), dir: dir}
	if dir != "" {
		l.start()
	}
	return l
}

// start runs edgeward in the gateway namespace; it returns once the API
// serves.
//
// At the end it is stopped with SIGTERM, before start's cleanup kills it:
// killed, the embedded device leaves its UAPI socket behind.
func (l *benchLab) start() {
	l.tb.Helper()
	s := startIn(l.tb, l.gw, l.dir, "--wg-interface", l.iface, "--overlay", benchOverlay)
	l.tb.Cleanup(func() {
		if s.cmd.Process.Signal(syscall.SIGTERM) == nil { // not stopped already
			select {
			case <-s.done:
			case <-time.After(10 * time.Second):
			}
		}
	})
	l.s = s
}

// plumb makes a peer namespace with a veth pair to the gateway.
func (l *benchLab) plumb(name string) *wgPeer {
	p := plumbPeer(l.tb, l.gw, l.net, len(l.peers)+1, name)
	l.peers = append(l.peers, p)
	return p
}

// endpoint is the gateway's WireGuard endpoint on p's veth.
func (l *benchLab) endpoint(p *wgPeer) string {
	return strings.TrimSuffix(p.under, ".2") + ".1:51820"
}

// addPeer creates a peer through the API (the gateway makes its key),
// a namespace for it, and brings up wireguard-go there from the client
// config edgeward returned.
func (l *benchLab) addPeer(name string, groups ...string) *wgPeer {
	tb := l.tb
	tb.Helper()
	created := obj(l.s.call("POST", "/api/peers", map[string]any{"name": name, "groups": groups}, 200))
	conf, _ := created["client_config"].(string)
	c := map[string]string{}
	sc := bufio.NewScanner(strings.NewReader(conf))
	for sc.Scan() {
		if k, v, ok := strings.Cut(sc.Text(), "="); ok && !strings.HasPrefix(strings.TrimSpace(k), "#") {
			c[strings.TrimSpace(k)] = strings.TrimSpace(v)
		}
	}
	if c["PrivateKey"] == "" || c["PublicKey"] == "" || c["Address"] == "" || c["AllowedIPs"] == "" {
		tb.Fatalf("client config of %s lacks a key, address or allowed ips:\n%s", name, conf)
	}
	p := l.plumb(name)
	p.id, p.ip = created["id"].(string), created["ip"].(string)
	l.join(p, c["PrivateKey"], c["PublicKey"], c["PresharedKey"], c["Address"], strings.Split(c["AllowedIPs"], ","))
	return p
}

// join brings up wireguard-go in p's namespace as a client of the
// gateway (key gwPub, preshared key psk unless empty): private key priv,
// overlay address addr, and the prefixes it routes through the gateway.
func (l *benchLab) join(p *wgPeer, priv, gwPub, psk, addr string, allowed []string) {
	tb := l.tb
	tb.Helper()
	for i := range allowed {
		allowed[i] = strings.TrimSpace(allowed[i])
	}
	startWireGuardGo(tb, p.ns, p.iface)
	peer := []string{"peer", gwPub}
	if psk != "" {
		// wg set reads keys from files only; stdin carries the private key.
		file := filepath.Join(tb.TempDir(), "psk")
		if err := os.WriteFile(file, []byte(psk+"\n"), 0o600); err != nil {
			tb.Fatal(err)
		}
		peer = append(peer, "preshared-key", file)
	}
	wgSetKey(tb, p.ns, p.iface, priv, append(peer, "endpoint", l.endpoint(p),
		"allowed-ips", strings.Join(allowed, ","), "persistent-keepalive", "5")...)
	sh(tb, "ip", "-n", p.ns, "addr", "add", addr, "dev", p.iface)
	sh(tb, "ip", "-n", p.ns, "link", "set", p.iface, "up")
	for _, r := range allowed {
		sh(tb, "ip", "-n", p.ns, "route", "replace", r, "dev", p.iface)
	}
	p.key = publicOf(tb, priv)
}

// startWireGuardGo runs Debian's wireguard-go for interface iface in
// namespace ns until the benchmark ends.
func startWireGuardGo(tb testing.TB, ns, iface string) {
	tb.Helper()
	cmd := exec.Command("ip", "netns", "exec", ns, "wireguard-go", iface)
	cmd.Env = append(os.Environ(), "WG_PROCESS_FOREGROUND=1", "LOG_LEVEL=error")
	if err := cmd.Start(); err != nil {
		tb.Fatal(err)
	}
	sock := "/var/run/wireguard/" + iface + ".sock"
	tb.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait(); _ = os.Remove(sock) })
	awaitFor(tb, 10*time.Second, "wireguard-go "+iface+" in "+ns, func() bool { _, err := os.Stat(sock); return err == nil })
}

// wgSetKey runs wg set on iface in ns with private key priv (passed on
// stdin, never in a file or an argument) and the further arguments.
func wgSetKey(tb testing.TB, ns, iface, priv string, args ...string) {
	tb.Helper()
	cmd := exec.Command("ip", append([]string{"netns", "exec", ns, "wg", "set", iface, "private-key", "/dev/stdin"}, args...)...)
	cmd.Stdin = strings.NewReader(priv + "\n")
	if out, err := cmd.CombinedOutput(); err != nil {
		tb.Fatalf("wg set %s in %s: %v: %s", iface, ns, err, out)
	}
}

func newPrivateKey(tb testing.TB) wgtypes.Key {
	tb.Helper()
	k, err := wgtypes.GeneratePrivateKey()
	if err != nil {
		tb.Fatal(err)
	}
	return k
}

func publicOf(tb testing.TB, priv string) string {
	tb.Helper()
	k, err := wgtypes.ParseKey(priv)
	if err != nil {
		tb.Fatalf("private key: %v", err)
	}
	return k.PublicKey().String()
}

// awaitFor polls cond every 10 ms for up to d (within polls every
// 200 ms and takes a *testing.T).
func awaitFor(tb testing.TB, d time.Duration, what string, cond func() bool) {
	tb.Helper()
	for deadline := time.Now().Add(d); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		if cond() {
			return
		}
	}
	tb.Fatalf("%s: not within %s", what, d)
}

// reach waits until from can ping addr over the overlay: both tunnels
// are up and the gateway forwards.
func reach(tb testing.TB, from *wgPeer, addr string) {
	tb.Helper()
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); {
		if exec.Command("ip", "netns", "exec", from.ns, "ping", "-c", "1", "-W", "1", addr).Run() == nil {
			return
		}
	}
	tb.Fatalf("%s cannot ping %s within 30 s", from.name, addr)
}

// iperfMbps runs one iperf3 test of secs seconds from from to to over the
// overlay and returns the receiver's rate in Mbit/s.
func iperfMbps(tb testing.TB, from, to *wgPeer, secs int) float64 {
	tb.Helper()
	srv := exec.Command("ip", "netns", "exec", to.ns, "iperf3", "-s", "-1", "--forceflush", "-B", to.ip)
	out, err := srv.StdoutPipe()
	if err != nil {
		tb.Fatal(err)
	}
	if err := srv.Start(); err != nil {
		tb.Fatal(err)
	}
	defer func() { _ = srv.Process.Kill(); _ = srv.Wait() }()
	listening := make(chan bool, 1)
	go func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			if strings.Contains(sc.Text(), "listening") {
				listening <- true
				break
			}
		}
		_, _ = io.Copy(io.Discard, out)
	}()
	select {
	case <-listening:
	case <-time.After(10 * time.Second):
		tb.Fatal("iperf3 server did not listen within 10 s")
	}
	raw, err := exec.Command("ip", "netns", "exec", from.ns, "iperf3", "-c", to.ip, "-t", strconv.Itoa(secs), "-J").Output()
	var res struct {
		Error string
		End   struct {
			SumReceived struct {
				BitsPerSecond float64 `json:"bits_per_second"`
			} `json:"sum_received"`
		}
	}
	if jerr := json.Unmarshal(raw, &res); jerr != nil || err != nil || res.Error != "" || res.End.SumReceived.BitsPerSecond == 0 {
		tb.Fatalf("iperf3 %s -> %s: %v %v %s: %s", from.name, to.name, err, jerr, res.Error, raw)
	}
	return res.End.SumReceived.BitsPerSecond / 1e6
}

// The fleet: 10,000 peers in 100 groups of 100, and 100 policies of 10
// tcp rules between those groups (1,000 rules), so that every peer is an
// element of a kernel set.
const (
	fleetPeers    = 10_000
	fleetGroups   = 100
	fleetPolicies = 100
	fleetRules    = 10 // per policy
	fleetWorkers  = 8  // concurrent API clients creating the peers
)

// benchFleet is a data directory holding the fleet, made through the API
// once per test binary (edgeward is stopped; copy it for each use).
type benchFleet struct {
	dir    string
	groups []string      // group ids; peer i is in groups[i%fleetGroups]
	ips    []string      // peer i's overlay address
	keys   []wgtypes.Key // peer i's private key
}

var fleetCache struct {
	sync.Mutex
	f *benchFleet
}

// sharedFleet returns the fleet, making it on first use. It lives in the
// directory of the test binary's edgeward build, which TestMain removes.
func sharedFleet(tb testing.TB) *benchFleet {
	tb.Helper()
	fleetCache.Lock()
	defer fleetCache.Unlock()
	if fleetCache.f == nil {
		fleetCache.f = makeFleet(tb)
	}
	return fleetCache.f
}

// copy returns a copy of the fleet's data directory for one server.
func (f *benchFleet) copy(tb testing.TB) string {
	tb.Helper()
	dst := filepath.Join(tb.TempDir(), "data")
	sh(tb, "cp", "-a", f.dir, dst)
	return dst
}

// makeFleet creates the groups and policies, then the peers (fleetWorkers
// API clients at a time), then puts each group's peers in it with one
// PUT /api/groups each. The end state is the same as creating each peer
// in its group, which was five to six times slower at this size (about 50
// peers a second against 260 to 310): every create of a group member
// rebuilds the group index and the sync compares every group's members.
func makeFleet(tb testing.TB) *benchFleet {
	tb.Helper()
	f := &benchFleet{dir: filepath.Join(filepath.Dir(binary), "fleet"), ips: make([]string, fleetPeers),
		keys: make([]wgtypes.Key, fleetPeers)}
	_ = os.RemoveAll(f.dir) // what a failed attempt left
	if err := os.Mkdir(f.dir, 0o700); err != nil {
		tb.Fatal(err)
	}
	s := startIn(tb, netns(tb), f.dir, "--wg-interface", uniqueIface(), "--overlay", benchOverlay)
	t0 := time.Now()
	for i := range fleetGroups {
		g := obj(s.call("POST", "/api/groups", map[string]any{"name": fmt.Sprintf("fleet-%02d", i)}, 200))
		f.groups = append(f.groups, g["id"].(string))
	}
	for k := range fleetPolicies {
		rules := make([]any, 0, fleetRules)
		for j := range fleetRules {
			rules = append(rules, map[string]any{"name": fmt.Sprintf("r%d", j), "enabled": true, "action": "accept",
				"protocol": "tcp", "ports": []string{strconv.Itoa(8000 + fleetRules*k + j)},
				"sources": []string{f.groups[k%fleetGroups]}, "destinations": []string{f.groups[(k+1+j)%fleetGroups]}})
		}
		s.call("POST", "/api/policies", map[string]any{"name": fmt.Sprintf("fleet-%02d", k), "enabled": true, "rules": rules}, 200)
	}
	policies := time.Since(t0)
	for i := range f.keys {
		f.keys[i] = newPrivateKey(tb)
	}
	t1 := time.Now()
	ids := make([]string, fleetPeers)
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: fleetWorkers}}
	next := make(chan int)
	errs := make(chan error, fleetWorkers)
	var wg sync.WaitGroup
	for range fleetWorkers {
		wg.Go(func() {
			for i := range next {
				p, err := postFrom(client, s, "/api/peers", map[string]any{"name": fmt.Sprintf("fleet-%05d", i),
					"wg_pub_key": f.keys[i].PublicKey().String()})
				if err != nil {
					errs <- err
					return
				}
				ids[i], _ = p["id"].(string)
				f.ips[i], _ = p["ip"].(string)
			}
		})
	}
	failed := false
	for i := 0; i < fleetPeers && !failed; i++ {
		select {
		case next <- i:
		case err := <-errs:
			tb.Errorf("create fleet peer: %v", err)
			failed = true
		}
	}
	close(next)
	wg.Wait()
	if failed {
		tb.FailNow()
	}
	made := time.Since(t1)
	t2 := time.Now()
	for g := range fleetGroups {
		var members []string
		for i := g; i < fleetPeers; i += fleetGroups {
			members = append(members, ids[i])
		}
		s.call("PUT", "/api/groups/"+f.groups[g], map[string]any{"name": fmt.Sprintf("fleet-%02d", g), "peers": members}, 200)
	}
	grouped := time.Since(t2)
	tb.Logf("fleet through the API: %d groups and %d policies of %d rules in %s; %d peers in %s (%d clients, %.0f peers/s); "+
		"group members in %s", fleetGroups, fleetPolicies, fleetRules, policies.Round(time.Millisecond), fleetPeers,
		made.Round(time.Millisecond), fleetWorkers, fleetPeers/made.Seconds(), grouped.Round(time.Millisecond))
	s.stopGracefully(tb)
	return f
}

// postFrom sends one API request and decodes the object it answers. It
// may run on any goroutine: server.call fails the benchmark, which only
// the benchmark's own goroutine may do.
func postFrom(c *http.Client, s *server, path string, body any) (map[string]any, error) {
	b, err := json.Marshal(body)
	if err != nil {
		return nil, err
	}
	req, err := http.NewRequest("POST", s.base+path, bytes.NewReader(b))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Authorization", "Token "+s.token)
	req.Header.Set("Content-Type", "application/json")
	res, err := c.Do(req)
	if err != nil {
		return nil, fmt.Errorf("post %s: %w", path, err)
	}
	defer res.Body.Close()
	raw, _ := io.ReadAll(res.Body)
	if res.StatusCode != 200 {
		return nil, fmt.Errorf("post %s: status %d: %s", path, res.StatusCode, raw)
	}
	var out map[string]any
	if err := json.Unmarshal(raw, &out); err != nil {
		return nil, fmt.Errorf("post %s: %w", path, err)
	}
	return out, nil
}

// nftIn returns an nftables connection to the gateway namespace.
func (l *benchLab) nftIn() *nftables.Conn {
	tb := l.tb
	tb.Helper()
	f, err := os.Open(filepath.Join("/run/netns", l.gw))
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { f.Close() })
	c, err := nftables.New(nftables.WithNetNSFd(int(f.Fd())))
	if err != nil {
		tb.Fatal(err)
	}
	return c
}

// groupSets returns the member sets (gN) of table inet edgeward.
func groupSets(c *nftables.Conn) ([]*nftables.Set, error) {
	sets, err := c.GetSets(&nftables.Table{Name: "edgeward", Family: nftables.TableFamilyINet})
	if err != nil {
		return nil, err
	}
	var out []*nftables.Set
	for _, s := range sets {
		if n, ok := strings.CutPrefix(s.Name, "g"); ok {
			if _, err := strconv.Atoi(n); err == nil {
				out = append(out, s)
			}
		}
	}
	return out, nil
}

// setHolds reports whether set holds addr.
func setHolds(c *nftables.Conn, set *nftables.Set, addr netip.Addr) (bool, error) {
	els, err := c.GetSetElements(set)
	if err != nil {
		return false, err
	}
	want := addr.As4()
	for _, e := range els {
		if !e.IntervalEnd && bytes.Equal(e.Key, want[:]) {
			return true, nil
		}
	}
	return false, nil
}

// setOf finds the member set holding addr.
func (l *benchLab) setOf(c *nftables.Conn, addr string) *nftables.Set {
	tb := l.tb
	tb.Helper()
	sets, err := groupSets(c)
	if err != nil {
		tb.Fatalf("list sets: %v", err)
	}
	for _, s := range sets {
		if ok, err := setHolds(c, s, netip.MustParseAddr(addr)); err != nil {
			tb.Fatalf("list set %s: %v", s.Name, err)
		} else if ok {
			return s
		}
	}
	tb.Fatalf("no set of table inet edgeward holds %s", addr)
	return nil
}

// memberCount is the number of elements of every member set.
func memberCount(c *nftables.Conn) (int, error) {
	sets, err := groupSets(c)
	if err != nil {
		return 0, err
	}
	n := 0
	for _, s := range sets {
		els, err := c.GetSetElements(s)
		if err != nil {
			return 0, err
		}
		n += len(els)
	}
	return n, nil
}

// device reads the gateway's WireGuard device through its UAPI socket
// (no process spawned).
func (l *benchLab) device(c *wgctrl.Client) (*wgtypes.Device, error) {
	return c.Device(l.iface)
}

func newWGClient(tb testing.TB) *wgctrl.Client {
	tb.Helper()
	c, err := wgctrl.New()
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { c.Close() })
	return c
}

// procField reads a field of /proc/<pid>/status in KiB (VmRSS, VmHWM).
func procField(tb testing.TB, pid int, field string) int64 {
	tb.Helper()
	raw, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		tb.Fatal(err)
	}
	for line := range strings.Lines(string(raw)) {
		if rest, ok := strings.CutPrefix(line, field+":"); ok {
			n, _ := strconv.ParseInt(strings.Fields(rest)[0], 10, 64)
			return n
		}
	}
	tb.Fatalf("no %s in /proc/%d/status", field, pid)
	return 0
}
