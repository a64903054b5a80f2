package overlay

import (
	"context"
	"encoding/base64"
	"flag"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/edgeward/edgeward/core/golden"
	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

var update = flag.Bool("update", false, "rewrite testdata/*.golden")

// fixedKey is a valid WireGuard key made of one repeated byte.
func fixedKey(b byte) string {
	return base64.StdEncoding.EncodeToString([]byte(strings.Repeat(string(rune(b)), 32)))
}

// Keys of the golden records: the peers' own, and those that stand in for
// the ones the gateway generated.
var (
	keyAnn     = fixedKey('a')
	keySrv     = fixedKey('s')
	keyTemp    = fixedKey('t')
	keyPhone   = fixedKey('p') // generated public key
	privPhone  = fixedKey('P') // generated private key, kept
	pskPhone   = fixedKey('K') // generated preshared key
	goldenNote = `Stored records of core/overlay, written through its API (TestGoldenRecordsWritten)
and read back (TestGoldenRecordsRead). go test ./core/overlay -run Golden -update rewrites this file.
Normalised: ids (random xids) are replaced by id-<kind>-<name>; the key pair and preshared key the
gateway generated for peer "phone" by fixed keys of one repeated byte.`
)

func TestGoldenRecordsWritten(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	all := f.svc.Groups("All")[0].ID
	repl := map[string]string{all: "id-group-all"}
	mustPeer := func(name string, req NewPeer) Created {
		t.Helper()
		req.Name = name
		c, err := f.svc.CreatePeer(ctx, req)
		if err != nil {
			t.Fatalf("create peer %s: %v", name, err)
		}
		return c
	}
	ann := mustPeer("Laptop of Ann", NewPeer{PublicKey: keyAnn, CreatedBy: "tok-admin"})
	srv := mustPeer("db server", NewPeer{PublicKey: keySrv, CreatedBy: "tok-ops"})
	repl[ann.ID], repl[srv.ID] = "id-peer-ann", "id-peer-srv"
	admins, err := f.svc.SaveGroup(ctx, "", GroupSpec{Name: "Admins", Peers: []string{ann.ID},
		Resources: []netip.Prefix{netip.MustParsePrefix("192.168.10.0/24"), netip.MustParsePrefix("0.0.0.0/0")}})
	if err != nil {
		t.Fatal(err)
	}
	servers, err := f.svc.SaveGroup(ctx, "", GroupSpec{Name: "Servers", Peers: []string{srv.ID}})
	if err != nil {
		t.Fatal(err)
	}
	repl[admins.ID], repl[servers.ID] = "id-group-admins", "id-group-servers"
	f.clock.Add(time.Hour)
	phone := mustPeer("phone", NewPeer{Groups: []string{admins.ID}, KeepKey: true, CreatedBy: "tok-admin"})
	repl[phone.ID], repl[phone.PublicKey], repl[phone.PrivateKey], repl[phone.PresharedKey] =
		"id-peer-phone", keyPhone, privPhone, pskPhone
	yes := true
	ip := "100.64.0.50"
	if _, err := f.svc.UpdatePeer(ctx, srv.ID, PeerUpdate{Name: "db server", SSHEnabled: true,
		ApprovalRequired: &yes, IP: &ip}); err != nil {
		t.Fatal(err)
	}
	pol, err := f.svc.SavePolicy(ctx, "", Policy{Name: "Admins to servers", Description: "ssh and the app", Enabled: true,
		Rules: []Rule{
			{Name: "ssh", Description: "admins log in", Enabled: true, Action: "accept", Bidirectional: true, Protocol: ProtoTCP,
				Ports: []uint16{22, 2222}, Sources: []string{admins.ID}, Destinations: []string{servers.ID}},
			{Enabled: true, Action: "accept", Protocol: ProtoUDP, PortRanges: []PortRange{{Start: 8000, End: 8080}},
				Sources: []string{all}, Destinations: []string{admins.ID}},
			{Action: "accept", Protocol: ProtoICMP, Sources: []string{servers.ID}, Destinations: []string{admins.ID}},
		}})
	if err != nil {
		t.Fatal(err)
	}
	repl[pol.ID] = "id-policy-admins"
	tmp, err := f.svc.CreateTempAccess(ctx, srv.ID, TempAccess{Name: "contractor", PublicKey: keyTemp,
		Rules: []string{"tcp/443", "icmp"}, CreatedBy: "tok-ops"})
	if err != nil {
		t.Fatal(err)
	}
	repl[tmp.ID] = "id-peer-temp"
	for _, p := range f.svc.Policies() {
		if p.ID != pol.ID {
			repl[p.ID] = "id-policy-temp"
		}
	}
	if err := f.svc.SetConnected(ctx, keyAnn, true, netip.MustParseAddrPort("198.51.100.7:51820")); err != nil {
		t.Fatal(err)
	}
	golden.CheckStore(t, *update, golden.RecordsFile, f.db, repl, goldenNote)
}

// TestGoldenRecordsRead loads the golden records into a fresh store and
// checks that the overlay reads every field of them.
func TestGoldenRecordsRead(t *testing.T) {
	f := &fixture{dir: t.TempDir(), clock: &clock{t: time.Date(2026, 1, 2, 5, 0, 0, 0, time.UTC)}}
	golden.LoadStore(t, golden.RecordsFile, f.dir)
	f.open(t)
	ctx := context.Background()
	t0 := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	a := netip.MustParseAddr
	wantPeers := []Peer{
		{ID: "id-peer-ann", Name: "Laptop of Ann", PublicKey: keyAnn, IP: a("100.64.0.2"), DNSLabel: "laptop-of-ann",
			CreatedAt: t0, CreatedBy: "tok-admin"},
		{ID: "id-peer-temp", Name: "contractor", PublicKey: keyTemp, IP: a("100.64.0.5"), DNSLabel: "contractor",
			CreatedAt: t0.Add(time.Hour), CreatedBy: "tok-ops", Ephemeral: true},
		{ID: "id-peer-srv", Name: "db server", PublicKey: keySrv, IP: a("100.64.0.50"), DNSLabel: "db-server",
			CreatedAt: t0, CreatedBy: "tok-ops", SSHEnabled: true, ApprovalRequired: true},
		{ID: "id-peer-phone", Name: "phone", PublicKey: keyPhone, IP: a("100.64.0.4"), DNSLabel: "phone",
			CreatedAt: t0.Add(time.Hour), CreatedBy: "tok-admin"},
	}
	var gotPeers []Peer
	for _, p := range f.svc.Peers(Filter{}) {
		gotPeers = append(gotPeers, p.Peer)
	}
	if diff := cmp.Diff(wantPeers, gotPeers, cmpOpts...); diff != "" {
		t.Errorf("peers (-want +got):\n%s", diff)
	}
	ann, err := f.svc.Peer("id-peer-ann")
	if err != nil || ann.Endpoint != netip.MustParseAddrPort("198.51.100.7:51820") {
		t.Errorf("ann's endpoint %s, %v; want the stored one", ann.Endpoint, err)
	}
	kept, ok, err := f.svc.Kept(ctx, "id-peer-phone")
	if err != nil || !ok || kept.PrivateKey != privPhone || kept.PresharedKey != pskPhone {
		t.Errorf("Kept(phone) = key %q, psk %q, %v, %v; want the stored ones", kept.PrivateKey, kept.PresharedKey, ok, err)
	}
	wantGroups := []Group{
		{ID: "id-group-admins", Name: "Admins", Peers: []string{"id-peer-ann", "id-peer-phone"}, Issued: "api",
			Resources: []netip.Prefix{netip.MustParsePrefix("192.168.10.0/24"), netip.MustParsePrefix("0.0.0.0/0")}},
		// All's members are computed (never stored): every peer but the ephemeral one.
		{ID: "id-group-all", Name: "All", Peers: []string{"id-peer-ann", "id-peer-srv", "id-peer-phone"}, Issued: "api", All: true},
		{ID: "id-group-servers", Name: "Servers", Peers: []string{"id-peer-srv"}, Issued: "api"},
	}
	var gotGroups []Group
	for _, g := range f.svc.Groups("") {
		gotGroups = append(gotGroups, g.Group)
	}
	if diff := cmp.Diff(wantGroups, gotGroups, append(cmpOpts, cmpopts.EquateComparable(netip.Prefix{}))...); diff != "" {
		t.Errorf("groups (-want +got):\n%s", diff)
	}
	wantPolicies := []Policy{
		{ID: "id-policy-admins", Name: "Admins to servers", Description: "ssh and the app", Enabled: true, Rules: []Rule{
			{ID: "id-policy-admins-0", Name: "ssh", Description: "admins log in", Enabled: true, Action: "accept",
				Bidirectional: true, Protocol: ProtoTCP, Ports: []uint16{22, 2222},
				Sources: []string{"id-group-admins"}, Destinations: []string{"id-group-servers"}},
			{ID: "id-policy-admins-1", Name: "Admins to servers", Enabled: true, Action: "accept", Protocol: ProtoUDP,
				PortRanges: []PortRange{{Start: 8000, End: 8080}}, Sources: []string{"id-group-all"},
				Destinations: []string{"id-group-admins"}},
			{ID: "id-policy-admins-2", Name: "Admins to servers", Action: "accept", Protocol: ProtoICMP,
				Sources: []string{"id-group-servers"}, Destinations: []string{"id-group-admins"}},
		}},
		{ID: "id-policy-temp", Name: "Temporary access policy for peer contractor",
			Description: "lets contractor reach db server until it disconnects", Enabled: true, Rules: []Rule{
				{ID: "id-peer-temp-0", Name: "Temporary access rule tcp/443", Enabled: true, Action: "accept",
					Protocol: ProtoTCP, Ports: []uint16{443}, SourcePeer: "id-peer-temp", DestinationPeer: "id-peer-srv"},
				{ID: "id-peer-temp-1", Name: "Temporary access rule icmp", Enabled: true, Action: "accept",
					Protocol: ProtoICMP, SourcePeer: "id-peer-temp", DestinationPeer: "id-peer-srv"},
			}},
	}
	var gotPolicies []Policy
	for _, p := range f.svc.Policies() {
		gotPolicies = append(gotPolicies, p.Policy)
	}
	if diff := cmp.Diff(wantPolicies, gotPolicies, cmpOpts...); diff != "" {
		t.Errorf("policies (-want +got):\n%s", diff)
	}
}
