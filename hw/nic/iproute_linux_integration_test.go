//go:build linux

package nic

import (
	"fmt"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/edgeward/edgeward/core/links"
)

// What iproute2 and ethtool say about the links of a test namespace, in
// the shapes the tests compare with Links.

// ipLink is a link as `ip -j -d -s link` prints it.
type ipLink struct {
	Ifindex   int      `json:"ifindex"`
	Ifname    string   `json:"ifname"`
	Flags     []string `json:"flags"`
	MTU       int      `json:"mtu"`
	MinMTU    int      `json:"min_mtu"`
	MaxMTU    int      `json:"max_mtu"`
	Operstate string   `json:"operstate"`
	Address   string   `json:"address"`
	Linkinfo  *struct {
		InfoKind string `json:"info_kind"`
	} `json:"linkinfo"`
	Stats64 struct {
		RX struct {
			Bytes uint64 `json:"bytes"`
		} `json:"rx"`
		TX struct {
			Bytes uint64 `json:"bytes"`
		} `json:"tx"`
	} `json:"stats64"`
}

// linkView is what a test compares of one link.
type linkView struct {
	Index                int
	Name, MAC, Kind      string
	MTU, MinMTU, MaxMTU  int
	AdminUp              bool
	OperState            string
	Carrier              string // "yes", "no"; "" for links that are down
	GatewayV4, GatewayV6 string
	Addrs                []string // "prefix ASSIGNED_BY"
	RxBytes, TxBytes     uint64   // filled by tests that read counters
	SpeedMbps            int
	Duplex, LinkDetected string
}

func viewOf(l links.Link) linkView {
	v := linkView{Index: l.Index, Name: l.Name, MAC: l.MAC, Kind: l.Kind, MTU: l.MTU, MinMTU: l.MinMTU,
		MaxMTU: l.MaxMTU, AdminUp: l.AdminUp, OperState: l.OperState}
	if l.AdminUp {
		v.Carrier = yesNo(l.Carrier)
	}
	if l.GatewayV4.IsValid() {
		v.GatewayV4 = l.GatewayV4.String()
	}
	if l.GatewayV6.IsValid() {
		v.GatewayV6 = l.GatewayV6.String()
	}
	for _, a := range l.Addrs {
		v.Addrs = append(v.Addrs, a.Prefix.String()+" "+a.AssignedBy)
	}
	slices.Sort(v.Addrs)
	return v
}

func yesNo(b *bool) string {
	switch {
	case b == nil:
		return "unknown"
	case *b:
		return "yes"
	}
	return "no"
}

// ipViews reads the namespace's links, addresses and default routes with
// iproute2.
func (ns *testNS) ipViews(t testing.TB) map[string]linkView {
	t.Helper()
	var ls []ipLink
	ns.ipJSON(t, &ls, "-d", "-s", "link")
	addrs, gws := ns.ipAddrs(t), ns.ipGateways(t)
	out := map[string]linkView{}
	for _, l := range ls {
		v := linkView{Index: l.Ifindex, Name: l.Ifname, MAC: l.Address, MTU: l.MTU, MinMTU: l.MinMTU,
			MaxMTU: l.MaxMTU, AdminUp: slices.Contains(l.Flags, "UP"), OperState: l.Operstate,
			Addrs: addrs[l.Ifname], GatewayV4: gws[l.Ifname][0], GatewayV6: gws[l.Ifname][1],
			RxBytes: l.Stats64.RX.Bytes, TxBytes: l.Stats64.TX.Bytes}
		switch {
		case l.Linkinfo != nil:
			v.Kind = l.Linkinfo.InfoKind
		case slices.Contains(l.Flags, "LOOPBACK"):
			v.Kind = "loopback"
		}
		if v.AdminUp {
			// IFF_LOWER_UP is the carrier of a link that is up.
			v.Carrier = map[bool]string{true: "yes", false: "no"}[slices.Contains(l.Flags, "LOWER_UP")]
		}
		out[l.Ifname] = v
	}
	return out
}

// ipAddrs returns each link's addresses as "prefix ASSIGNED_BY", where
// iproute2's scope and "dynamic" (no IFA_F_PERMANENT) tell the kind.
func (ns *testNS) ipAddrs(t testing.TB) map[string][]string {
	t.Helper()
	var ls []struct {
		Ifname   string `json:"ifname"`
		AddrInfo []struct {
			Local     string `json:"local"`
			Prefixlen int    `json:"prefixlen"`
			Scope     string `json:"scope"`
			Dynamic   bool   `json:"dynamic"`
		} `json:"addr_info"`
	}
	ns.ipJSON(t, &ls, "addr")
	out := map[string][]string{}
	for _, l := range ls {
		for _, a := range l.AddrInfo {
			by := links.AssignedStatic
			switch {
			case a.Scope == "link":
				by = links.AssignedLinkLocal
			case a.Dynamic:
				by = links.AssignedDHCP
			}
			out[l.Ifname] = append(out[l.Ifname], fmt.Sprintf("%s/%d %s", a.Local, a.Prefixlen, by))
		}
		slices.Sort(out[l.Ifname])
	}
	return out
}

// ipRoute is a route as `ip -j route` prints it.
type ipRoute struct {
	Gateway  string `json:"gateway"`
	Dev      string `json:"dev"`
	Protocol string `json:"protocol"`
	Metric   int    `json:"metric"`
}

// ipGateways returns, by link, the gateway of its lowest-metric default
// route per family.
func (ns *testNS) ipGateways(t testing.TB) map[string][2]string {
	t.Helper()
	out := map[string][2]string{}
	for fam, flag := range []string{"-4", "-6"} {
		var rs []ipRoute
		ns.ipJSON(t, &rs, flag, "route", "show", "table", "main", "default")
		slices.SortStableFunc(rs, func(a, b ipRoute) int { return a.Metric - b.Metric })
		for _, r := range rs {
			if g := out[r.Dev]; g[fam] == "" {
				g[fam] = r.Gateway
				out[r.Dev] = g
			}
		}
	}
	return out
}

// ipFlags returns the flags iproute2 shows for link.
func (ns *testNS) ipFlags(t testing.TB, link string) []string {
	t.Helper()
	var ls []ipLink
	ns.ipJSON(t, &ls, "link", "show", "dev", link)
	if len(ls) != 1 {
		t.Fatalf("ip link show dev %s: %d links", link, len(ls))
	}
	return ls[0].Flags
}

var (
	speedRe    = regexp.MustCompile(`(?m)^\s*Speed: (\d+)Mb/s`)
	duplexRe   = regexp.MustCompile(`(?m)^\s*Duplex: (\w+)`)
	detectedRe = regexp.MustCompile(`(?m)^\s*Link detected: (\w+)`)
)

// ethtool returns speed (0 unless ethtool prints a number), duplex ("" unless
// full or half) and link detection as `ethtool LINK` prints them.
func (ns *testNS) ethtool(t testing.TB, link string) [3]string {
	t.Helper()
	out := run(t, "ip", "netns", "exec", ns.name, "ethtool", link)
	r := [3]string{"0", "", "unknown"}
	if m := speedRe.FindStringSubmatch(out); m != nil {
		r[0] = m[1]
	}
	if m := duplexRe.FindStringSubmatch(out); m != nil && (m[1] == "Full" || m[1] == "Half") {
		r[1] = strings.ToLower(m[1])
	}
	if m := detectedRe.FindStringSubmatch(out); m != nil {
		r[2] = m[1]
	}
	return r
}
