package links

import (
	"context"
	"errors"
	"net/netip"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/edgeward/edgeward/core"
	"github.com/edgeward/edgeward/core/events"
	"github.com/edgeward/edgeward/core/store"
	"github.com/google/go-cmp/cmp"
)

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
	k       *fakeKernel
	db      *store.DB
	dir     string
	resolv  string
	clock   *clock
	journal *events.Journal
}

// lab is a router with loopback, two NICs and a MAC-less tunnel.
func lab() *fakeKernel {
	return newFakeKernel(
		Link{Index: 1, Name: "lo", Kind: "loopback", MTU: 65536, Addrs: []Addr{static("127.0.0.1/8")}},
		Link{Index: 2, Name: "eth0", MAC: "02:00:00:00:00:01", MTU: 1500, MinMTU: 68, MaxMTU: 9000, OperState: OperUp,
			Carrier: yes(), SpeedMbps: 1000, RxBytes: 1 << 40, TxBytes: 7,
			Addrs:     []Addr{static("192.168.1.1/24"), static("192.168.1.2/24"), static("2001:db8::1/64")},
			GatewayV4: netip.MustParseAddr("192.168.1.254")},
		Link{Index: 3, Name: "eth1", MAC: "02:00:00:00:00:02", MTU: 1500, OperState: OperUp,
			Addrs: []Addr{{Prefix: netip.MustParsePrefix("10.0.0.7/8"), AssignedBy: AssignedDHCP}}},
		Link{Index: 4, Name: "wg0", Kind: "wireguard", MTU: 1420, OperState: OperUnknown},
	)
}

func newFixture(t *testing.T, k *fakeKernel) *fixture {
	t.Helper()
	dir := t.TempDir()
	f := &fixture{dir: dir, k: k, resolv: filepath.Join(dir, "resolv.conf"), clock: &clock{t: time.Unix(1800000000, 0)}}
	f.open(t)
	return f
}

func (f *fixture) open(t *testing.T) {
	t.Helper()
	db, err := store.Open(context.Background(), store.Options{Dir: filepath.Join(f.dir, "db")}, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	f.db = db
	f.journal = events.New(256, f.clock.Now)
	f.svc, err = New(context.Background(), db, f.k, f.journal,
		Config{NodeName: "edge-1", ResolvConf: f.resolv, Now: f.clock.Now})
	if err != nil {
		t.Fatal(err)
	}
}

func (f *fixture) restart(t *testing.T) {
	t.Helper()
	if err := f.db.Close(); err != nil {
		t.Fatal(err)
	}
	f.open(t)
}

func (f *fixture) status(t *testing.T, id int) string {
	t.Helper()
	st, err := f.svc.StatusOf(context.Background(), id, 1)
	if err != nil {
		t.Fatal(err)
	}
	return st.UpdateStatus
}

func (f *fixture) kinds() []string {
	var out []string
	for _, e := range f.journal.Recent(100, nil) {
		out = append(out, string(e.Kind))
	}
	return out
}

func ptr[T any](v T) *T { return &v }

func names(ifs []Interface) map[int]string {
	out := map[int]string{}
	for _, i := range ifs {
		out[i.ID] = i.Name
	}
	return out
}

func TestIDsSurviveRestartAndRenumbering(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, lab())
	if diff := cmp.Diff(map[int]string{1: "eth0", 2: "eth1", 3: "wg0"}, names(f.svc.Interfaces(ctx))); diff != "" {
		t.Fatalf("first start (-want +got):\n%s", diff)
	}
	// Reboot with eth0 renamed and renumbered, eth1 gone, a new NIC and a
	// VLAN link (a network of its parent, not an interface).
	f.k.edit("eth0", func(l *Link) { l.Name, l.Index = "enp1s0", 7 })
	f.k.remove("eth1")
	f.k.add(Link{Index: 9, Name: "eth2", MAC: "02:00:00:00:00:03", MTU: 1500})
	f.k.add(Link{Index: 10, Name: "enp1s0.5", Kind: "vlan", MAC: "02:00:00:00:00:01", VLANID: 5, ParentIndex: 7, MTU: 1500})
	f.restart(t)
	if diff := cmp.Diff(map[int]string{1: "enp1s0", 2: "eth1", 3: "wg0", 4: "eth2"}, names(f.svc.Interfaces(ctx))); diff != "" {
		t.Fatalf("after renumbering (-want +got):\n%s", diff)
	}
	if got := f.status(t, 2); got != Unavailable {
		t.Errorf("vanished eth1: update_status %s, want %s", got, Unavailable)
	}
	// eth1 coming back keeps its id; eth2 leaving does not free id 4.
	f.k.add(Link{Index: 11, Name: "eth1", MAC: "02:00:00:00:00:02", MTU: 1500})
	f.k.remove("eth2")
	f.k.add(Link{Index: 12, Name: "eth3", MAC: "02:00:00:00:00:04", MTU: 1500})
	f.restart(t)
	if diff := cmp.Diff(map[int]string{1: "enp1s0", 2: "eth1", 3: "wg0", 4: "eth2", 5: "eth3"}, names(f.svc.Interfaces(ctx))); diff != "" {
		t.Fatalf("ids reused (-want +got):\n%s", diff)
	}
}

func TestFirstSight(t *testing.T) {
	f := newFixture(t, lab())
	tests := []struct {
		name  string
		id    int
		iface Interface
		nets  []Network
	}{
		{"static addresses", 1,
			Interface{ID: 1, Name: "eth0", DefaultGateway: netip.MustParseAddr("192.168.1.254"), BondingMode: BondActiveBackup, MTU: 1500},
			[]Network{
				{ID: 1, Name: "Default", AssignedBy: AssignedStatic, IPRanges: []string{"192.168.1.1", "192.168.1.2"}, Netmask: "255.255.255.0", MTU: 1500, Adopted: true},
				{ID: 2, Name: "Network 2", AssignedBy: AssignedStatic, IPRanges: []string{"2001:db8::1"}, Netmask: "2001:db8::/64", MTU: 1500, Adopted: true},
			}},
		{"dhcp", 2, Interface{ID: 2, Name: "eth1", BondingMode: BondActiveBackup, MTU: 1500},
			[]Network{{ID: 1, Name: "Default", AssignedBy: AssignedDHCP, MTU: 1500, Adopted: true}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			iface, err := f.svc.Interface(tt.id)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.iface, iface, cmp.Comparer(func(a, b netip.Addr) bool { return a == b })); diff != "" {
				t.Errorf("interface (-want +got):\n%s", diff)
			}
			nets, err := f.svc.Networks(tt.id)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.nets, nets); diff != "" {
				t.Errorf("networks (-want +got):\n%s", diff)
			}
		})
	}
	// Adopting changes nothing: applying the first-sight config keeps the
	// kernel's addresses.
	before := f.k.link("eth0").Addrs
	if err := f.svc.ApplyAll(context.Background()); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(before, f.k.link("eth0").Addrs, cmp.Comparer(func(a, b netip.Prefix) bool { return a == b })); diff != "" {
		t.Errorf("first apply changed addresses (-want +got):\n%s", diff)
	}
}

func fieldsOf(err error) []string {
	var ve *core.ValidationError
	if !errors.As(err, &ve) {
		return nil
	}
	var out []string
	for _, f := range ve.Fields {
		out = append(out, f.Field)
	}
	return out
}
