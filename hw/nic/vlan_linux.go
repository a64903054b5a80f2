package nic

import (
	"context"
	"fmt"

	"github.com/edgeward/edgeward/core"
	"github.com/jsimonetti/rtnetlink/v2"
	"github.com/mdlayher/netlink"
	"golang.org/x/sys/unix"
)

// AddVLAN creates the VLAN link id on parent, named "<parent>.<id>" (or
// "vlan<id>" when that would pass the kernel's 15 characters). It is a
// no-op when the link exists. Kernels without 802.1Q support refuse it
// with an error matching core.ErrUnsupported.
func (n *NIC) AddVLAN(ctx context.Context, parent string, id int) error {
	if id < 1 || id > 4094 {
		return fmt.Errorf("vlan id %d out of 1-4094: %w", id, core.ErrInvalid)
	}
	all, err := n.Links(ctx)
	if err != nil {
		return err
	}
	var pidx int
	for _, l := range all {
		if l.Name == parent {
			pidx = l.Index
		}
	}
	if pidx == 0 {
		return KernelErr(fmt.Errorf("vlan parent %s: %w", parent, unix.ENODEV))
	}
	for _, l := range all {
		if l.Kind == "vlan" && l.ParentIndex == pidx && l.VLANID == id {
			return nil
		}
	}
	name := fmt.Sprintf("%s.%d", parent, id)
	if len(name) > unix.IFNAMSIZ-1 {
		name = fmt.Sprintf("vlan%d", id)
	}
	ae := netlink.NewAttributeEncoder()
	ae.Uint16(unix.IFLA_VLAN_ID, uint16(id))
	data, err := ae.Encode()
	if err != nil {
		return fmt.Errorf("encode vlan id: %w", err)
	}
	err = n.call(ctx, func(c *rtnetlink.Conn) error {
		return c.Link.New(&rtnetlink.LinkMessage{
			Family: unix.AF_UNSPEC,
			Attributes: &rtnetlink.LinkAttributes{
				Name: name, Type: uint32(pidx),
				Info: &rtnetlink.LinkInfo{Kind: "vlan", Data: &rtnetlink.LinkData{Name: "vlan", Data: data}},
			},
		})
	})
	if err != nil {
		return fmt.Errorf("add vlan %s: %w", name, KernelErr(err))
	}
	return nil
}
