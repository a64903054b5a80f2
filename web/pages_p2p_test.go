package web

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"
	"github.com/google/go-cmp/cmp"

	"github.com/edgeward/edgeward/core/acl"
	"github.com/edgeward/edgeward/core/overlay"
	"github.com/edgeward/edgeward/views/components/when"
	"github.com/edgeward/edgeward/web/ui"
)

// connectPeer adds a peer and marks it connected from endpoint, as the
// WireGuard data plane would; it returns the peer's P2P id.
func (e *uiEnv) connectPeer(t *testing.T, name, endpoint string) string {
	t.Helper()
	c := e.addPeer(t, name)
	if err := e.ov.SetConnected(t.Context(), c.PublicKey, true, netip.MustParseAddrPort(endpoint)); err != nil {
		t.Fatal(err)
	}
	return overlay.PeerID(c.PublicKey)
}

func (e *uiEnv) setPoint(t *testing.T, point, value string) {
	t.Helper()
	if err := e.acl.SetPoint(t.Context(), netip.MustParseAddrPort(point), value, "test", acl.Guard{}); err != nil {
		t.Fatal(err)
	}
}

func (e *uiEnv) greylist(t *testing.T, addr string) {
	t.Helper()
	if d, err := e.acl.Greylist(t.Context(), netip.MustParseAddr(addr), "5 failed logins"); err != nil || d == 0 {
		t.Fatalf("greylist %s: %v, %v", addr, d, err)
	}
}

// texts is the trimmed text of every element with testID, in order.
func (p page) texts(testID string) []string {
	var out []string
	p.doc.Find(`[data-testid="` + testID + `"]`).Each(func(_ int, s *goquery.Selection) {
		out = append(out, strings.TrimSpace(s.Text()))
	})
	return out
}

// row is the element with testID whose attr is val.
func (p page) row(testID, attr, val string) *goquery.Selection {
	return p.doc.Find(`[data-testid="` + testID + `"][` + attr + `="` + val + `"]`)
}

func cell(s *goquery.Selection, testID string) string {
	return strings.TrimSpace(s.Find(`[data-testid="` + testID + `"]`).Text())
}

// moment is the moment the <time> under s's testID element carries
// (when.Time or when.Tip), after checking that the server wrote the same
// moment in UTC as its text or, for a tip, its tooltip.
func moment(s *goquery.Selection, testID string) (time.Time, error) {
	el := s.Find(`[data-testid="` + testID + `"] time`)
	at, err := time.Parse(time.RFC3339, el.AttrOr("datetime", ""))
	if err != nil {
		return at, err
	}
	shown := el.Text()
	if _, tip := el.Attr("data-local-title"); tip {
		shown = el.AttrOr("title", "")
	}
	if want := at.UTC().Format(when.Layout); shown != want {
		return at, fmt.Errorf("shown as %q, want %q", shown, want)
	}
	return at, nil
}

func addr(s string) netip.Addr { return netip.MustParseAddr(s) }

func TestUINetworkEmpty(t *testing.T) {
	e := newUIEnv(t)
	b := e.browser(t)
	e.setUp(t, b)
	p := b.get("/p2p")
	if p.status != http.StatusOK || p.text("title") != "Firewall" {
		t.Fatalf("GET /p2p: status %d\n%s", p.status, p.body)
	}
	if got := p.doc.Find(`nav a[aria-current="page"]`).Text(); got != "Firewall" {
		t.Errorf("current nav item %q, want Firewall", got)
	}
	for _, id := range []string{"no-connections", "no-points", "no-bans", "no-trusts", "no-greylist", "acl-form", "bulk-form"} {
		if !p.has(id) {
			t.Errorf("no %s on the empty page", id)
		}
	}
	if p.has("greylist-clear") || p.has("notice") || p.has("bans-more") || p.has("ban-table") {
		t.Errorf("the empty page offers to clear the greylist, shows a notice or bans:\n%s", p.body)
	}
	if got, want := p.text("enforcement-state"), "unavailable"; got != want {
		t.Errorf("enforcement %q, want %q", got, want)
	}
	if got, want := p.text("enforcement-reason"), e.acl.Enforcement().Reason; got != want || got == "" {
		t.Errorf("enforcement reason %q, want %q", got, want)
	}
	for _, id := range []string{"count-bans", "count-trusts", "count-greylisted", "count-peer-bans", "count-peer-trusts"} {
		if got := p.text(id); got != "0" {
			t.Errorf("%s = %q, want 0", id, got)
		}
	}
}

func TestUINetworkSections(t *testing.T) {
	e := newUIEnv(t)
	b := e.browser(t)
	e.setUp(t, b)
	ctx := t.Context()
	laptop := e.connectPeer(t, "laptop", "198.51.100.4:51820")
	phone := overlay.PeerID(e.addPeer(t, "phone").PublicKey)
	if err := e.acl.SetPeer(ctx, phone, acl.Ban, "test"); err != nil {
		t.Fatal(err)
	}
	e.setPoint(t, "203.0.113.7:0", acl.Ban)
	e.setPoint(t, "192.0.2.1:9732", acl.Trust)
	e.greylist(t, "198.51.100.9")
	// A range and a single-port ban for good, an address for an hour.
	if _, err := e.acl.Bulk(ctx, acl.Ban, []string{"203.0.113.128/25", "203.0.113.8:22"}, 0, "test", acl.Guard{}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.acl.Bulk(ctx, acl.Ban, []string{"2001:db8::7"}, time.Hour, "test", acl.Guard{}); err != nil {
		t.Fatal(err)
	}

	p := b.get("/p2p")
	if p.status != http.StatusOK {
		t.Fatalf("status %d\n%s", p.status, p.body)
	}
	counts := map[string]string{}
	for _, id := range []string{"count-bans", "count-trusts", "count-greylisted", "count-peer-bans", "count-peer-trusts"} {
		counts[id] = p.text(id)
	}
	if diff := cmp.Diff(map[string]string{"count-bans": "4", "count-trusts": "1", "count-greylisted": "1",
		"count-peer-bans": "1", "count-peer-trusts": "0"}, counts); diff != "" {
		t.Errorf("counts (-want +got):\n%s", diff)
	}

	conn := p.row("connection-row", "data-peer-id", laptop)
	gotConn := map[string]string{}
	for _, id := range []string{"connection-name", "connection-peer-id", "connection-address", "connection-direction"} {
		gotConn[id] = cell(conn, id)
	}
	if diff := cmp.Diff(map[string]string{"connection-name": "laptop", "connection-peer-id": laptop,
		"connection-address": "198.51.100.4:51820", "connection-direction": "incoming"}, gotConn); diff != "" {
		t.Errorf("connection row (-want +got):\n%s", diff)
	}
	if _, err := moment(conn, "connection-since"); err != nil {
		t.Errorf("connection since %q: %v", cell(conn, "connection-since"), err)
	}
	if conn.Find(`[data-testid="disconnect"]`).Length() != 1 || conn.Find(`[data-testid="peer-ban"]`).Length() != 1 {
		t.Errorf("connection row lacks disconnect or ban buttons")
	}

	type pointRow struct{ State, ACL, PeerID string }
	points := map[string]pointRow{}
	p.doc.Find(`[data-testid="point-row"]`).Each(func(_ int, s *goquery.Selection) {
		acls := strings.Join(strings.Fields(cell(s, "point-acl")), " ")
		points[cell(s, "point")] = pointRow{cell(s, "point-state"), acls, cell(s, "point-peer-id")}
	})
	grey := points["198.51.100.9"].ACL
	if !regexp.MustCompile(`^Greylisted, (9|10) min left$`).MatchString(grey) {
		t.Errorf("greylisted point ACL %q", grey)
	}
	delete(points, "198.51.100.9")
	if diff := cmp.Diff(map[string]pointRow{
		"192.0.2.1:9732":     {"Not connected", "Trusted", ""},
		"198.51.100.4:51820": {"Connected", "", laptop},
		"203.0.113.7":        {"Not connected", "Blocked", ""}, // port 0: the address alone
		"203.0.113.8":        {"Not connected", "", ""},        // held for its port-22 ban
		"2001:db8::7":        {"Not connected", "Blocked", ""},
	}, points); diff != "" {
		t.Errorf("points (-want +got):\n%s", diff)
	}
	if r := p.row("point-row", "data-point", "203.0.113.7:0"); r.Find(`[data-testid="point-ban"]`).Length() != 0 ||
		r.Find(`[data-testid="point-open"]`).Length() != 1 || r.Find(`[data-testid="point-trust"]`).Length() != 1 {
		t.Errorf("a banned point offers: %q", r.Find("button").Text())
	}

	// Every ban is listed, in address order, with its kind, time left and
	// reason; the timed ban's left time is checked apart.
	type entryRow struct{ Kind, Left, Reason string }
	entries := func(kind string) (targets []string, rows map[string]entryRow) {
		rows = map[string]entryRow{}
		p.doc.Find(`[data-testid="` + kind + `-row"]`).Each(func(_ int, s *goquery.Selection) {
			target := cell(s, kind+"-target")
			targets = append(targets, target)
			rows[target] = entryRow{cell(s, kind+"-kind"), cell(s, kind+"-left"), cell(s, kind+"-reason")}
			if _, err := moment(s, kind+"-since"); err != nil {
				t.Errorf("%s since %q: %v", target, cell(s, kind+"-since"), err)
			}
			if v, _ := s.Find(`input[name="target"]`).Attr("value"); v != target || s.Find(`[data-testid="`+kind+`-lift"]`).Length() != 1 {
				t.Errorf("%s row lifts %q", target, v)
			}
		})
		return targets, rows
	}
	bans, banRows := entries("ban")
	if diff := cmp.Diff([]string{"203.0.113.7", "203.0.113.8:22", "203.0.113.128/25", "2001:db8::7"}, bans); diff != "" {
		t.Errorf("banned (-want +got):\n%s", diff)
	}
	if left := banRows["2001:db8::7"].Left; !regexp.MustCompile(`^(59 min|1 h)$`).MatchString(left) {
		t.Errorf("timed ban's time left %q", left)
	}
	delete(banRows, "2001:db8::7")
	if diff := cmp.Diff(map[string]entryRow{
		"203.0.113.7":      {"Address", "for good", "banned by an admin"},
		"203.0.113.8:22":   {"One port", "for good", "bulk ban"},
		"203.0.113.128/25": {"Range", "for good", "bulk ban"},
	}, banRows); diff != "" {
		t.Errorf("ban rows (-want +got):\n%s", diff)
	}
	trusts, trustRows := entries("trust")
	if diff := cmp.Diff([]string{"192.0.2.1"}, trusts); diff != "" || trustRows["192.0.2.1"] != (entryRow{"Address", "for good", "trusted by an admin"}) {
		t.Errorf("trusted %v (-want +got):\n%s", trustRows, diff)
	}
	if got := p.texts("peer-ban-name"); !cmp.Equal(got, []string{"phone"}) || p.text("peer-ban-id") != phone {
		t.Errorf("banned peers %q %q", got, p.text("peer-ban-id"))
	}
	if p.has("bans-more") || p.has("trusts-more") {
		t.Errorf("short lists say more are not listed:\n%s", p.body)
	}

	g := p.row("grey-row", "data-addr", "198.51.100.9")
	if g.Length() != 1 || cell(g, "grey-reason") != "5 failed logins" ||
		!regexp.MustCompile(`^(9|10) min$`).MatchString(cell(g, "grey-left")) {
		t.Errorf("greylist row: left %q, reason %q\n%s", cell(g, "grey-left"), cell(g, "grey-reason"), p.body)
	}
	if !p.has("greylist-clear") {
		t.Error("no button to clear the greylist")
	}
}

func TestUINetworkForm(t *testing.T) {
	peerID := overlay.PeerID(testPubKey)
	tests := []struct {
		name   string
		fields map[string]string
		check  func(*acl.Service) bool
	}{
		{"ban an address", map[string]string{"address": "203.0.113.7", "action": "ban"},
			func(s *acl.Service) bool { return s.Banned(addr("203.0.113.7")) }},
		{"trust an address", map[string]string{"address": " 192.0.2.1 ", "action": "trust"},
			func(s *acl.Service) bool { return s.Trusted(addr("192.0.2.1")) }},
		{"ban a range for a day", map[string]string{"address": "203.0.113.0/24", "action": "ban", "duration": "1d"},
			func(s *acl.Service) bool { return s.Banned(addr("203.0.113.200")) && s.Counts().Bans == 1 }},
		{"ban an address for 30m", map[string]string{"address": "2001:db8::7", "action": "ban", "duration": "30m"},
			func(s *acl.Service) bool { return s.Banned(addr("2001:db8::7")) }},
		{"ban one port", map[string]string{"address": "203.0.113.9:22", "action": "ban"},
			func(s *acl.Service) bool { return !s.Banned(addr("203.0.113.9")) && s.Counts().Bans == 1 }},
		{"ban a peer id", map[string]string{"address": peerID, "action": "ban"},
			func(s *acl.Service) bool { return s.Peer(peerID).Banned }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newUIEnv(t)
			b := e.browser(t)
			e.setUp(t, b)
			p := b.submitFrom("/p2p", "/p2p/acl", tt.fields)
			wantRedirect(t, p, "/p2p?done="+tt.fields["action"])
			if !tt.check(e.acl) {
				t.Errorf("the ACL did not change as asked: %+v", e.acl.Counts())
			}
			if got := b.get(p.header.Get("Location")).text("notice"); got == "" {
				t.Error("no notice after the redirect")
			}
		})
	}
}

func TestUINetworkFormRefused(t *testing.T) {
	peerID := overlay.PeerID(testPubKey)
	tests := []struct {
		name      string
		fields    map[string]string
		field     string
		wantError string // a part of the message
	}{
		{"not an ip", map[string]string{"address": "not-an-ip", "action": "ban"}, "address", `"not-an-ip" is not an address, range or point`},
		{"empty", map[string]string{"address": " ", "action": "ban"}, "address", "Enter an address"},
		{"host bits", map[string]string{"address": "203.0.113.7/24", "action": "ban"}, "address", `"203.0.113.7/24" has host bits set; did you mean 203.0.113.0/24?`},
		{"bad duration", map[string]string{"address": "203.0.113.7", "action": "ban", "duration": "soon"}, "duration", "such as 30m"},
		{"negative duration", map[string]string{"address": "203.0.113.7", "action": "ban", "duration": "-5m"}, "duration", "at least 1s"},
		{"too long", map[string]string{"address": "203.0.113.7", "action": "ban", "duration": "99999d"}, "duration", "at most 3650d"},
		{"expiring trust", map[string]string{"address": "192.0.2.1", "action": "trust", "duration": "1h"}, "duration", "only bans expire"},
		{"expiring peer ban", map[string]string{"address": peerID, "action": "ban", "duration": "1h"}, "duration", "for good"},
		{"unknown action", map[string]string{"address": "203.0.113.7", "action": "nuke"}, "action", `not "nuke"`},
		{"unknown action on a range", map[string]string{"address": "203.0.113.0/24", "action": "nuke"}, "action", `Must be ban or trust, not "nuke".`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newUIEnv(t)
			b := e.browser(t)
			e.setUp(t, b)
			p := b.submitFrom("/p2p", "/p2p/acl", tt.fields)
			if p.status != http.StatusUnprocessableEntity {
				t.Fatalf("status %d, want 422\n%s", p.status, p.body)
			}
			if got := p.text(tt.field + "-error"); !strings.Contains(got, tt.wantError) || strings.HasSuffix(got, "?.") {
				t.Errorf("%s error %q, want it to contain %q\n%s", tt.field, got, tt.wantError, p.body)
			}
			if n := p.doc.Find(`.error[data-testid$="-error"]`).Length(); n != 1 {
				t.Errorf("%d field errors, want 1", n)
			}
			if v, _ := p.doc.Find(`[data-testid="address"]`).Attr("value"); v != strings.TrimSpace(tt.fields["address"]) {
				t.Errorf("the form lost the address: %q", v)
			}
			if got := e.acl.Counts(); got != (acl.Counts{}) {
				t.Errorf("a refused form changed the ACL: %+v", got)
			}
		})
	}
}

func TestUINetworkPointButtons(t *testing.T) {
	e := newUIEnv(t)
	b := e.browser(t)
	e.setUp(t, b)
	steps := []struct {
		path  string
		check func() bool
	}{
		{"/p2p/points/203.0.113.7:4000/ban", func() bool { return e.acl.Banned(addr("203.0.113.7")) }},
		{"/p2p/points/203.0.113.7:4000/trust", func() bool {
			return e.acl.Trusted(addr("203.0.113.7")) && !e.acl.Banned(addr("203.0.113.7"))
		}},
		{"/p2p/points/203.0.113.7/open", func() bool { _, held := e.acl.Point(addr("203.0.113.7")); return !held }},
		// IPv6 points come with escaped brackets, as the page writes them.
		{"/p2p/points/" + url.PathEscape("[2001:db8::7]:9732") + "/ban", func() bool { return e.acl.Banned(addr("2001:db8::7")) }},
		{"/p2p/points/2001:db8::7/open", func() bool { return !e.acl.Banned(addr("2001:db8::7")) }},
	}
	for _, s := range steps {
		p := b.submitFrom("/p2p", s.path, nil)
		wantRedirect(t, p, "/p2p?done="+s.path[strings.LastIndex(s.path, "/")+1:])
		if !s.check() {
			t.Errorf("POST %s did not change the ACL", s.path)
		}
	}

	// A point's row button opens it under htmx: only the page's state
	// comes back, not a redirect.
	e.setPoint(t, "198.51.100.9:9732", acl.Ban)
	p := b.get("/p2p")
	open, _ := p.row("point-row", "data-point", "198.51.100.9:9732").Find(`[data-testid="point-open"]`).Closest("form").Attr("action")
	if open != "/p2p/points/198.51.100.9:9732/open" {
		t.Fatalf("open form posts to %q", open)
	}
	form := url.Values{"_csrf": {p.csrf()}}
	f := b.post(open, form, "HX-Request", "true", "HX-Target", "p2p-state")
	if f.status != http.StatusOK || strings.Contains(f.body, "<html") || !f.has("p2p-state") || f.has("bulk-form") {
		t.Fatalf("htmx open: status %d\n%s", f.status, f.body)
	}
	if !f.has("no-bans") || e.acl.Banned(addr("198.51.100.9")) {
		t.Errorf("the swapped state still lists the ban:\n%s", f.body)
	}

	for path, want := range map[string]string{
		"/p2p/points/198.51.100.77/open": "The ACL holds nothing for 198.51.100.77.",
		"/p2p/points/not-a-point/ban":    `Point "not-a-point": a point is ipv4:port or [ipv6]:port.`,
		"/p2p/points/1.2.3.4:99999/ban":  `Point "1.2.3.4:99999": port "99999" must be a number from 0 to 65535.`,
	} {
		p := b.submitFrom("/p2p", path, nil)
		if p.status != http.StatusNotFound || p.text("error-message") != want {
			t.Errorf("POST %s: status %d, message %q; want 404 %q", path, p.status, p.text("error-message"), want)
		}
	}
	if got := e.acl.Counts(); got != (acl.Counts{}) {
		t.Errorf("refused posts changed the ACL: %+v", got)
	}
}

func TestUINetworkPeersAndConnections(t *testing.T) {
	e := newUIEnv(t)
	b := e.browser(t)
	e.setUp(t, b)
	id := e.connectPeer(t, "laptop", "198.51.100.4:51820")

	p := b.submitFrom("/p2p", "/p2p/peers/"+id+"/ban", nil)
	wantRedirect(t, p, "/p2p?done=ban")
	if !e.acl.Peer(id).Banned {
		t.Error("the peer is not banned")
	}
	if got := b.get("/p2p").texts("peer-ban-id"); !cmp.Equal(got, []string{id}) {
		t.Errorf("banned peers listed: %q", got)
	}
	p = b.submitFrom("/p2p", "/p2p/peers/"+id+"/trust", nil)
	wantRedirect(t, p, "/p2p?done=trust")
	if st := e.acl.Peer(id); !st.Trusted || st.Banned {
		t.Errorf("after trust: %+v", st)
	}
	wantRedirect(t, b.submitFrom("/p2p", "/p2p/peers/"+id+"/open", nil), "/p2p?done=open")
	if st := e.acl.Peer(id); st != (acl.PeerState{}) {
		t.Errorf("after open: %+v", st)
	}

	p = b.submitFrom("/p2p", "/p2p/connections/"+id+"/disconnect", nil)
	wantRedirect(t, p, "/p2p?done=disconnect")
	if c := e.ov.Connections(); len(c) != 0 {
		t.Errorf("still connected: %+v", c)
	}
	if !b.get("/p2p").has("no-connections") {
		t.Error("the page still lists the connection")
	}

	for path, want := range map[string]string{
		"/p2p/connections/" + id + "/disconnect": "Peer " + id + " is not connected.",
		"/p2p/peers/" + id + "/open":             "The ACL holds nothing for peer " + id + ".",
		"/p2p/peers/idNotAPeer/ban":              `Peer_id "idNotAPeer" is not a peer id: want 30 Base58Check characters starting with "id".`,
	} {
		p := b.submitFrom("/p2p", path, nil)
		if p.status != http.StatusNotFound || p.text("error-message") != want {
			t.Errorf("POST %s: status %d, message %q; want 404 %q", path, p.status, p.text("error-message"), want)
		}
	}
}

func TestUINetworkClearGreylist(t *testing.T) {
	e := newUIEnv(t)
	b := e.browser(t)
	e.setUp(t, b)
	e.greylist(t, "198.51.100.9")
	e.greylist(t, "2001:db8::9")
	e.setPoint(t, "203.0.113.7:0", acl.Ban)

	wantRedirect(t, b.submitFrom("/p2p", "/p2p/greylist/clear", nil), "/p2p?done=clear")
	if ips, _ := e.acl.GreylistIPs(); len(ips) != 0 {
		t.Errorf("still greylisted: %v", ips)
	}
	if !e.acl.Banned(addr("203.0.113.7")) {
		t.Error("clearing the greylist lifted a ban")
	}
	p := b.get("/p2p?done=clear")
	if !p.has("no-greylist") || p.has("greylist-clear") || p.text("notice") != "Greylist cleared; blocks and trusts stay." {
		t.Errorf("page after clearing:\n%s", p.body)
	}

	// One entry goes with "open", the rest stays.
	e.greylist(t, "198.51.100.9")
	e.greylist(t, "198.51.100.10")
	open, _ := b.get("/p2p").row("grey-row", "data-addr", "198.51.100.9").Find("form").Attr("action")
	wantRedirect(t, b.submitFrom("/p2p", open, nil), "/p2p?done=open")
	if ips, _ := e.acl.GreylistIPs(); !slices.Equal(ips, []netip.Addr{addr("198.51.100.10")}) {
		t.Errorf("greylisted after opening one: %v", ips)
	}
}

func TestUINetworkBulk(t *testing.T) {
	e := newUIEnv(t)
	b := e.browser(t)
	e.setUp(t, b)
	list := "# from the abuse feed\n203.0.113.7\n\n203.0.113.0/28\r\n203.0.113.9:22\n203.0.113.7\n"
	p := b.submitFrom("/p2p", "/p2p/bulk", map[string]string{"entries": list, "bulk_action": "ban", "bulk_duration": "12h"})
	wantRedirect(t, p, "/p2p?done=bulk-ban&n=3")
	if got := e.acl.Counts().Bans; got != 3 {
		t.Errorf("%d bans, want 3", got)
	}
	if !e.acl.Banned(addr("203.0.113.12")) {
		t.Error("the range is not banned")
	}
	if got := b.get(p.header.Get("Location")).text("notice"); got != "3 entries blocked." {
		t.Errorf("notice %q", got)
	}

	wantRedirect(t, b.submitFrom("/p2p", "/p2p/bulk", map[string]string{"entries": "192.0.2.0/24", "bulk_action": "trust"}),
		"/p2p?done=bulk-trust&n=1")
	if !e.acl.Trusted(addr("192.0.2.77")) {
		t.Error("the range is not trusted")
	}
}

func TestUINetworkBulkRefused(t *testing.T) {
	tests := []struct {
		name      string
		fields    map[string]string
		field     string
		wantError string
		wantLines []string
	}{
		{"bad lines", map[string]string{"entries": "# feed\n203.0.113.7\nnot-an-ip\n\n203.0.113.7/24", "bulk_action": "ban"},
			"entries", "", []string{
				`Line 3: "not-an-ip" is not an address, range or point: a point is ipv4:port or [ipv6]:port.`,
				`Line 5: "203.0.113.7/24" has host bits set; did you mean 203.0.113.0/24?`,
			}},
		{"a port in a trust", map[string]string{"entries": "192.0.2.1:22", "bulk_action": "trust"},
			"entries", "", []string{`Line 1: A trust covers every port; drop the port of "192.0.2.1:22".`}},
		{"empty", map[string]string{"entries": "# nothing\n", "bulk_action": "ban"}, "entries", "Must hold 1 to 100000 entries, not 0.", nil},
		{"expiring trust", map[string]string{"entries": "192.0.2.1", "bulk_action": "trust", "bulk_duration": "1h"},
			"bulk_duration", "only bans expire", nil},
		{"bad duration", map[string]string{"entries": "192.0.2.1", "bulk_action": "ban", "bulk_duration": "1 week"},
			"bulk_duration", "such as 30m", nil},
		{"unknown action", map[string]string{"entries": "192.0.2.1", "bulk_action": "open"}, "bulk_action", `Must be ban or trust, not "open".`, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newUIEnv(t)
			b := e.browser(t)
			e.setUp(t, b)
			p := b.submitFrom("/p2p", "/p2p/bulk", tt.fields)
			if p.status != http.StatusUnprocessableEntity {
				t.Fatalf("status %d, want 422\n%s", p.status, p.body)
			}
			if got := p.text(tt.field + "-error"); !strings.Contains(got, tt.wantError) || got == "" {
				t.Errorf("%s error %q, want it to contain %q", tt.field, got, tt.wantError)
			}
			if diff := cmp.Diff(tt.wantLines, p.texts("bulk-line-error")); diff != "" {
				t.Errorf("line errors (-want +got):\n%s", diff)
			}
			if got := p.text("entries"); got != strings.TrimSpace(tt.fields["entries"]) {
				t.Errorf("the form lost the list: %q", got)
			}
			if got := e.acl.Counts(); got != (acl.Counts{}) {
				t.Errorf("a refused list changed the ACL: %+v", got)
			}
		})
	}
}

func TestUINetworkNeedsCSRF(t *testing.T) {
	e := newUIEnv(t)
	b := e.browser(t)
	e.setUp(t, b)
	id := e.connectPeer(t, "laptop", "198.51.100.4:51820")
	e.greylist(t, "198.51.100.9")
	if _, err := e.acl.Bulk(t.Context(), acl.Ban, []string{"203.0.113.0/24"}, 0, "test", acl.Guard{}); err != nil {
		t.Fatal(err)
	}
	forms := map[string]url.Values{
		"/p2p/acl":                               {"address": {"203.0.113.7"}, "action": {"ban"}},
		"/p2p/bulk":                              {"entries": {"203.0.113.7"}, "bulk_action": {"ban"}},
		"/p2p/lift":                              {"target": {"203.0.113.0/24"}},
		"/p2p/greylist/clear":                    {},
		"/p2p/points/203.0.113.7:0/ban":          {},
		"/p2p/points/198.51.100.9/open":          {},
		"/p2p/peers/" + id + "/ban":              {},
		"/p2p/connections/" + id + "/disconnect": {},
	}
	for path, form := range forms {
		for _, tok := range []string{"", "forged"} {
			f := url.Values{}
			for k, v := range form {
				f[k] = v
			}
			if tok != "" {
				f.Set("_csrf", tok)
			}
			if p := b.post(path, f); p.status != http.StatusForbidden {
				t.Errorf("POST %s with token %q: status %d, want 403", path, tok, p.status)
			}
		}
	}
	if got := e.acl.Counts(); got != (acl.Counts{Bans: 1, Greylisted: 1}) {
		t.Errorf("refused posts changed the ACL: %+v", got)
	}
	if len(e.ov.Connections()) != 1 || e.acl.Peer(id).Banned {
		t.Error("refused posts changed the peer")
	}
}

func TestUINetworkNeedsLogin(t *testing.T) {
	e := newUIEnv(t)
	e.setUp(t, e.browser(t))
	anon := e.browser(t)
	wantRedirect(t, anon.get("/p2p"), "/login")
}

// TestUINetworkLift lifts a range, a port ban and a trusted range made on
// the page, with a plain form and with htmx, and refuses targets that are
// no entry.
func TestUINetworkLift(t *testing.T) {
	e := newUIEnv(t)
	b := e.browser(t)
	e.setUp(t, b)
	wantRedirect(t, b.submitFrom("/p2p", "/p2p/acl", map[string]string{"address": "198.51.100.0/24", "action": "ban", "duration": "1d"}),
		"/p2p?done=ban")
	wantRedirect(t, b.submitFrom("/p2p", "/p2p/bulk", map[string]string{"entries": "203.0.113.9:22\n203.0.113.10", "bulk_action": "ban"}),
		"/p2p?done=bulk-ban&n=2")
	wantRedirect(t, b.submitFrom("/p2p", "/p2p/bulk", map[string]string{"entries": "192.0.2.0/24", "bulk_action": "trust"}),
		"/p2p?done=bulk-trust&n=1")
	e.greylist(t, "198.51.100.7") // in the banned range: lifting the range leaves it greylisted

	p := b.get("/p2p")
	r := p.row("ban-row", "data-target", "198.51.100.0/24")
	if cell(r, "ban-kind") != "Range" || !regexp.MustCompile(`^(23 h 59 min|1 day)$`).MatchString(cell(r, "ban-left")) {
		t.Errorf("range row: kind %q, left %q", cell(r, "ban-kind"), cell(r, "ban-left"))
	}
	if until, err := moment(r, "ban-left"); err != nil || until.Before(time.Now().Add(23*time.Hour)) || until.After(time.Now().Add(25*time.Hour)) {
		t.Errorf("time left with its end %s (%v), want in a day", until, err)
	}
	if action, _ := r.Find("form").Attr("action"); action != "/p2p/lift" {
		t.Errorf("lift form posts to %q", action)
	}
	lift := func(target string, header ...string) page {
		t.Helper()
		return b.post("/p2p/lift", url.Values{"_csrf": {p.csrf()}, "target": {target}}, header...)
	}

	// Without JavaScript: 303 back to the page, which says what happened.
	wantRedirect(t, lift("198.51.100.0/24"), "/p2p?done=lift")
	if e.acl.Banned(addr("198.51.100.200")) {
		t.Error("the range is still banned")
	}
	if _, grey := e.acl.Greylisted(addr("198.51.100.7")); !grey {
		t.Error("lifting the range ended a greylisting")
	}
	if got := b.get("/p2p?done=lift").text("notice"); got != "Removed: the entry no longer blocks or trusts anyone." {
		t.Errorf("notice %q", got)
	}

	// With htmx: the state comes back in place, without the lifted row.
	f := lift("203.0.113.9:22", "HX-Request", "true", "HX-Target", "p2p-state")
	if f.status != http.StatusOK || strings.Contains(f.body, "<html") || !f.has("p2p-state") {
		t.Fatalf("htmx lift: status %d\n%s", f.status, f.body)
	}
	if got := f.texts("ban-target"); !cmp.Equal(got, []string{"203.0.113.10"}) {
		t.Errorf("bans after the htmx lift: %q", got)
	}

	wantRedirect(t, lift(" 192.0.2.0/24 "), "/p2p?done=lift")
	if e.acl.Trusted(addr("192.0.2.5")) || !b.get("/p2p").has("no-trusts") {
		t.Error("the trusted range is still trusted or listed")
	}

	for target, want := range map[string]struct {
		status int
		msg    string
	}{
		"not-an-ip":       {http.StatusUnprocessableEntity, `"not-an-ip" is not an address, range or point: a point is ipv4:port or [ipv6]:port.`},
		"198.51.100.1/24": {http.StatusUnprocessableEntity, `"198.51.100.1/24" has host bits set; did you mean 198.51.100.0/24?`},
		"":                {http.StatusUnprocessableEntity, `"" is not an address, range or point: a point is ipv4:port or [ipv6]:port.`},
		"198.51.100.0/24": {http.StatusNotFound, "The ACL holds no ban or trust for 198.51.100.0/24."},
		"203.0.113.10:22": {http.StatusNotFound, "The ACL holds no ban or trust for 203.0.113.10:22."},
	} {
		got := lift(target)
		if got.status != want.status || got.text("error-message") != want.msg {
			t.Errorf("lift %q: status %d, message %q; want %d %q", target, got.status, got.text("error-message"), want.status, want.msg)
		}
	}
	if got := e.acl.Counts(); got != (acl.Counts{Bans: 1, Greylisted: 1}) {
		t.Errorf("after the refused lifts: %+v", got)
	}
}

// TestUINetworkListLimit cuts a long list and says how many rows it left
// out; banned peer ids no overlay peer has are listed too.
func TestUINetworkListLimit(t *testing.T) {
	e := newUIEnv(t)
	b := e.browser(t)
	e.setUp(t, b)
	list := make([]string, ui.ListLimit+3)
	for i := range list {
		list[i] = netip.AddrFrom4([4]byte{10, 0, byte(i >> 8), byte(i)}).String()
	}
	if _, err := e.acl.Bulk(t.Context(), acl.Ban, list, 0, "test", acl.Guard{}); err != nil {
		t.Fatal(err)
	}
	stranger := overlay.PeerID(testPubKey) // no overlay peer has it
	if err := e.acl.SetPeer(t.Context(), stranger, acl.Ban, "test"); err != nil {
		t.Fatal(err)
	}
	p := b.get("/p2p")
	got := p.texts("ban-target")
	if len(got) != ui.ListLimit || got[0] != "10.0.0.0" || got[ui.ListLimit-1] != list[ui.ListLimit-1] {
		t.Errorf("%d rows, from %q to %q", len(got), got[0], got[len(got)-1])
	}
	if got := p.text("bans-more"); got != "Not listed here: 3 more." {
		t.Errorf("bans more %q", got)
	}
	r := p.row("peer-ban-row", "data-peer-id", stranger)
	if r.Length() != 1 || cell(r, "peer-ban-name") != "" || r.Find(`[data-testid="peer-ban-open"]`).Length() != 1 {
		t.Errorf("the stranger's ban is not listed with its open button:\n%s", p.body)
	}
}

// TestUINetworkPointsLimit cuts the points where 200 addresses are banned
// and counts the rest: past the cut, a banned point a peer is connected
// from counts once, and an address with only a port ban counts apart from
// a connection from it.
func TestUINetworkPointsLimit(t *testing.T) {
	e := newUIEnv(t)
	b := e.browser(t)
	e.setUp(t, b)
	list := make([]string, ui.ListLimit+3)
	for i := range list {
		list[i] = netip.AddrFrom4([4]byte{10, 0, byte(i >> 8), byte(i)}).String()
	}
	if _, err := e.acl.Bulk(t.Context(), acl.Ban, append(list, "198.51.100.5:22"), 0, "test", acl.Guard{}); err != nil {
		t.Fatal(err)
	}
	e.setPoint(t, "198.51.100.4:51820", acl.Ban)
	e.connectPeer(t, "laptop", "198.51.100.4:51820")
	e.connectPeer(t, "phone", "198.51.100.5:51820")
	p := b.get("/p2p")
	points := p.texts("point")
	if len(points) != ui.ListLimit || points[0] != "10.0.0.0" || points[ui.ListLimit-1] != list[ui.ListLimit-1] {
		t.Errorf("%d point rows, from %q to %q", len(points), points[0], points[len(points)-1])
	}
	// 3 bulk bans, 198.51.100.4:51820, 198.51.100.5:0 and 198.51.100.5:51820.
	if got := p.text("points-more"); got != "Not shown here: 6 more." {
		t.Errorf("points more %q", got)
	}
}

// BenchmarkUINetwork100k renders the network page with 100,000 bans held:
// every ACL change on the page renders it again.
func BenchmarkUINetwork100k(b *testing.B) {
	e := newUIEnv(b)
	br := e.browser(b)
	e.setUp(b, br)
	list := make([]string, 100_000)
	for i := range list {
		list[i] = netip.AddrFrom4([4]byte{10, byte(i >> 16), byte(i >> 8), byte(i)}).String()
	}
	if _, err := e.acl.Bulk(b.Context(), acl.Ban, list, 0, "test", acl.Guard{}); err != nil {
		b.Fatal(err)
	}
	cookie := br.cookie(ui.SessionCookiePlain)
	b.ReportAllocs()
	for b.Loop() {
		req := httptest.NewRequest(http.MethodGet, "/p2p", nil)
		req.AddCookie(cookie)
		res, err := e.app.Test(req, -1)
		if err != nil || res.StatusCode != http.StatusOK {
			b.Fatalf("GET /p2p: %v %v", res, err)
		}
		_, _ = io.Copy(io.Discard, res.Body)
		res.Body.Close()
	}
}
