package main

import (
	"bufio"
	"context"
	"crypto/rand"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/edgeward/edgeward/core/overlay"
	nsx "github.com/edgeward/edgeward/hw/netns"
	"github.com/miekg/dns"
)

// wgLab is a gateway namespace running edgeward (its embedded WireGuard
// device: this kernel has no WireGuard module) and peer namespaces, each
// joined to the gateway by its own veth pair and running Debian's
// wireguard-go configured with wg(8) from the configs edgeward hands out:
// an independent implementation, so the configs are proven too.
type wgLab struct {
	t     *testing.T
	gw    string // gateway namespace
	iface string // the gateway's WireGuard interface
	net   int    // random second octet of the underlay subnets
	s     *server
	dir   string
	extra []string
	peers []*wgPeer
	confs map[string]string // client config by peer id
}

// wgPeer is one peer namespace.
type wgPeer struct {
	name, ns, iface string
	id, ip, key     string // overlay id, overlay address, public key
	under           string // underlay address the gateway sees
	fd              int    // the namespace, for listeners and dials
}

func needWireGuardTools(t *testing.T) {
	t.Helper()
	for _, tool := range []string{"wireguard-go", "wg", "ping"} {
		if _, err := exec.LookPath(tool); err != nil {
			if os.Getenv("CI") != "" {
				t.Fatalf("%s is not installed: .ci/run installs it", tool)
			}
			t.Skipf("%s is not installed (apt install wireguard-go wireguard-tools iputils-ping)", tool)
		}
	}
}

func newWGLab(t *testing.T, extra ...string) *wgLab {
	t.Helper()
	needWireGuardTools(t)
	var b [1]byte
	_, _ = rand.Read(b[:])
	l := &wgLab{t: t, gw: netns(t), iface: uniqueIface(), net: int(b[0]), dir: t.TempDir(), confs: map[string]string{}}
	l.extra = append([]string{"--wg-interface", l.iface, "--overlay", "100.64.0.0/24"}, extra...)
	l.s = startIn(t, l.gw, l.dir, l.extra...)
	return l
}

// restart stops edgeward and starts it again on the same data and
// namespace.
func (l *wgLab) restart() {
	l.t.Helper()
	l.s.stopGracefully(l.t)
	l.s = startIn(l.t, l.gw, l.dir, l.extra...)
}

func sh(t testing.TB, name string, args ...string) string {
	t.Helper()
	out, err := exec.Command(name, args...).CombinedOutput()
	if err != nil {
		t.Fatalf("%s %v: %v: %s", name, args, err, out)
	}
	return string(out)
}

// addPeer creates a peer through the API, a namespace for it, and brings
// up wireguard-go there from the client config edgeward returned.
func (l *wgLab) addPeer(name string, groups ...string) *wgPeer {
	t := l.t
	t.Helper()
	body := map[string]any{"name": name}
	if len(groups) > 0 {
		body["groups"] = groups
	}
	created := obj(l.s.call("POST", "/api/peers", body, 200))
	conf, _ := created["client_config"].(string)
	if conf == "" {
		t.Fatalf("no client config for %s: %v", name, created)
	}
	p := l.plumb(name)
	p.id, p.ip = created["id"].(string), created["ip"].(string)
	l.confs[p.id] = conf
	l.up(p, conf)
	return p
}

// plumb makes a peer namespace with a veth pair to the gateway.
func (l *wgLab) plumb(name string) *wgPeer {
	p := plumbPeer(l.t, l.gw, l.net, len(l.peers)+1, name)
	l.peers = append(l.peers, p)
	return p
}

// plumbPeer makes the namespace of the i-th peer of a lab with a veth pair
// to the gateway namespace gw, on 172.(20+i).net.0/24.
func plumbPeer(tb testing.TB, gw string, net, i int, name string) *wgPeer {
	tb.Helper()
	p := &wgPeer{name: name, ns: netns(tb), iface: uniqueIface(), under: fmt.Sprintf("172.%d.%d.2", 20+i, net)}
	gwSide := fmt.Sprintf("ewu%d", i)
	for _, args := range [][]string{
		{"-n", gw, "link", "add", gwSide, "type", "veth", "peer", "name", "up0", "netns", p.ns},
		{"-n", gw, "addr", "add", fmt.Sprintf("172.%d.%d.1/24", 20+i, net), "dev", gwSide},
		{"-n", p.ns, "addr", "add", p.under + "/24", "dev", "up0"},
		{"-n", gw, "link", "set", gwSide, "up"},
		{"-n", p.ns, "link", "set", "up0", "up"},
	} {
		sh(tb, "ip", args...)
	}
	f, err := os.Open(filepath.Join("/run/netns", p.ns))
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { f.Close() })
	p.fd = int(f.Fd())
	return p
}

// gatewayAddr is the gateway's underlay address on p's veth.
func (l *wgLab) gatewayAddr(p *wgPeer) string {
	return strings.TrimSuffix(p.under, ".2") + ".1"
}

// up starts wireguard-go in p's namespace and configures it from a
// wg-quick file: the keys, AllowedIPs and DNS are edgeward's; the endpoint
// is the gateway's address on this peer's veth and the keepalive is one
// second so that a stopped peer goes stale quickly.
func (l *wgLab) up(p *wgPeer, conf string) {
	t := l.t
	t.Helper()
	c := parseConf(t, conf)
	cmd := exec.Command("ip", "netns", "exec", p.ns, "wireguard-go", p.iface)
	cmd.Env = append(os.Environ(), "WG_PROCESS_FOREGROUND=1", "LOG_LEVEL=error")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait(); os.Remove("/var/run/wireguard/" + p.iface + ".sock") })
	sock := "/var/run/wireguard/" + p.iface + ".sock"
	eventually(t, "wireguard-go up in "+p.name, func() bool { _, err := os.Stat(sock); return err == nil })
	keyFile := filepath.Join(t.TempDir(), "key")
	if err := os.WriteFile(keyFile, []byte(c["PrivateKey"]), 0o600); err != nil {
		t.Fatal(err)
	}
	pub := strings.TrimSpace(runIn(t, p.ns, "wg", "pubkey", "<"+keyFile))
	p.key = pub
	psk := []string{}
	if c["PresharedKey"] != "" {
		pskFile := filepath.Join(t.TempDir(), "psk")
		if err := os.WriteFile(pskFile, []byte(c["PresharedKey"]), 0o600); err != nil {
			t.Fatal(err)
		}
		psk = []string{"preshared-key", pskFile}
	}
	runIn(t, p.ns, append(append([]string{"wg", "set", p.iface, "private-key", keyFile, "peer", c["PublicKey"]}, psk...),
		"endpoint", l.gatewayAddr(p)+":51820", "allowed-ips", strings.ReplaceAll(c["AllowedIPs"], " ", ""), "persistent-keepalive", "1")...)
	sh(t, "ip", "-n", p.ns, "addr", "add", c["Address"], "dev", p.iface)
	sh(t, "ip", "-n", p.ns, "link", "set", p.iface, "up")
	for _, r := range strings.Split(c["AllowedIPs"], ",") {
		if r = strings.TrimSpace(r); r != "" {
			sh(t, "ip", "-n", p.ns, "route", "replace", r, "dev", p.iface)
		}
	}
	if dns := c["DNS"]; dns != "100.64.0.1" {
		t.Fatalf("client config DNS = %q, want the gateway's overlay address", dns)
	}
}

// runIn runs a shell command line in namespace ns (for wg pubkey's stdin).
func runIn(t *testing.T, ns string, args ...string) string {
	t.Helper()
	return sh(t, "ip", "netns", "exec", ns, "sh", "-c", strings.Join(args, " "))
}

// parseConf reads the keys of a wg-quick file (one section each is enough
// here: the gateway is the only [Peer]).
func parseConf(t *testing.T, conf string) map[string]string {
	t.Helper()
	out := map[string]string{}
	sc := bufio.NewScanner(strings.NewReader(conf))
	for sc.Scan() {
		k, v, ok := strings.Cut(sc.Text(), "=")
		if !ok || strings.HasPrefix(strings.TrimSpace(k), "#") {
			continue
		}
		out[strings.TrimSpace(k)] = strings.TrimSpace(v)
	}
	for _, k := range []string{"PrivateKey", "Address", "PublicKey", "AllowedIPs"} {
		if out[k] == "" {
			t.Fatalf("client config has no %s:\n%s", k, conf)
		}
	}
	return out
}

// listen opens TCP listeners in p's namespace on its overlay address.
func (p *wgPeer) listen(t *testing.T, ports ...int) {
	t.Helper()
	for _, port := range ports {
		var ln net.Listener
		err := nsx.Do(p.fd, func() (err error) {
			ln, err = net.Listen("tcp", fmt.Sprintf("%s:%d", p.ip, port))
			return err
		})
		if err != nil {
			t.Fatalf("listen in %s: %v", p.name, err)
		}
		t.Cleanup(func() { ln.Close() })
		go func() {
			for {
				c, err := ln.Accept()
				if err != nil {
					return
				}
				c.Close()
			}
		}()
	}
}

// dial reports whether p can open a TCP connection to addr:port.
func (p *wgPeer) dial(addr string, port int) bool {
	var c net.Conn
	err := nsx.Do(p.fd, func() (err error) {
		c, err = net.DialTimeout("tcp", fmt.Sprintf("%s:%d", addr, port), 700*time.Millisecond)
		return err
	})
	if err != nil {
		return false
	}
	c.Close()
	return true
}

func (p *wgPeer) ping(t *testing.T, addr string) bool {
	t.Helper()
	return exec.Command("ip", "netns", "exec", p.ns, "ping", "-c", "1", "-W", "1", addr).Run() == nil
}

// waitConnected waits until the API says every peer is connected.
func (l *wgLab) waitConnected(peers ...*wgPeer) {
	l.t.Helper()
	for _, p := range peers {
		// Traffic starts the handshake; the keepalive keeps it up.
		p.ping(l.t, "100.64.0.1")
		eventually(l.t, p.name+" connected", func() bool {
			return obj(l.s.call("GET", "/api/peers/"+p.id, nil, 200))["connected"] == true
		})
	}
}

func TestWireGuardDataPlane(t *testing.T) {
	l := newWGLab(t, "--wg-stale", "4s")
	s := l.s
	devs := obj(s.call("POST", "/api/groups", map[string]any{"name": "devs"}, 200))["id"].(string)
	srvs := obj(s.call("POST", "/api/groups", map[string]any{"name": "servers"}, 200))["id"].(string)
	a := l.addPeer("alpha", devs)
	b := l.addPeer("beta", srvs)
	c := l.addPeer("gamma")
	for _, p := range []*wgPeer{a, b, c} {
		p.listen(t, 22, 80)
	}

	t.Run("handshake", func(t *testing.T) {
		l.waitConnected(a, b, c)
		got := obj(s.call("GET", "/api/peers/"+a.id, nil, 200))
		if got["connection_ip"] != a.under {
			t.Errorf("connection_ip = %v, want %s", got["connection_ip"], a.under)
		}
		if ls, _ := time.Parse(time.RFC3339Nano, fmt.Sprint(got["last_seen"])); time.Since(ls) > time.Minute {
			t.Errorf("last_seen = %v", got["last_seen"])
		}
		conns := arr(s.call("GET", "/network/connections", nil, 200))
		if len(conns) != 3 {
			t.Fatalf("/network/connections lists %d, want 3: %v", len(conns), conns)
		}
		// wg show on the gateway agrees with the API.
		dump := sh(t, "ip", "netns", "exec", l.gw, "wg", "show", l.iface, "dump")
		for _, p := range []*wgPeer{a, b, c} {
			line := ""
			for _, ln := range strings.Split(dump, "\n") {
				if strings.HasPrefix(ln, p.key+"\t") {
					line = ln
				}
			}
			f := strings.Split(line, "\t")
			if psk := parseConf(t, l.configOf(p))["PresharedKey"]; len(f) < 2 || psk == "" || f[1] != psk {
				t.Errorf("wg show for %s: preshared key %q, want the config's %q", p.name, f[1:2], psk)
			}
			if len(f) < 8 || f[2] != p.under+":51820" && !strings.HasPrefix(f[2], p.under+":") || f[3] != p.ip+"/32" {
				t.Errorf("wg show for %s: %q, want endpoint %s:* and allowed ips %s/32", p.name, line, p.under, p.ip)
			}
		}
		st := obj(s.call("GET", "/network/tunnel", nil, 200))
		if st["running"] != true || st["connected"] != 3.0 {
			t.Errorf("/network/tunnel = %v", st)
		}
	})

	// Nothing is allowed yet: no policy exists.
	t.Run("no policy reaches nobody", func(t *testing.T) {
		if a.dial(b.ip, 22) || b.dial(a.ip, 22) || c.dial(a.ip, 80) {
			t.Fatal("peers reach each other with no policy")
		}
		if !a.ping(t, "100.64.0.1") {
			t.Fatal("a peer cannot ping the gateway")
		}
	})

	sshRule := func(both bool) map[string]any {
		return map[string]any{"name": "ssh", "enabled": true, "rules": []any{
			map[string]any{"name": "ssh", "enabled": true, "action": "accept", "bidirectional": both, "protocol": "tcp",
				"ports": []string{"22"}, "sources": []string{devs}, "destinations": []string{srvs}}}}
	}
	pol := obj(s.call("POST", "/api/policies", sshRule(false), 200))

	t.Run("policy is what the kernel lets through", func(t *testing.T) {
		eventually(t, "alpha reaches beta:22", func() bool { return a.dial(b.ip, 22) })
		if a.dial(b.ip, 80) {
			t.Error("alpha reaches beta:80 over a tcp/22 rule")
		}
		if b.dial(a.ip, 22) {
			t.Error("beta opens to alpha over a one-way rule")
		}
		l.matrix(t)
	})

	t.Run("bidirectional", func(t *testing.T) {
		s.call("PUT", "/api/policies/"+pol["id"].(string), sshRule(true), 200)
		eventually(t, "beta reaches alpha:22", func() bool { return b.dial(a.ip, 22) })
		l.matrix(t)
	})

	t.Run("group membership", func(t *testing.T) {
		s.call("PUT", "/api/groups/"+devs, map[string]any{"name": "devs", "peers": []string{a.id, c.id}}, 200)
		eventually(t, "gamma reaches beta:22", func() bool { return c.dial(b.ip, 22) })
		l.matrix(t)
		s.call("PUT", "/api/groups/"+devs, map[string]any{"name": "devs", "peers": []string{a.id}}, 200)
		eventually(t, "gamma no longer reaches beta", func() bool { return !c.dial(b.ip, 22) })
	})

	t.Run("dns", func(t *testing.T) {
		l.matrix(t) // settle
		fqdn := func(p *wgPeer) string {
			return obj(s.call("GET", "/api/peers/"+p.id, nil, 200))["dns_label"].(string)
		}
		if got := a.lookup(t, fqdn(b)); got != b.ip {
			t.Errorf("alpha resolving beta = %q, want %s", got, b.ip)
		}
		if got := c.lookup(t, fqdn(b)); got != "" {
			t.Errorf("gamma (reaching nobody) resolved beta to %q", got)
		}
	})

	t.Run("kick", func(t *testing.T) {
		pid := c.p2pID(t, s)
		s.call("DELETE", "/network/connections/"+pid, nil, 200)
		if got := obj(s.call("GET", "/api/peers/"+c.id, nil, 200)); got["connected"] != false {
			t.Fatalf("kicked peer still connected: %v", got)
		}
		dump := sh(t, "ip", "netns", "exec", l.gw, "wg", "show", l.iface, "peers")
		if strings.Contains(dump, c.key) {
			t.Fatal("kicked peer still on the device")
		}
		if c.ping(t, "100.64.0.1") {
			t.Fatal("kicked peer still reaches the gateway")
		}
	})

	t.Run("restart", func(t *testing.T) {
		l.restart()
		s = l.s
		// The embedded device went with the process, and its sessions: the
		// peers handshake again once theirs go unanswered (about 15 s).
		within(t, time.Minute, "alpha reaches beta after a restart", func() bool { return a.dial(b.ip, 22) })
		peers := sh(t, "ip", "netns", "exec", l.gw, "wg", "show", l.iface, "peers")
		for _, p := range []*wgPeer{a, b, c} {
			if !strings.Contains(peers, p.key) {
				t.Errorf("%s not on the device after a restart (a kick lasts for the process only)", p.name)
			}
		}
		l.waitConnected(a, b)
		l.matrix(t)
	})

	t.Run("drift repaired", func(t *testing.T) {
		sh(t, "ip", "netns", "exec", l.gw, "wg", "set", l.iface, "peer", a.key, "remove")
		eventually(t, "alpha back on the device", func() bool {
			return strings.Contains(sh(t, "ip", "netns", "exec", l.gw, "wg", "show", l.iface, "peers"), a.key)
		})
		within(t, time.Minute, "alpha reaches beta again", func() bool { return a.dial(b.ip, 22) })
	})

	t.Run("peer id ban", func(t *testing.T) {
		onDevice := func() bool {
			return strings.Contains(sh(t, "ip", "netns", "exec", l.gw, "wg", "show", l.iface, "peers"), c.key)
		}
		pid := overlay.PeerID(c.key)
		s.call("PATCH", "/network/peers/"+pid, map[string]any{"acl": "ban"}, 200)
		eventually(t, "a banned peer off the device", func() bool { return !onDevice() })
		s.call("PATCH", "/network/peers/"+pid, map[string]any{"acl": "open"}, 200)
		eventually(t, "an opened peer back on the device", onDevice)
	})
}

// within polls cond for up to d.
func within(t *testing.T, d time.Duration, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(d); time.Now().Before(deadline); time.Sleep(200 * time.Millisecond) {
		if cond() {
			return
		}
	}
	t.Fatalf("%s: not within %s", what, d)
}

// matrix checks pair by pair that a peer can open a connection to another
// exactly when accessible-peers lists it (port 22: every rule here
// allows it when it allows anything).
func (l *wgLab) matrix(t *testing.T) {
	t.Helper()
	for _, from := range l.peers {
		if from.id == "" {
			continue
		}
		var allowed []string
		for _, p := range arr(l.s.call("GET", "/api/peers/"+from.id+"/accessible-peers", nil, 200)) {
			allowed = append(allowed, obj(p)["id"].(string))
		}
		for _, to := range l.peers {
			if to == from || to.id == "" {
				continue
			}
			want := slices.Contains(allowed, to.id)
			if got := from.dial(to.ip, 22); got != want {
				t.Errorf("%s -> %s:22 connects=%v, accessible-peers says %v", from.name, to.name, got, want)
			}
		}
	}
}

// lookup asks the gateway's DNS for name's A record from p; "" when it
// has none.
func (p *wgPeer) lookup(t *testing.T, name string) string {
	t.Helper()
	var conn net.Conn
	// The socket is made in the peer's namespace; the exchange may run
	// anywhere after that.
	if err := nsx.Do(p.fd, func() (err error) {
		conn, err = net.Dial("udp", "100.64.0.1:53")
		return err
	}); err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	m := new(dns.Msg).SetQuestion(dns.Fqdn(name), dns.TypeA)
	c := &dns.Client{Timeout: 2 * time.Second}
	r, _, err := c.ExchangeWithConn(m, &dns.Conn{Conn: conn})
	if err != nil {
		t.Fatalf("%s asking for %s: %v", p.name, name, err)
	}
	for _, rr := range r.Answer {
		if a, ok := rr.(*dns.A); ok {
			return a.A.String()
		}
	}
	return ""
}

// p2pID is the peer's id in the /network dialect.
func (p *wgPeer) p2pID(t *testing.T, s *server) string {
	t.Helper()
	for _, c := range arr(s.call("GET", "/network/connections", nil, 200)) {
		if obj(c)["id_point"] != nil && strings.Contains(fmt.Sprint(obj(c)["id_point"]), p.under) {
			return obj(c)["peer_id"].(string)
		}
	}
	t.Fatalf("%s not in /network/connections", p.name)
	return ""
}

// TestWireGuardTemporaryAccessAndResources: a temporary peer reaches
// exactly its rules and goes, with its policy and kernel rules, once its
// tunnel goes stale; a network behind the gateway is reached only by the
// group a policy lets reach it, masqueraded.
func TestWireGuardTemporaryAccessAndResources(t *testing.T) {
	l := newWGLab(t, "--wg-stale", "3s")
	s := l.s
	devs := obj(s.call("POST", "/api/groups", map[string]any{"name": "devs"}, 200))["id"].(string)
	a := l.addPeer("alpha", devs)
	b := l.addPeer("beta")
	b.listen(t, 22, 80)
	gwKey := parseConf(t, l.configOf(a))["PublicKey"]

	t.Run("temporary access", func(t *testing.T) {
		priv := strings.TrimSpace(sh(t, "wg", "genkey"))
		pub := strings.TrimSpace(runIn(t, l.gw, "echo", priv, "|", "wg", "pubkey"))
		tmp := obj(s.call("POST", "/api/peers/"+b.id+"/temporary-access",
			map[string]any{"name": "support", "wg_pub_key": pub, "rules": []string{"tcp/80"}}, 200))
		id := tmp["id"].(string)
		ip := obj(s.call("GET", "/api/peers/"+id, nil, 200))["ip"].(string)
		p := l.plumb("support")
		p.id, p.ip = id, ip
		l.up(p, "[Interface]\nPrivateKey = "+priv+"\nAddress = "+ip+"/32\nDNS = 100.64.0.1\n\n[Peer]\nPublicKey = "+gwKey+
			"\nAllowedIPs = 100.64.0.0/24\n")
		l.waitConnected(p)
		if !p.dial(b.ip, 80) {
			t.Fatal("temporary peer cannot reach its target's tcp/80")
		}
		if p.dial(b.ip, 22) {
			t.Fatal("temporary peer reaches tcp/22, not in its rules")
		}
		if p.dial(a.ip, 80) {
			t.Fatal("temporary peer reaches a peer other than its target")
		}
		if !strings.Contains(sh(t, "ip", "netns", "exec", l.gw, "nft", "list", "chain", "inet", "edgeward", "ovfwd"), ip) {
			t.Fatal("no kernel rule names the temporary peer")
		}
		// The peer stops: its interface goes and wireguard-go with it.
		sh(t, "ip", "-n", p.ns, "link", "del", p.iface)
		within(t, 30*time.Second, "temporary peer deleted once stale", func() bool {
			st, _ := s.raw("GET", "/api/peers/"+id, nil)
			return st == 404
		})
		for _, pol := range arr(s.call("GET", "/api/policies", nil, 200)) {
			if strings.Contains(fmt.Sprint(obj(pol)["name"]), "support") {
				t.Fatalf("its policy outlived it: %v", pol)
			}
		}
		eventually(t, "its kernel rule gone", func() bool {
			return !strings.Contains(sh(t, "ip", "netns", "exec", l.gw, "nft", "list", "chain", "inet", "edgeward", "ovfwd"), ip)
		})
		if strings.Contains(sh(t, "ip", "netns", "exec", l.gw, "wg", "show", l.iface, "peers"), pub) {
			t.Fatal("the temporary peer is still on the device")
		}
	})

	t.Run("resources", func(t *testing.T) {
		lanNet, lanHost := l.lan()
		lan := obj(s.call("POST", "/api/groups", map[string]any{"name": "lan",
			"resources": []any{map[string]any{"id": lanNet}}}, 200))["id"].(string)
		s.call("POST", "/api/policies", map[string]any{"name": "devs to lan", "enabled": true, "rules": []any{
			map[string]any{"name": "lan", "enabled": true, "action": "accept", "protocol": "tcp",
				"sources": []string{devs}, "destinations": []string{lan}}}}, 200)
		// A peer made after the policy: its config routes the LAN.
		d := l.addPeer("delta", devs)
		if !strings.Contains(l.configOf(d), lanNet) {
			t.Fatalf("config of a peer allowed to the LAN does not route it:\n%s", l.configOf(d))
		}
		// beta is in no group that reaches the LAN; it is given the route
		// by hand, as a user trying their luck would.
		sh(t, "ip", "netns", "exec", b.ns, "wg", "set", b.iface, "peer", gwKey, "allowed-ips", "100.64.0.0/24,"+lanNet)
		sh(t, "ip", "-n", b.ns, "route", "replace", lanNet, "dev", b.iface)
		l.waitConnected(d)
		from := lanHost.accepted(t)
		within(t, 20*time.Second, "delta reaches the LAN", func() bool { return d.dialAddr(lanHost.addr) })
		if got := <-from; got != strings.TrimSuffix(lanNet, ".0/24")+".1" {
			t.Errorf("the LAN saw the connection from %s, want the gateway's LAN address (masquerade)", got)
		}
		if b.dialAddr(lanHost.addr) {
			t.Error("beta reaches the LAN with no policy allowing it")
		}
		// The internet as a resource is not a way to the other peers.
		inet := obj(s.call("POST", "/api/groups", map[string]any{"name": "internet",
			"resources": []any{map[string]any{"id": "0.0.0.0/0"}}}, 200))["id"].(string)
		s.call("POST", "/api/policies", map[string]any{"name": "devs out", "enabled": true, "rules": []any{
			map[string]any{"name": "out", "enabled": true, "action": "accept", "protocol": "all",
				"sources": []string{devs}, "destinations": []string{inet}}}}, 200)
		time.Sleep(500 * time.Millisecond)
		if d.dial(b.ip, 22) || a.dial(b.ip, 22) {
			t.Error("a peer allowed to the internet (0.0.0.0/0) reaches another peer")
		}
		if !d.dialAddr(lanHost.addr) {
			t.Error("delta lost the LAN")
		}
	})
}

// configOf is the client config the gateway made for p when it was
// added.
func (l *wgLab) configOf(p *wgPeer) string { return l.confs[p.id] }

// lanService is a TCP listener in a LAN namespace behind the gateway.
type lanService struct {
	addr string
	ln   net.Listener
}

// lan makes a namespace behind the gateway (a LAN with no route back to
// the overlay: replies reach the overlay only through masquerading) with
// a TCP listener, and returns its network and the listener.
func (l *wgLab) lan() (string, *lanService) {
	t := l.t
	t.Helper()
	ns := netns(t)
	base := fmt.Sprintf("192.168.%d", l.net)
	sh(t, "ip", "-n", l.gw, "link", "add", "ewlan", "type", "veth", "peer", "name", "eth0", "netns", ns)
	sh(t, "ip", "-n", l.gw, "addr", "add", base+".1/24", "dev", "ewlan")
	sh(t, "ip", "-n", ns, "addr", "add", base+".2/24", "dev", "eth0")
	sh(t, "ip", "-n", l.gw, "link", "set", "ewlan", "up")
	sh(t, "ip", "-n", ns, "link", "set", "eth0", "up")
	f, err := os.Open(filepath.Join("/run/netns", ns))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	svc := &lanService{addr: base + ".2:8080"}
	if err := nsx.Do(int(f.Fd()), func() (err error) {
		svc.ln, err = net.Listen("tcp", svc.addr)
		return err
	}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { svc.ln.Close() })
	return base + ".0/24", svc
}

// accepted serves the listener and sends the source address of the first
// connection.
func (s *lanService) accepted(t *testing.T) <-chan string {
	out := make(chan string, 1)
	go func() {
		first := true
		for {
			c, err := s.ln.Accept()
			if err != nil {
				return
			}
			if first {
				host, _, _ := net.SplitHostPort(c.RemoteAddr().String())
				out <- host
				first = false
			}
			c.Close()
		}
	}()
	return out
}

// dialAddr reports whether p can open a TCP connection to host:port.
func (p *wgPeer) dialAddr(addr string) bool {
	host, port, _ := net.SplitHostPort(addr)
	var n int
	fmt.Sscan(port, &n)
	return p.dial(host, n)
}

// TestWithoutKernelHelp runs edgeward as root stripped of every
// capability, inside a namespace of the test's (it cannot enter one
// itself then): no firewall, no WireGuard device. The API keeps working
// and says why the data plane does not run.
func TestWithoutKernelHelp(t *testing.T) {
	if _, err := exec.LookPath("setpriv"); err != nil {
		t.Skip("setpriv (util-linux) is not installed")
	}
	ns := netns(t)
	f, err := os.Open(filepath.Join("/run/netns", ns))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	fd := int(f.Fd())
	s := startWrapped(t, []string{"ip", "netns", "exec", ns, "setpriv", "--bounding-set=-all", "--inh-caps=-all", "--"}, t.TempDir())
	// The API listens on the namespace's loopback: dial it from there.
	s.client = &http.Client{Transport: &http.Transport{DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
		var c net.Conn
		err := nsx.Do(fd, func() (err error) {
			var d net.Dialer
			c, err = d.DialContext(ctx, network, addr)
			return err
		})
		return c, err
	}}}
	st := obj(s.call("GET", "/network/tunnel", nil, 200))
	if st["running"] != false || !strings.Contains(fmt.Sprint(st["why"]), "not running") {
		t.Fatalf("/network/tunnel without capabilities = %v, want not running and why", st)
	}
	p := obj(s.call("POST", "/api/peers", map[string]any{"name": "still-works"}, 200))
	if p["client_config"] == nil {
		t.Fatalf("peer created without a data plane: %v", p)
	}
	s.call("DELETE", "/network/connections/"+overlay.PeerID(p["wg_pub_key"].(string)), nil, 200)
	if !strings.Contains(s.log.String(), "data plane unavailable") {
		t.Fatalf("the log does not say the data plane is unavailable:\n%s", s.log)
	}
}
