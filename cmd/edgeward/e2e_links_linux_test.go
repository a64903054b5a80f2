package main

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// linkMTU reads a link's MTU in the router namespace from iproute2.
func (l *lab) linkMTU(t *testing.T, name string) int {
	t.Helper()
	out, err := exec.Command("ip", "-n", l.router, "-j", "link", "show", name).Output()
	if err != nil {
		t.Fatalf("ip link show %s: %v", name, err)
	}
	var links []struct{ MTU int }
	if err := json.Unmarshal(out, &links); err != nil || len(links) != 1 {
		t.Fatalf("ip -j link show %s: %s", name, out)
	}
	return links[0].MTU
}

// TestLinksThroughTheBinary manages the router namespace's links through
// the /v2 API of the real binary: status from the kernel, an MTU change
// applied, an unconfirmed change rolled back, a confirmed one kept.
func TestLinksThroughTheBinary(t *testing.T) {
	l := newLab(t)
	s := startIn(t, l.router, t.TempDir(), "--manage-links", "--node-name", "lab-router")
	var id float64
	eventually(t, "interface ewr adopted", func() bool {
		for _, in := range arr(s.call("GET", "/v2/network/interfaces/", nil, 200)) {
			if obj(in)["name"] == "ewr" {
				id = obj(in)["id"].(float64)
				return true
			}
		}
		return false
	})
	base := fmt.Sprintf("/v2/network/interfaces/%d", int(id))
	st := obj(s.call("GET", base+"/status/1", nil, 200))
	det := obj(st["interface_details"])
	if st["node_name"] != "lab-router" || det["interface_status"] != "UP" || det["cable_status"] != "CONNECTED" || det["speed"] != 10000.0 {
		t.Fatalf("status = %v", st)
	}
	nets := arr(st["network_statuses"])
	if len(nets) == 0 || obj(nets[0])["address"] != l.routerIP {
		t.Fatalf("network statuses = %v, want %s", nets, l.routerIP)
	}

	applied := func(mtu int) func() bool {
		return func() bool {
			return l.linkMTU(t, "ewr") == mtu && obj(s.call("GET", base+"/status/1", nil, 200))["update_status"] == "CHANGES_APPLIED"
		}
	}
	s.call("PATCH", base, map[string]any{"mtu": 1400}, 202)
	eventually(t, "MTU 1400 applied", applied(1400))

	// Not confirmed within 2 s: rolled back by itself.
	s.call("PATCH", base+"?confirm_within=2", map[string]any{"mtu": 1300}, 202)
	eventually(t, "MTU 1300 applied", func() bool { return l.linkMTU(t, "ewr") == 1300 })
	eventually(t, "rolled back to 1400", applied(1400))

	// Confirmed in time: kept.
	s.call("PATCH", base+"?confirm_within=3", map[string]any{"mtu": 1450}, 202)
	eventually(t, "MTU 1450 applied", func() bool { return l.linkMTU(t, "ewr") == 1450 })
	s.call("POST", base+"/confirm", nil, 202)
	time.Sleep(4 * time.Second)
	if got := l.linkMTU(t, "ewr"); got != 1450 {
		t.Fatalf("confirmed MTU became %d", got)
	}
	s.call("PATCH", base, map[string]any{"mtu": 70000}, 400)

	// A new static address, with the link taken down by hand first: the
	// written config brings it up again and moves the address.
	if out, err := exec.Command("ip", "-n", l.router, "link", "set", "ewr", "down").CombinedOutput(); err != nil {
		t.Fatalf("link down: %v: %s", err, out)
	}
	moved := l.routerIP[:strings.LastIndex(l.routerIP, ".")] + ".9"
	s.call("PATCH", base+"/networks/1", map[string]any{"ip_ranges": []string{moved}}, 202)
	eventually(t, "address moved and link up", func() bool {
		out, _ := exec.Command("ip", "-n", l.router, "-j", "addr", "show", "ewr").Output()
		var ifs []struct {
			Flags    []string `json:"flags"`
			AddrInfo []struct {
				Local string `json:"local"`
			} `json:"addr_info"`
		}
		_ = json.Unmarshal(out, &ifs)
		if len(ifs) != 1 {
			return false
		}
		var addrs []string
		for _, a := range ifs[0].AddrInfo {
			addrs = append(addrs, a.Local)
		}
		return strings.Contains(strings.Join(ifs[0].Flags, ","), "UP") && strings.Contains(strings.Join(addrs, ","), moved) &&
			!strings.Contains(strings.Join(addrs, ",")+",", l.routerIP+",")
	})
	eventually(t, "address change applied", applied(1450))
	s.stopGracefully(t)
}

// TestDHCPThroughTheBinary switches the router's link to DHCP over the API
// and checks it gets a lease from dnsmasq in the client namespace, its DNS
// lands in the resolver file, and the old static address is gone.
func TestDHCPThroughTheBinary(t *testing.T) {
	dnsmasq, err := exec.LookPath("dnsmasq")
	if err != nil {
		t.Skip("dnsmasq is not installed")
	}
	l := newLab(t)
	prefix := l.clientIP[:strings.LastIndex(l.clientIP, ".")]
	dir := t.TempDir()
	srv := exec.Command("ip", "netns", "exec", l.client, dnsmasq, "--no-daemon", "--no-resolv", "--no-hosts", "--port=0",
		"--interface=ewc", "--bind-interfaces", "--dhcp-range="+prefix+".50,"+prefix+".60,2m",
		"--dhcp-option=option:router,"+l.clientIP, "--dhcp-option=option:dns-server,"+prefix+".53",
		"--dhcp-leasefile="+filepath.Join(dir, "leases"), "--pid-file="+filepath.Join(dir, "pid"))
	if err := srv.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = srv.Process.Kill(); _ = srv.Wait() })

	resolv := filepath.Join(dir, "resolv.conf")
	s := startIn(t, l.router, t.TempDir(), "--manage-links", "--resolv-conf", resolv)
	var id float64
	eventually(t, "interface ewr adopted", func() bool {
		for _, in := range arr(s.call("GET", "/v2/network/interfaces/", nil, 200)) {
			if obj(in)["name"] == "ewr" {
				id = obj(in)["id"].(float64)
				return true
			}
		}
		return false
	})
	base := fmt.Sprintf("/v2/network/interfaces/%d", int(id))
	s.call("PATCH", base+"/networks/1", map[string]any{"assigned_by": "DHCP", "ip_ranges": []string{}, "netmask": ""}, 202)
	var leased string
	eventually(t, "lease applied", func() bool {
		out, _ := exec.Command("ip", "-n", l.router, "-j", "addr", "show", "ewr").Output()
		var ifs []struct {
			AddrInfo []struct {
				Local     string `json:"local"`
				ValidLife uint64 `json:"valid_life_time"`
			} `json:"addr_info"`
		}
		_ = json.Unmarshal(out, &ifs)
		has, static := false, false
		for _, i := range ifs {
			for _, a := range i.AddrInfo {
				if strings.HasPrefix(a.Local, prefix+".5") || strings.HasPrefix(a.Local, prefix+".60") {
					has, leased = a.ValidLife < 1<<31, a.Local
				}
				static = static || a.Local == l.routerIP
			}
		}
		return has && !static
	})
	st := obj(s.call("GET", base+"/status/1", nil, 200))
	if n := obj(arr(st["network_statuses"])[0]); n["assigned_by"] != "DHCP" || n["address"] != leased {
		t.Fatalf("network status = %v, want DHCP %s", n, leased)
	}
	eventually(t, "lease DNS in the resolver file", func() bool {
		b, _ := os.ReadFile(resolv)
		return strings.Contains(string(b), "nameserver "+prefix+".53")
	})
	s.stopGracefully(t)
}
