package links

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/edgeward/edgeward/core"
	"github.com/google/go-cmp/cmp"
)

// TestConfirmState follows one change with a deadline through pending,
// expired and rolled back, and a second one through confirmed.
func TestConfirmState(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, lab())
	if err := f.svc.ApplyAll(ctx); err != nil {
		t.Fatal(err)
	}
	if got := f.svc.ConfirmState(1, f.clock.Now()); got != (Confirmation{}) {
		t.Fatalf("before any change: %+v", got)
	}
	if err := f.svc.SetInterface(ctx, 1, InterfacePatch{MTU: ptr(1400)}, WriteOpts{ConfirmWithin: time.Minute}); err != nil {
		t.Fatal(err)
	}
	deadline := f.clock.Now().Add(time.Minute)
	steps := []struct {
		name string
		act  func()
		want Confirmation
	}{
		{"pending", func() {}, Confirmation{State: ConfirmPending, Deadline: deadline}},
		{"expired, not swept", func() { f.clock.Add(61 * time.Second) }, Confirmation{State: ConfirmExpired, Deadline: deadline}},
		{"rolled back", func() { f.svc.sweep(ctx) }, Confirmation{State: ConfirmRolledBack, At: f.clock.Now().Add(61 * time.Second)}},
		{"confirmed", func() {
			if err := f.svc.SetInterface(ctx, 1, InterfacePatch{MTU: ptr(1400)}, WriteOpts{ConfirmWithin: time.Minute}); err != nil {
				t.Fatal(err)
			}
			f.clock.Add(time.Second)
			if err := f.svc.Confirm(ctx, 1); err != nil {
				t.Fatal(err)
			}
		}, Confirmation{State: ConfirmConfirmed, At: f.clock.Now().Add(62 * time.Second)}},
	}
	for _, st := range steps {
		st.act()
		if diff := cmp.Diff(st.want, f.svc.ConfirmState(1, f.clock.Now())); diff != "" {
			t.Errorf("%s (-want +got):\n%s", st.name, diff)
		}
	}
	if got := f.svc.ConfirmState(42, f.clock.Now()); got != (Confirmation{}) {
		t.Errorf("unknown interface: %+v", got)
	}
}

// TestReadOnly: without link management the configs and status are
// served, every write and Confirm is refused with ErrReadOnly, and
// nothing reaches the kernel, not even at Run's start.
func TestReadOnly(t *testing.T) {
	ctx := context.Background()
	k := lab()
	svc, err := New(ctx, newFixture(t, lab()).db, k, nil, Config{NodeName: "edge-1", ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	if err := svc.ApplyAll(ctx); err != nil {
		t.Fatal(err)
	}
	writes := map[string]error{
		"set interface":  svc.SetInterface(ctx, 1, InterfacePatch{MTU: ptr(1400)}, WriteOpts{}),
		"set network":    svc.SetNetwork(ctx, 1, 1, NetworkPatch{DNSServers: &[]string{"9.9.9.9"}}, WriteOpts{}),
		"delete network": svc.DeleteNetwork(ctx, 1, 1, WriteOpts{}),
		"confirm":        svc.Confirm(ctx, 1),
	}
	_, writes["add network"] = svc.AddNetwork(ctx, 1, NetworkPatch{Name: ptr("x"), AssignedBy: ptr(AssignedDHCP)}, WriteOpts{})
	for name, err := range writes {
		if !errors.Is(err, ErrReadOnly) || !errors.Is(err, core.ErrPermission) {
			t.Errorf("%s: %v, want ErrReadOnly", name, err)
		}
	}
	if len(k.configure) != 0 {
		t.Errorf("a read-only service configured %v", k.configure)
	}
	st, err := svc.StatusOf(ctx, 1, 1)
	if err != nil {
		t.Fatal(err)
	}
	if st.UpdateStatus != ChangesApplied || st.Details.State != StateUp || st.Interface.MTU != 1500 {
		t.Errorf("read-only status: %s %s MTU %d, want CHANGES_APPLIED UP 1500", st.UpdateStatus, st.Details.State, st.Interface.MTU)
	}
}

// TestOriginalClientValues: what the original's clients send is taken:
// bonding_mode UNSPECIFIED (no bonding), an empty name (unchanged) and a
// network id of the client's choosing, refused with ErrConflict when taken.
func TestOriginalClientValues(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, lab())
	if err := f.svc.ApplyAll(ctx); err != nil {
		t.Fatal(err)
	}
	err := f.svc.SetInterface(ctx, 1, InterfacePatch{Name: ptr(""), BondingMode: ptr(BondUnspecified), MTU: ptr(1500),
		DefaultGateway: ptr("192.168.1.254"), DefaultGatewayV6: ptr("")}, WriteOpts{Replace: true})
	if err != nil {
		t.Fatalf("PUT with name \"\" and UNSPECIFIED: %v", err)
	}
	if i, _ := f.svc.Interface(1); i.BondingMode != BondUnspecified || i.Name != "eth0" {
		t.Errorf("stored %q %q, want UNSPECIFIED eth0", i.BondingMode, i.Name)
	}
	vlan := NetworkPatch{ID: ptr(7), Name: ptr("v7"), AssignedBy: ptr(AssignedStatic), IPRanges: &[]string{"10.7.0.1"},
		Netmask: ptr("255.255.255.0"), VLANID: ptr(7)}
	nid, err := f.svc.AddNetwork(ctx, 1, vlan, WriteOpts{})
	if err != nil || nid != 7 {
		t.Fatalf("add network with id 7: %d, %v", nid, err)
	}
	if _, err := f.svc.Network(1, 7); err != nil {
		t.Errorf("network 7: %v", err)
	}
	vlan.VLANID, vlan.IPRanges = ptr(8), &[]string{"10.8.0.1"}
	if _, err := f.svc.AddNetwork(ctx, 1, vlan, WriteOpts{}); !errors.Is(err, core.ErrConflict) {
		t.Errorf("id 7 again: %v, want ErrConflict", err)
	}
	vlan.ID = nil
	if nid, err := f.svc.AddNetwork(ctx, 1, vlan, WriteOpts{}); err != nil || nid != 8 {
		t.Errorf("next id after a chosen 7: %d, %v; want 8", nid, err)
	}
}
