package web

import (
	"errors"
	"maps"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/netip"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"
	"github.com/google/go-cmp/cmp"

	"github.com/edgeward/edgeward/core"
	"github.com/edgeward/edgeward/core/links"
	"github.com/edgeward/edgeward/views/components/when"
	"github.com/edgeward/edgeward/web/ui"
)

// The fake kernel's links get interface ids in index order: eth0 is 1,
// eth1 is 2; loopback is not managed.
const eth0, eth1 = "/interfaces/1", "/interfaces/2"

// cells is the trimmed text of each element with a data-testid inside sel.
func ifaceCells(sel *goquery.Selection, ids ...string) map[string]string {
	out := map[string]string{}
	for _, id := range ids {
		out[id] = strings.Join(strings.Fields(sel.Find(`[data-testid="`+id+`"]`).First().Text()), " ")
	}
	return out
}

func (p page) ifaceValue(testID string) string {
	v, _ := p.doc.Find(`[data-testid="` + testID + `"]`).Attr("value")
	return v
}

func (p page) ifaceSelected(testID string) string {
	v, _ := p.doc.Find(`[data-testid="` + testID + `"] option[selected]`).Attr("value")
	return v
}

func (e *uiEnv) kernelMTU(t *testing.T, name string) int {
	t.Helper()
	ls, _ := e.kernel.Links(t.Context())
	for _, l := range ls {
		if l.Name == name {
			return l.MTU
		}
	}
	t.Fatalf("no kernel link %s", name)
	return 0
}

func (e *uiEnv) ifaceMTU(t *testing.T, id int) int {
	t.Helper()
	i, err := e.links.Interface(id)
	if err != nil {
		t.Fatal(err)
	}
	return i.MTU
}

func TestUIInterfacesList(t *testing.T) {
	e := newUIEnv(t)
	b := e.browser(t)
	e.setUp(t, b)
	p := b.get("/interfaces")
	if p.status != http.StatusOK || p.text("title") != "Interfaces" {
		t.Fatalf("GET /interfaces: status %d, title %q\n%s", p.status, p.text("title"), p.body)
	}
	if got := p.doc.Find(`nav a[aria-current="page"]`).Text(); got != "Interfaces" {
		t.Errorf("current nav item %q, want Interfaces", got)
	}
	ids := []string{"iface-name", "iface-mac", "iface-state", "iface-cable", "iface-speed", "iface-mtu", "iface-addrs",
		"iface-gateway", "iface-rx", "iface-tx", "iface-update"}
	var got []map[string]string
	p.doc.Find(`[data-testid="iface-row"]`).Each(func(_ int, row *goquery.Selection) {
		got = append(got, ifaceCells(row, ids...))
	})
	// No apply has run yet (Run is not started), so the kernel has not
	// taken the adopted configs: pending.
	want := []map[string]string{{
		"iface-name": "eth0", "iface-mac": "02:00:00:00:00:01", "iface-state": "Up", "iface-cable": "Cable connected",
		"iface-speed": "1 Gbit/s", "iface-mtu": "1500", "iface-addrs": "192.168.1.1/24 Static",
		"iface-gateway": "192.168.1.254", "iface-rx": "1.0 TiB", "iface-tx": "12.1 KiB", "iface-update": "Pending",
	}, {
		"iface-name": "eth1", "iface-mac": "02:00:00:00:00:02", "iface-state": "Down", "iface-cable": "Cable unknown",
		"iface-speed": "unknown", "iface-mtu": "1500", "iface-addrs": "10.0.0.7/8 DHCP",
		"iface-gateway": "none", "iface-rx": "0 B", "iface-tx": "0 B", "iface-update": "Pending",
	}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("rows (-want +got):\n%s", diff)
	}
	if href, _ := p.doc.Find(`[data-testid="iface-name"]`).First().Attr("href"); href != eth0 {
		t.Errorf("eth0 links to %q, want %s", href, eth0)
	}
	if rx, _ := p.doc.Find(`[data-testid="iface-rx"]`).First().Attr("title"); rx != "1099511627776 bytes" {
		t.Errorf("exact rx %q", rx)
	}
	if p.has("iface-confirm") {
		t.Error("an interface is shown awaiting confirmation before any change")
	}
}

func TestUIInterfaceDetail(t *testing.T) {
	e := newUIEnv(t)
	b := e.browser(t)
	e.setUp(t, b)
	p := b.get(eth0)
	if p.status != http.StatusOK {
		t.Fatalf("GET %s: status %d\n%s", eth0, p.status, p.body)
	}
	tag, err := e.links.ETag(1)
	if err != nil {
		t.Fatal(err)
	}
	got := ifaceCells(p.doc.Selection, "title", "node", "iface-update", "iface-state", "iface-cable", "iface-speed", "iface-mac",
		"iface-mtu", "iface-gateway", "iface-gateway6", "iface-rx", "iface-tx", "iface-sampled",
		"net-status-name", "net-status-by", "net-status-address", "net-status-netmask", "net-status-vlan", "net-status-mtu",
		"net-name", "net-by", "net-ranges", "net-netmask", "net-vlan", "net-mtu")
	for k, v := range map[string]string{"if-match": p.ifaceValue("if-match"), "mtu": p.ifaceValue("mtu"),
		"default_gateway": p.ifaceValue("default_gateway"), "default_gateway_ipv6": p.ifaceValue("default_gateway_ipv6"),
		"bonding_mode": p.ifaceSelected("bonding_mode"), "confirm_within": p.ifaceSelected("confirm_within")} {
		got["form "+k] = v
	}
	want := map[string]string{
		"title": "Interface eth0", "node": testNodeName, "iface-update": "Pending", "iface-state": "Up", "iface-cable": "Cable connected",
		"iface-speed": "1 Gbit/s", "iface-mac": "02:00:00:00:00:01", "iface-mtu": "1500", "iface-gateway": "192.168.1.254",
		"iface-gateway6": "none", "iface-rx": "1.0 TiB (1099511627776 bytes)", "iface-tx": "12.1 KiB (12345 bytes)",
		"iface-sampled":   time.Unix(1700000000, 0).UTC().Format(when.Layout),
		"net-status-name": "Default", "net-status-by": "Static", "net-status-address": "192.168.1.1",
		"net-status-netmask": "255.255.255.0", "net-status-vlan": "untagged", "net-status-mtu": "1500",
		"net-name": "Default", "net-by": "Static", "net-ranges": "192.168.1.1", "net-netmask": "255.255.255.0",
		"net-vlan": "", "net-mtu": "1500",
		"form if-match": tag, "form mtu": "1500", "form default_gateway": "192.168.1.254", "form default_gateway_ipv6": "",
		"form bonding_mode": "ACTIVE_BACKUP", "form confirm_within": "120",
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("eth0 page (-want +got):\n%s", diff)
	}
	for id, href := range map[string]string{"net-edit": eth0 + "/networks/1", "net-delete": eth0 + "/networks/1/delete",
		"net-add": eth0 + "/networks/new"} {
		if got, _ := p.doc.Find(`[data-testid="` + id + `"]`).Attr("href"); got != href {
			t.Errorf("%s links to %q, want %q", id, got, href)
		}
	}
	if p.has("confirm-box") || p.has("confirm-done") || p.has("saved") {
		t.Error("a fresh interface page shows a confirmation step or a save notice")
	}

	// eth1 runs DHCP: its address comes from the lease.
	p = b.get(eth1)
	got = ifaceCells(p.doc.Selection, "net-status-by", "net-status-address", "net-status-netmask", "iface-state")
	want = map[string]string{"net-status-by": "DHCP", "net-status-address": "10.0.0.7", "net-status-netmask": "255.0.0.0",
		"iface-state": "Down"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("eth1 page (-want +got):\n%s", diff)
	}
}

func TestUIInterfaceEdit(t *testing.T) {
	e := newUIEnv(t)
	b := e.browser(t)
	e.setUp(t, b)
	tag, _ := e.links.ETag(1)
	tests := []struct {
		name       string
		fields     map[string]string
		wantStatus int
		wantField  string // the data-testid of the message
		wantMsg    string
	}{
		{"mtu under the driver's minimum", map[string]string{"mtu": "20"}, 422, "mtu-error",
			"20 is out of range for this link: want 68-9000."},
		{"mtu over the driver's maximum", map[string]string{"mtu": "9600"}, 422, "mtu-error",
			"9600 is out of range for this link: want 68-9000."},
		{"mtu not a number", map[string]string{"mtu": "abc"}, 422, "mtu-error", `"abc" is not a whole number.`},
		{"mtu empty", map[string]string{"mtu": ""}, 422, "mtu-error", "Is required."},
		{"gateway not an address", map[string]string{"mtu": "1500", "default_gateway": "192.168.1.300"}, 422,
			"default_gateway-error", `"192.168.1.300" is not an IPv4 address.`},
		{"ipv6 gateway of the wrong family", map[string]string{"mtu": "1500", "default_gateway_ipv6": "10.0.0.1"}, 422,
			"default_gateway_ipv6-error", `"10.0.0.1" is not an IPv6 address.`},
		{"bonding mode unknown", map[string]string{"mtu": "1500", "bonding_mode": "ROUND_ROBIN"}, 422,
			"bonding_mode-error", `"ROUND_ROBIN" is not one of ACTIVE_BACKUP, IEEE_8023AD, UNSPECIFIED.`},
		{"deadline not a number", map[string]string{"mtu": "1400", "confirm_within": "soon"}, 422,
			"confirm_within-error", "Must be a number of seconds from 0 (no rollback) to 86400."},
		{"deadline too long", map[string]string{"mtu": "1400", "confirm_within": "86401"}, 422,
			"confirm_within-error", "Must be a number of seconds from 0 (no rollback) to 86400."},
		{"stale form", map[string]string{"mtu": "1400", "if_match": `"0123"`}, 409, "form-error", ui.StaleForm},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := b.submitFrom(eth0, eth0, tt.fields)
			if p.status != tt.wantStatus {
				t.Fatalf("status %d, want %d\n%s", p.status, tt.wantStatus, p.body)
			}
			if got := p.text(tt.wantField); got != tt.wantMsg {
				t.Errorf("%s = %q, want %q", tt.wantField, got, tt.wantMsg)
			}
			if got := p.ifaceValue("mtu"); got != tt.fields["mtu"] {
				t.Errorf("the form lost the mtu typed: %q, want %q", got, tt.fields["mtu"])
			}
			if n := p.doc.Find(`[role="alert"]`).Length(); n != 1 {
				t.Errorf("%d messages on the page, want 1", n)
			}
			if got, _ := e.links.ETag(1); got != tag {
				t.Error("a refused form changed the config")
			}
			if e.ifaceMTU(t, 1) != 1500 || e.kernelMTU(t, "eth0") != 1500 {
				t.Error("a refused form changed the MTU")
			}
		})
	}
	// A stale form comes back with the current ETag, so that a second
	// submit, made knowingly, goes through; a bad one keeps its own.
	if got := b.submitFrom(eth0, eth0, map[string]string{"mtu": "1400", "if_match": `"0123"`}).ifaceValue("if-match"); got != tag {
		t.Errorf("stale form comes back with If-Match %q, want the current %q", got, tag)
	}
	if got := b.submitFrom(eth0, eth0, map[string]string{"mtu": "20", "if_match": tag}).ifaceValue("if-match"); got != tag {
		t.Errorf("refused form comes back with If-Match %q, want the one it was read at %q", got, tag)
	}

	// Without a deadline the change is kept at once.
	p := b.submitFrom(eth0, eth0, map[string]string{"mtu": "1400", "default_gateway": "192.168.1.253",
		"confirm_within": "0", "if_match": tag})
	wantRedirect(t, p, eth0+"?saved=1")
	i, _ := e.links.Interface(1)
	if i.MTU != 1400 || i.DefaultGateway != netip.MustParseAddr("192.168.1.253") || i.BondingMode != links.BondActiveBackup {
		t.Errorf("config after save: %+v", i)
	}
	if e.kernelMTU(t, "eth0") != 1400 {
		t.Errorf("kernel MTU %d, want 1400", e.kernelMTU(t, "eth0"))
	}
	p = b.get(eth0 + "?saved=1")
	if !p.has("saved") || p.has("confirm-box") || p.text("iface-update") != "Applied" || p.text("iface-mtu") != "1400" {
		t.Errorf("after save: saved %v, confirm box %v, update %q, mtu %q", p.has("saved"), p.has("confirm-box"),
			p.text("iface-update"), p.text("iface-mtu"))
	}
	// The old ETag is stale now.
	if p := b.submitFrom(eth0, eth0, map[string]string{"mtu": "1300", "if_match": tag}); p.status != http.StatusConflict {
		t.Errorf("second save with the old ETag: status %d, want 409", p.status)
	}
}

func TestUIInterfaceConfirm(t *testing.T) {
	e := newUIEnv(t)
	b := e.browser(t)
	e.setUp(t, b)
	before := time.Now()
	wantRedirect(t, b.submitFrom(eth0, eth0, map[string]string{"mtu": "1400", "confirm_within": "60"}), eth0+"?saved=1")
	if e.kernelMTU(t, "eth0") != 1400 {
		t.Fatalf("kernel MTU %d, want 1400 while awaiting confirmation", e.kernelMTU(t, "eth0"))
	}
	p := b.get(eth0 + "?saved=1")
	if !p.has("confirm-box") || !p.has("confirm-form") || p.has("saved") {
		t.Fatalf("awaiting confirmation: confirm box %v, form %v, saved %v\n%s", p.has("confirm-box"), p.has("confirm-form"),
			p.has("saved"), p.body)
	}
	if got := p.text("confirm-state"); !strings.Contains(got, "pending") {
		t.Errorf("confirm state %q", got)
	}
	left, err := strconv.Atoi(p.text("confirm-remaining"))
	if err != nil || left < 1 || left > 60 {
		t.Errorf("seconds left %q, want 1-60", p.text("confirm-remaining"))
	}
	at := p.doc.Find(`[data-testid="confirm-deadline"] time`).AttrOr("datetime", "")
	deadline, err := time.Parse(time.RFC3339, at)
	if err != nil || deadline.Before(before.Add(58*time.Second).Truncate(time.Second)) || deadline.After(time.Now().Add(60*time.Second)) {
		t.Errorf("deadline %q, want about a minute after %s", at, before.Format(time.RFC3339))
	}
	poll, _ := p.doc.Find(`[data-testid="countdown"]`).Attr("hx-trigger")
	if poll != "every 1s" {
		t.Errorf("countdown hx-trigger %q", poll)
	}
	if !b.get("/interfaces").has("iface-confirm") {
		t.Error("the list does not show eth0 awaiting confirmation")
	}

	// htmx refreshes only the countdown.
	f := b.get(eth0, "HX-Request", "true", "HX-Target", "iface-countdown")
	if f.status != http.StatusOK || !f.has("confirm-remaining") || f.has("iface-form") || strings.Contains(f.body, "<html") {
		t.Errorf("countdown fragment: status %d\n%s", f.status, f.body)
	}

	wantRedirect(t, b.submitFrom(eth0, eth0+"/confirm", nil), eth0)
	p = b.get(eth0)
	if p.has("confirm-box") || !strings.Contains(p.text("confirm-done"), "confirmed") {
		t.Errorf("after confirm: box %v, done %q", p.has("confirm-box"), p.text("confirm-done"))
	}
	if err := e.links.Confirm(t.Context(), 1); !errors.Is(err, core.ErrConflict) {
		t.Errorf("core still has a change to confirm: %v", err)
	}
	if e.ifaceMTU(t, 1) != 1400 || e.kernelMTU(t, "eth0") != 1400 {
		t.Error("the confirmed MTU did not stay")
	}
	f = b.get(eth0, "HX-Request", "true", "HX-Target", "iface-countdown")
	if _, polls := f.doc.Find(`[data-testid="countdown"]`).Attr("hx-trigger"); polls || !strings.Contains(f.text("countdown"), "Confirmed") {
		t.Errorf("the countdown keeps polling after the confirmation: %s", f.body)
	}

	// Nothing left to confirm: the page says so, with 409.
	p = b.submitFrom(eth0, eth0+"/confirm", nil)
	if p.status != http.StatusConflict || p.text("confirm-error") != "Interface 1 has no change awaiting confirmation." {
		t.Errorf("confirm again: status %d, message %q", p.status, p.text("confirm-error"))
	}
}

func TestUIInterfaceRollback(t *testing.T) {
	e := newUIEnv(t)
	b := e.browser(t)
	e.setUp(t, b)
	wantRedirect(t, b.submitFrom(eth0, eth0, map[string]string{"mtu": "1400", "confirm_within": "1"}), eth0+"?saved=1")
	token := b.get(eth0).csrf()
	time.Sleep(1100 * time.Millisecond) // past the deadline
	p := b.get(eth0)
	if p.has("confirm-form") || !strings.Contains(p.text("countdown"), "has passed") {
		t.Errorf("past the deadline the page still offers to confirm: %s", p.text("countdown"))
	}
	// A confirmation sent too late rolls the change back, as the API's.
	p = b.post(eth0+"/confirm", url.Values{"_csrf": {token}})
	if p.status != http.StatusConflict || p.text("confirm-error") != "Interface 1: too late, the change was rolled back." {
		t.Errorf("late confirm: status %d, message %q", p.status, p.text("confirm-error"))
	}
	if e.ifaceMTU(t, 1) != 1500 || e.kernelMTU(t, "eth0") != 1500 {
		t.Errorf("after the rollback MTU %d, kernel %d; want 1500", e.ifaceMTU(t, 1), e.kernelMTU(t, "eth0"))
	}
	if got := b.get(eth0).text("confirm-done"); !strings.Contains(got, "rolled back") {
		t.Errorf("after the rollback the page says %q", got)
	}
}

// TestIfaceConfirmStateFromCore: the deadline comes from the core, so the
// countdown stays when the journal lost its events (after a restart).
func TestUIInterfaceNetworks(t *testing.T) {
	e := newUIEnv(t)
	b := e.browser(t)
	e.setUp(t, b)
	form := b.get(eth0 + "/networks/new")
	if form.status != http.StatusOK || form.text("title") != "Add a network to eth0" || form.ifaceSelected("assigned_by") != "STATIC" {
		t.Fatalf("new network form: status %d, title %q\n%s", form.status, form.text("title"), form.body)
	}
	vlan := map[string]string{"name": "guests", "assigned_by": "STATIC", "ip_ranges": "10.10.0.1, 10.10.0.5-6",
		"netmask": "255.255.255.0", "dns_servers": "10.10.0.1", "dns_search_domains": "guest.lan", "vlan_id": "10",
		"mtu": "", "floating_ip_ranges": "", "confirm_within": "0"}
	// with is vlan with some fields changed: name, value, ...
	with := func(kv ...string) map[string]string {
		m := maps.Clone(vlan)
		for i := 0; i+1 < len(kv); i += 2 {
			m[kv[i]] = kv[i+1]
		}
		return m
	}
	tests := []struct {
		name      string
		fields    map[string]string
		wantField string
		wantMsg   string
	}{
		{"no name", with("name", ""), "name-error", "Must be 1-64 characters."},
		{"bad netmask", with("netmask", "255.0.255.0"), "netmask-error", `"255.0.255.0" is not a contiguous netmask.`},
		{"bad address", with("ip_ranges", "10.10.0.1, 10.10.0.300"), "ip_ranges-error", ""},
		{"addresses in two networks", with("ip_ranges", "10.10.0.1, 10.20.0.1"), "ip_ranges-error",
			`"10.20.0.1" is not in the network 10.10.0.0/24 of netmask "255.255.255.0".`},
		{"address outside a cidr netmask", with("ip_ranges", "10.20.0.1", "netmask", "10.10.0.0/24"), "ip_ranges-error",
			`"10.20.0.1" is not in the network 10.10.0.0/24 of netmask "10.10.0.0/24".`},
		{"vlan not a number", with("vlan_id", "ten"), "vlan_id-error", `"ten" is not a whole number.`},
		{"vlan out of range", with("vlan_id", "5000"), "vlan_id-error", "5000 is out of range: want 0 (untagged) or 1-4094."},
		{"mtu above the interface", with("mtu", "1600"), "mtu-error", ""},
		{"dns not an address", with("dns_servers", "ns1"), "dns_servers-error", `"ns1" is not an IP address.`},
		{"dhcp with addresses", with("assigned_by", "DHCP", "vlan_id", ""), "ip_ranges-error", "Must be empty unless assigned_by is STATIC."},
		{"dhcp beside another network", with("assigned_by", "DHCP", "vlan_id", "", "ip_ranges", "", "netmask", ""),
			"assigned_by-error", "A DHCP network must be the interface's only network."},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := b.submitFrom(eth0+"/networks/new", eth0+"/networks", tt.fields)
			if p.status != http.StatusUnprocessableEntity || !p.has(tt.wantField) {
				t.Fatalf("status %d, %s present %v; want 422 with it\n%s", p.status, tt.wantField, p.has(tt.wantField), p.body)
			}
			if tt.wantMsg != "" && p.text(tt.wantField) != tt.wantMsg {
				t.Errorf("%s = %q, want %q", tt.wantField, p.text(tt.wantField), tt.wantMsg)
			}
			if p.ifaceValue("name") != tt.fields["name"] || p.ifaceValue("ip_ranges") != tt.fields["ip_ranges"] {
				t.Errorf("the form lost what was typed: name %q, ip_ranges %q", p.ifaceValue("name"), p.ifaceValue("ip_ranges"))
			}
			if ns, _ := e.links.Networks(1); len(ns) != 1 {
				t.Errorf("%d networks after a refused add, want 1", len(ns))
			}
		})
	}

	wantRedirect(t, b.submitFrom(eth0+"/networks/new", eth0+"/networks", vlan), eth0+"?saved=1")
	ns, _ := e.links.Networks(1)
	if len(ns) != 2 {
		t.Fatalf("networks after add: %+v", ns)
	}
	want := links.Network{ID: 2, Name: "guests", AssignedBy: "STATIC", IPRanges: []string{"10.10.0.1", "10.10.0.5-6"},
		FloatingIPRanges: []string{}, Netmask: "255.255.255.0", DNSServers: []string{"10.10.0.1"},
		DNSSearchDomains: []string{"guest.lan"}, MTU: 1500, VLANID: 10}
	if diff := cmp.Diff(want, ns[1]); diff != "" {
		t.Errorf("added network (-want +got):\n%s", diff)
	}
	p := b.get(eth0)
	var names []string
	p.doc.Find(`[data-testid="net-name"]`).Each(func(_ int, s *goquery.Selection) { names = append(names, s.Text()) })
	if !slices.Equal(names, []string{"Default", "guests"}) {
		t.Errorf("networks on the page %q", names)
	}

	// Edit: the form shows the network, a change goes through.
	edit := eth0 + "/networks/2"
	p = b.get(edit)
	if p.ifaceValue("name") != "guests" || p.ifaceValue("ip_ranges") != "10.10.0.1, 10.10.0.5-6" || p.ifaceValue("vlan_id") != "10" ||
		p.ifaceValue("mtu") != "1500" || p.ifaceSelected("assigned_by") != "STATIC" {
		t.Errorf("edit form: name %q, ranges %q, vlan %q, mtu %q", p.ifaceValue("name"), p.ifaceValue("ip_ranges"), p.ifaceValue("vlan_id"), p.ifaceValue("mtu"))
	}
	p = b.submitFrom(edit, edit, with("netmask", "255.0.255.0"))
	if p.status != http.StatusUnprocessableEntity || !p.has("netmask-error") {
		t.Errorf("bad edit: status %d", p.status)
	}
	wantRedirect(t, b.submitFrom(edit, edit, with("mtu", "1400")), eth0+"?saved=1")
	if n, _ := e.links.Network(1, 2); n.MTU != 1400 {
		t.Errorf("edited network MTU %d, want 1400", n.MTU)
	}

	// Delete, with a confirmation page; the last network stays.
	del := edit + "/delete"
	if p := b.get(del); p.text("delete-question") != "Delete the network guests of eth0?" {
		t.Errorf("delete question %q", p.text("delete-question"))
	}
	wantRedirect(t, b.submitFrom(del, del, map[string]string{"confirm_within": "0"}), eth0+"?saved=1")
	if _, err := e.links.Network(1, 2); !errors.Is(err, core.ErrNotFound) {
		t.Errorf("network 2 after delete: %v", err)
	}
	last := eth0 + "/networks/1/delete"
	p = b.submitFrom(last, last, map[string]string{"confirm_within": "0"})
	if p.status != http.StatusUnprocessableEntity || !strings.Contains(p.text("delete-error"), "last network") {
		t.Errorf("deleting the last network: status %d, message %q", p.status, p.text("delete-error"))
	}
}

func TestUIInterfaceGuards(t *testing.T) {
	e := newUIEnv(t)
	b := e.browser(t)
	e.setUp(t, b)
	tag, _ := e.links.ETag(1)
	posts := []string{eth0, eth0 + "/confirm", eth0 + "/networks", eth0 + "/networks/1", eth0 + "/networks/1/delete"}
	for _, path := range posts {
		if p := b.post(path, url.Values{"mtu": {"1400"}, "name": {"x"}}); p.status != http.StatusForbidden {
			t.Errorf("POST %s without a CSRF token: status %d, want 403", path, p.status)
		}
	}
	if got, _ := e.links.ETag(1); got != tag {
		t.Error("a refused post changed the config")
	}

	for _, path := range []string{"/interfaces/99", "/interfaces/abc", "/interfaces/-1", eth0 + "/networks/99",
		eth0 + "/networks/x", eth0 + "/networks/99/delete", "/interfaces/99/networks/new"} {
		p := b.get(path)
		if p.status != http.StatusNotFound || p.text("error-message") == "" {
			t.Errorf("GET %s: status %d, message %q; want a 404 page", path, p.status, p.text("error-message"))
		}
	}
	for _, path := range []string{"/interfaces/99", "/interfaces/99/confirm", "/interfaces/99/networks",
		eth0 + "/networks/99", eth0 + "/networks/99/delete"} {
		p := b.submitFrom(eth0, path, map[string]string{"mtu": "1400", "name": "x", "assigned_by": "DHCP"})
		if p.status != http.StatusNotFound || p.text("error-message") == "" {
			t.Errorf("POST %s: status %d, message %q; want a 404 page", path, p.status, p.text("error-message"))
		}
	}

	anon := e.browser(t)
	for _, path := range []string{"/interfaces", eth0, eth0 + "/networks/1"} {
		wantRedirect(t, anon.get(path), "/login")
	}
	wantRedirect(t, anon.submitFrom("/login", eth0, map[string]string{"mtu": "1400"}), "/login")
	if e.ifaceMTU(t, 1) != 1500 {
		t.Error("an anonymous post changed the MTU")
	}
}

// TestUIInterfaceLockout serves the pages on an address of this machine
// and puts that address on eth0, so that a form that removes it meets the
// core's lockout guard, as the API does.
func TestUIInterfaceLockout(t *testing.T) {
	host := ifaceHostAddr(t)
	e := newUIEnv(t)
	b := e.browser(t)
	e.setUp(t, b)
	nid, err := e.links.AddNetwork(t.Context(), 1, links.NetworkPatch{Name: ifacePtr("mgmt"), AssignedBy: ifacePtr(links.AssignedStatic),
		IPRanges: &[]string{host.Addr().String()}, Netmask: ifacePtr(host.Masked().String())}, links.WriteOpts{})
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", net.JoinHostPort(host.Addr().String(), "0"))
	if err != nil {
		t.Skipf("listen on %s: %v", host.Addr(), err)
	}
	go func() { _ = e.app.Listener(ln) }()
	t.Cleanup(func() { _ = e.app.ShutdownWithTimeout(5 * time.Second) })
	base := "http://" + ln.Addr().String()

	// The same browser, over the network: its cookies go along.
	jar, _ := cookiejar.New(nil)
	u, _ := url.Parse(base)
	jar.SetCookies(u, b.jar.Cookies(origin))
	client := &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	del := base + eth0 + "/networks/" + strconv.Itoa(nid) + "/delete"
	res, err := client.Get(del)
	if err != nil {
		t.Fatal(err)
	}
	doc, _ := goquery.NewDocumentFromReader(res.Body)
	res.Body.Close()
	token, _ := doc.Find(`input[name="_csrf"]`).Attr("value")
	post := func(within string) (int, *goquery.Document) {
		res, err := client.PostForm(del, url.Values{"_csrf": {token}, "confirm_within": {within}})
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		doc, _ := goquery.NewDocumentFromReader(res.Body)
		return res.StatusCode, doc
	}

	status, doc := post("0")
	msg := doc.Find(`[data-testid="confirm_within-error"]`).Text()
	if status != http.StatusUnprocessableEntity || !strings.Contains(msg, host.Addr().String()+", the address this request came in on") {
		t.Fatalf("removing the address in use without a deadline: status %d, message %q", status, msg)
	}
	if _, err := e.links.Network(1, nid); err != nil {
		t.Fatalf("the refused delete removed the network: %v", err)
	}
	if status, _ := post("60"); status != http.StatusSeeOther {
		t.Fatalf("removing it with a deadline: status %d, want 303", status)
	}
	if _, err := e.links.Network(1, nid); !errors.Is(err, core.ErrNotFound) {
		t.Errorf("network after the delete with a deadline: %v", err)
	}
}

// hostAddr is a non-loopback IPv4 address of this machine with its
// prefix; the test skips without one.
func ifaceHostAddr(t *testing.T) netip.Prefix {
	t.Helper()
	as, err := net.InterfaceAddrs()
	if err != nil {
		t.Skipf("interface addresses: %v", err)
	}
	for _, a := range as {
		if n, ok := a.(*net.IPNet); ok {
			if p, err := netip.ParsePrefix(n.String()); err == nil && p.Addr().Is4() && !p.Addr().IsLoopback() &&
				!p.Addr().IsLinkLocalUnicast() {
				return p
			}
		}
	}
	t.Skip("no non-loopback IPv4 address to serve on")
	return netip.Prefix{}
}

func ifacePtr[T any](v T) *T { return &v }
