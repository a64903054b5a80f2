//go:build linux

package nic

import (
	"errors"
	"testing"

	"github.com/edgeward/edgeward/core"
)

// TestAddVLAN creates a VLAN link through rtnetlink where the kernel has
// 802.1Q support, and otherwise checks the refusal says so.
func TestAddVLAN(t *testing.T) {
	ns := newLab(t)
	n := ns.nic(t)
	err := n.AddVLAN(ctxT(t), "ewc", 10)
	if errors.Is(err, core.ErrUnsupported) {
		t.Skipf("kernel lacks VLAN (8021q) support: %v", err)
	}
	if err != nil {
		t.Fatalf("AddVLAN: %v", err)
	}
	ls, err := n.Links(ctxT(t))
	if err != nil {
		t.Fatal(err)
	}
	parent, vlan := ptrTo(ls, "ewc"), ptrTo(ls, "ewc.10")
	if parent == nil || vlan == nil || vlan.Kind != "vlan" || vlan.VLANID != 10 || vlan.ParentIndex != parent.Index {
		t.Fatalf("after AddVLAN: parent %+v vlan %+v", parent, vlan)
	}
	if err := n.AddVLAN(ctxT(t), "ewc", 10); err != nil {
		t.Fatalf("second AddVLAN: %v", err)
	}
	if err := n.AddVLAN(ctxT(t), "nope", 10); !errors.Is(err, core.ErrNotFound) {
		t.Fatalf("AddVLAN on a missing parent: %v", err)
	}
	if err := n.AddVLAN(ctxT(t), "ewc", 4095); !errors.Is(err, core.ErrInvalid) {
		t.Fatalf("AddVLAN 4095: %v", err)
	}
}
