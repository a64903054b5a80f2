package overlay

import (
	"context"
	"errors"
	"net/netip"
	"sync"
	"testing"
	"time"

	"github.com/edgeward/edgeward/core"
	"github.com/edgeward/edgeward/core/events"
	"github.com/edgeward/edgeward/core/store"
	"github.com/edgeward/edgeward/core/wgkey"
	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

// clock is a settable time source for expiry tests.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

type fixture struct {
	svc     *Service
	db      *store.DB
	dir     string
	clock   *clock
	journal *events.Journal
}

func newFixture(t testing.TB) *fixture {
	t.Helper()
	f := &fixture{dir: t.TempDir(), clock: &clock{t: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)}}
	f.open(t)
	return f
}

func (f *fixture) open(t testing.TB) {
	t.Helper()
	db, err := store.Open(context.Background(), store.Options{Dir: f.dir}, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	f.db = db
	f.journal = events.New(256, f.clock.Now)
	svc, err := New(context.Background(), db, f.journal, Config{
		Network: netip.MustParsePrefix("100.64.0.0/24"), DNSDomain: "ew.test",
		TempAccessTimeout: 10 * time.Minute, Now: f.clock.Now,
	})
	if err != nil {
		t.Fatal(err)
	}
	f.svc = svc
}

// restart closes the store and loads everything again, as a reboot would.
func (f *fixture) restart(t testing.TB) {
	t.Helper()
	if err := f.db.Close(); err != nil {
		t.Fatal(err)
	}
	f.open(t)
}

func key(t testing.TB) string {
	t.Helper()
	_, pub, err := wgkey.Generate()
	if err != nil {
		t.Fatal(err)
	}
	return pub.String()
}

func (f *fixture) peer(t testing.TB, name string, groups ...string) PeerInfo {
	t.Helper()
	c, err := f.svc.CreatePeer(context.Background(), NewPeer{Name: name, PublicKey: key(t), Groups: groups})
	if err != nil {
		t.Fatalf("create peer %s: %v", name, err)
	}
	return c.PeerInfo
}

func (f *fixture) group(t testing.TB, name string, peers ...string) string {
	t.Helper()
	g, err := f.svc.SaveGroup(context.Background(), "", GroupSpec{Name: name, Peers: peers})
	if err != nil {
		t.Fatalf("save group %s: %v", name, err)
	}
	return g.ID
}

func names(ps []PeerInfo) []string {
	out := []string{}
	for _, p := range ps {
		out = append(out, p.Name)
	}
	return out
}

func TestCreatePeer(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	gen, err := f.svc.CreatePeer(ctx, NewPeer{Name: "Laptop of Ann", CreatedBy: "tok1"})
	if err != nil {
		t.Fatal(err)
	}
	priv, err := wgkey.Parse(gen.PrivateKey)
	if err != nil {
		t.Fatalf("generated private key: %v", err)
	}
	pub, _ := wgkey.Public(priv)
	want := PeerInfo{
		Peer: Peer{ID: gen.ID, Name: "Laptop of Ann", PublicKey: pub.String(), IP: netip.MustParseAddr("100.64.0.2"),
			DNSLabel: "laptop-of-ann", CreatedAt: f.clock.Now(), CreatedBy: "tok1"},
		FQDN:   "laptop-of-ann.ew.test",
		Groups: []GroupRef{{ID: f.svc.Groups("All")[0].ID, Name: "All", PeersCount: 1, Issued: "api"}},
	}
	if diff := cmp.Diff(want, gen.PeerInfo, cmpOpts...); diff != "" {
		t.Errorf("created peer (-want +got):\n%s", diff)
	}
	if len(gen.ID) != 20 {
		t.Errorf("id %q is not 20 characters", gen.ID)
	}
	// A second peer with a name that maps to the same label gets the next IP
	// and the original's fallback label.
	own, err := f.svc.CreatePeer(ctx, NewPeer{Name: "laptop of ann", PublicKey: key(t)})
	if err != nil {
		t.Fatal(err)
	}
	if own.PrivateKey != "" {
		t.Errorf("private key returned for a peer that brought its own key")
	}
	if own.IP != netip.MustParseAddr("100.64.0.3") || own.DNSLabel != "laptop-of-ann-0-3" {
		t.Errorf("second peer ip %s label %s, want 100.64.0.3 laptop-of-ann-0-3", own.IP, own.DNSLabel)
	}
}

func TestCreatePeerRefused(t *testing.T) {
	f := newFixture(t)
	taken := f.peer(t, "taken")
	tests := []struct {
		name    string
		req     NewPeer
		wantErr error
		field   string
	}{
		{"empty name", NewPeer{Name: " "}, core.ErrInvalid, "name"},
		{"control char", NewPeer{Name: "a\nb"}, core.ErrInvalid, "name"},
		{"bad key", NewPeer{Name: "x", PublicKey: "n0r3pL4c3h0ld3rK3y=="}, core.ErrInvalid, "wg_pub_key"},
		{"short key", NewPeer{Name: "x", PublicKey: "AAAA"}, core.ErrInvalid, "wg_pub_key"},
		{"unknown group", NewPeer{Name: "x", Groups: []string{"nope"}}, core.ErrInvalid, "groups[0]"},
		{"duplicate name", NewPeer{Name: "taken"}, core.ErrConflict, ""},
		{"duplicate key", NewPeer{Name: "y", PublicKey: taken.PublicKey}, core.ErrConflict, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := f.svc.CreatePeer(context.Background(), tt.req)
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("err = %v, want %v", err, tt.wantErr)
			}
			var ve *core.ValidationError
			if tt.field != "" && (!errors.As(err, &ve) || ve.Fields[0].Field != tt.field) {
				t.Fatalf("err = %v, want field %s", err, tt.field)
			}
		})
	}
	if n := len(f.svc.Peers(Filter{})); n != 1 {
		t.Fatalf("%d peers after refused creates, want 1", n)
	}
}

func TestOverlayFull(t *testing.T) {
	f := newFixture(t)
	f.svc.cfg.Network = netip.MustParsePrefix("10.9.0.0/30") // .1 gateway, .2 the only peer address
	f.peer(t, "only")
	_, err := f.svc.CreatePeer(context.Background(), NewPeer{Name: "second", PublicKey: key(t)})
	if !errors.Is(err, core.ErrConflict) {
		t.Fatalf("err = %v, want ErrConflict for a full overlay", err)
	}
}

var cmpOpts = []cmp.Option{
	cmp.AllowUnexported(Status{}),
	cmpopts.EquateComparable(netip.Addr{}, netip.AddrPort{}),
}
