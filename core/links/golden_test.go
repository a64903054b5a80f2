package links

import (
	"context"
	"flag"
	"net/netip"
	"path/filepath"
	"testing"
	"time"

	"github.com/edgeward/edgeward/core/golden"
	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

var update = flag.Bool("update", false, "rewrite testdata/*.golden")

const goldenNote = `Stored records of core/links, written through its API (TestGoldenRecordsWritten)
and read back (TestGoldenRecordsRead). go test ./core/links -run Golden -update rewrites this file.
Nothing is normalised: ids are counters and times come from the test's clock.`

func TestGoldenRecordsWritten(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, lab()) // adopts eth0 (1), eth1 (2) and wg0 (3)
	if err := f.svc.SetInterface(ctx, 1, InterfacePatch{DefaultGateway: ptr("192.168.1.254"),
		DefaultGatewayV6: ptr("2001:db8::fffe"), BondingMode: ptr(BondActiveBackup), MTU: ptr(9000)}, WriteOpts{}); err != nil {
		t.Fatal(err)
	}
	if _, err := f.svc.AddNetwork(ctx, 1, NetworkPatch{Name: ptr("office"), AssignedBy: ptr(AssignedStatic),
		IPRanges: &[]string{"192.168.1.10-12", "192.168.1.20"}, FloatingIPRanges: &[]string{"192.168.1.100"},
		Netmask: ptr("255.255.255.0"), DNSServers: &[]string{"192.168.1.53", "2001:db8::53"},
		DNSSearchDomains: &[]string{"office.example"}}, WriteOpts{}); err != nil {
		t.Fatal(err)
	}
	if _, err := f.svc.AddNetwork(ctx, 1, NetworkPatch{Name: ptr("cameras"), AssignedBy: ptr(AssignedStatic),
		IPRanges: &[]string{"10.9.0.10"}, Netmask: ptr("10.9.0.0/24"), VLANID: ptr(9), MTU: ptr(1400)}, WriteOpts{}); err != nil {
		t.Fatal(err)
	}
	// An unconfirmed change: the previous config is kept with its deadline.
	if err := f.svc.SetInterface(ctx, 2, InterfacePatch{MTU: ptr(1480)}, WriteOpts{ConfirmWithin: 2 * time.Minute}); err != nil {
		t.Fatal(err)
	}
	golden.CheckStore(t, *update, golden.RecordsFile, f.db, nil, goldenNote)
}

// TestGoldenRecordsRead loads the golden records into a fresh store and
// checks that the service reads every field of them.
func TestGoldenRecordsRead(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	golden.LoadStore(t, golden.RecordsFile, filepath.Join(dir, "db"))
	f := &fixture{dir: dir, k: lab(), resolv: filepath.Join(dir, "resolv.conf"), clock: &clock{t: time.Unix(1800000000, 0)}}
	f.open(t)
	a := netip.MustParseAddr
	wantIfs := []Interface{
		{ID: 1, Name: "eth0", DefaultGateway: a("192.168.1.254"), DefaultGatewayV6: a("2001:db8::fffe"),
			BondingMode: BondActiveBackup, MTU: 9000},
		{ID: 2, Name: "eth1", BondingMode: BondActiveBackup, MTU: 1480},
		{ID: 3, Name: "wg0", BondingMode: BondActiveBackup, MTU: 1420},
	}
	opts := cmpopts.EquateComparable(netip.Addr{})
	if diff := cmp.Diff(wantIfs, f.svc.Interfaces(ctx), opts); diff != "" {
		t.Errorf("interfaces (-want +got):\n%s", diff)
	}
	wantNets := map[int][]Network{
		1: {
			{ID: 1, Name: "Default", AssignedBy: AssignedStatic, IPRanges: []string{"192.168.1.1", "192.168.1.2"},
				Netmask: "255.255.255.0", MTU: 9000, Adopted: true},
			{ID: 2, Name: "Network 2", AssignedBy: AssignedStatic, IPRanges: []string{"2001:db8::1"},
				Netmask: "2001:db8::/64", MTU: 9000, Adopted: true},
			{ID: 3, Name: "office", AssignedBy: AssignedStatic, IPRanges: []string{"192.168.1.10-12", "192.168.1.20"},
				FloatingIPRanges: []string{"192.168.1.100"}, Netmask: "255.255.255.0",
				DNSServers: []string{"192.168.1.53", "2001:db8::53"}, DNSSearchDomains: []string{"office.example"}, MTU: 9000},
			{ID: 4, Name: "cameras", AssignedBy: AssignedStatic, IPRanges: []string{"10.9.0.10"}, Netmask: "10.9.0.0/24",
				MTU: 1400, VLANID: 9},
		},
		2: {{ID: 1, Name: "Default", AssignedBy: AssignedDHCP, MTU: 1480, Adopted: true}},
	}
	for id, want := range wantNets {
		got, err := f.svc.Networks(id)
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(want, got, cmpopts.EquateEmpty()); diff != "" {
			t.Errorf("networks of interface %d (-want +got):\n%s", id, diff)
		}
	}
	deadline, ok := f.svc.Pending(2)
	if want := time.Unix(1800000000, 0).Add(2 * time.Minute); !ok || !deadline.Equal(want) {
		t.Errorf("pending change of eth1: deadline %s, %v; want %s", deadline, ok, want)
	}
	if _, ok := f.svc.Pending(1); ok {
		t.Error("eth0 has a pending change; it was written without a deadline")
	}
	// Past the deadline the stored previous config comes back.
	f.clock.Add(3 * time.Minute)
	f.svc.sweep(ctx)
	if got, err := f.svc.Interface(2); err != nil || got.MTU != 1500 {
		t.Errorf("eth1 after its deadline: MTU %d, %v; want the previous 1500", got.MTU, err)
	}
}
