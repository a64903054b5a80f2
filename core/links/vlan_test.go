package links

import (
	"context"
	"fmt"
	"net/netip"
	"path/filepath"
	"slices"
	"testing"

	"github.com/edgeward/edgeward/core/store"
)

// vlanKernel is the fake kernel with 802.1Q support.
type vlanKernel struct{ *fakeKernel }

func (k vlanKernel) AddVLAN(_ context.Context, parent string, id int) error {
	k.mu.Lock()
	defer k.mu.Unlock()
	i := slices.IndexFunc(k.links, func(l Link) bool { return l.Name == parent })
	if i < 0 {
		return fmt.Errorf("no link %s", parent)
	}
	p := k.links[i]
	k.links = append(k.links, Link{Index: 100 + id, Name: fmt.Sprintf("%s.%d", parent, id), Kind: "vlan",
		MAC: p.MAC, VLANID: id, ParentIndex: p.Index, MTU: 1500, OperState: OperUp})
	return nil
}

func TestTaggedNetworkCreatesItsVLAN(t *testing.T) {
	ctx := context.Background()
	k := vlanKernel{lab()}
	db, err := store.Open(ctx, store.Options{Dir: filepath.Join(t.TempDir(), "db")}, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	svc, err := New(ctx, db, k, nil, Config{NodeName: "edge-1"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := svc.AddNetwork(ctx, 1, NetworkPatch{Name: ptr("v9"), AssignedBy: ptr(AssignedStatic),
		IPRanges: &[]string{"10.9.0.10"}, Netmask: ptr("10.9.0.0/24"), VLANID: ptr(9), MTU: ptr(1400)}, WriteOpts{}); err != nil {
		t.Fatal(err)
	}
	if err := svc.ApplyAll(ctx); err != nil {
		t.Fatal(err)
	}
	links, _ := k.Links(ctx)
	i := slices.IndexFunc(links, func(l Link) bool { return l.Name == "eth0.9" })
	if i < 0 {
		t.Fatal("no VLAN link eth0.9 created")
	}
	v := links[i]
	if v.MTU != 1400 || len(v.Addrs) != 1 || v.Addrs[0].Prefix != netip.MustParsePrefix("10.9.0.10/24") {
		t.Fatalf("eth0.9 = MTU %d addrs %v", v.MTU, v.Addrs)
	}
	st, err := svc.StatusOf(ctx, 1, 1)
	if err != nil || st.UpdateStatus != "CHANGES_APPLIED" {
		t.Fatalf("status = %+v, %v", st.UpdateStatus, err)
	}
}
