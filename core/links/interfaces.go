package links

import (
	"context"
	"fmt"

	"github.com/edgeward/edgeward/core"
)

// Interfaces returns every managed interface's config, by id.
func (s *Service) Interfaces(ctx context.Context) []Interface {
	var out []Interface
	for _, id := range s.ids() {
		if r, err := s.get(id); err == nil {
			out = append(out, r.Iface)
		}
	}
	return out
}

// Interface returns one interface's config. Errors: ErrNotFound.
func (s *Service) Interface(id int) (Interface, error) {
	r, err := s.get(id)
	if err != nil {
		return Interface{}, err
	}
	return r.Iface, nil
}

// SetInterface changes an interface's config (PATCH, or PUT with
// opts.Replace). An MTU change carries over to its untagged networks.
// Errors: ErrNotFound, *core.ValidationError, ErrStale.
func (s *Service) SetInterface(ctx context.Context, id int, p InterfacePatch, opts WriteOpts) error {
	return s.write(ctx, id, opts, "interface config changed", func(r *record, l *Link, v *core.ValidationError) {
		if opts.Replace {
			for _, f := range []struct {
				name    string
				missing bool
			}{{"bonding_mode", p.BondingMode == nil}, {"default_gateway", p.DefaultGateway == nil},
				{"default_gateway_ipv6", p.DefaultGatewayV6 == nil}, {"mtu", p.MTU == nil}} {
				if f.missing {
					v.Add(f.name, "is required when replacing the interface config")
				}
			}
		}
		if p.ID != nil && *p.ID != id {
			v.Add("id", "is %d and cannot be changed", id)
		}
		// The original's clients send name "" for "as it is".
		if p.Name != nil && *p.Name != "" && *p.Name != r.Iface.Name {
			v.Add("name", "is the kernel's name %q and cannot be changed", r.Iface.Name)
		}
		if p.DefaultGateway != nil {
			r.Iface.DefaultGateway = parseGateway(v, "default_gateway", *p.DefaultGateway, false)
		}
		if p.DefaultGatewayV6 != nil {
			r.Iface.DefaultGatewayV6 = parseGateway(v, "default_gateway_ipv6", *p.DefaultGatewayV6, true)
		}
		if p.BondingMode != nil {
			checkEnum(v, "bonding_mode", *p.BondingMode, BondActiveBackup, BondLACP, BondUnspecified)
			r.Iface.BondingMode = *p.BondingMode
		}
		if p.MTU != nil {
			r.Iface.MTU = *p.MTU
			for i := range r.Networks {
				if r.Networks[i].VLANID == 0 {
					r.Networks[i].MTU = *p.MTU
				}
			}
		}
	})
}

// Networks returns an interface's networks, by id. Errors: ErrNotFound.
func (s *Service) Networks(id int) ([]Network, error) {
	r, err := s.get(id)
	if err != nil {
		return nil, err
	}
	return r.Networks, nil
}

// Network returns one network. Errors: ErrNotFound.
func (s *Service) Network(id, nid int) (Network, error) {
	r, err := s.get(id)
	if err != nil {
		return Network{}, err
	}
	i := r.network(nid)
	if i < 0 {
		return Network{}, core.NotFound("network %d not found on interface %d", nid, id)
	}
	return r.Networks[i], nil
}

func (r *record) network(nid int) int {
	for i, n := range r.Networks {
		if n.ID == nid {
			return i
		}
	}
	return -1
}

// AddNetwork adds a network and returns its id: p.ID when set and not 0
// (a client may choose a free id, as the original allows), else the next
// one. An untagged network takes the interface's MTU; a tagged one without
// an MTU too. Errors: ErrNotFound, *core.ValidationError, ErrStale,
// ErrConflict for an id in use.
func (s *Service) AddNetwork(ctx context.Context, id int, p NetworkPatch, opts WriteOpts) (int, error) {
	var nid int
	taken := false
	err := s.write(ctx, id, opts, "network added", func(r *record, l *Link, v *core.ValidationError) {
		nid = r.NextNet
		if p.ID != nil && *p.ID != 0 {
			nid = *p.ID
			if nid < 0 {
				v.Add("id", "%d is not a network id: ids are positive", nid)
				return
			}
			if taken = r.network(nid) >= 0; taken {
				v.Add("id", "network %d exists on interface %d", nid, id) // answered as a conflict below
				return
			}
		}
		n := Network{ID: nid}
		opts.Replace = true
		patchNetwork(v, r, &n, p, opts, true)
		r.NextNet = max(r.NextNet, nid+1)
		r.Networks = append(r.Networks, n)
	})
	if taken {
		return 0, core.Conflict("network %d exists on interface %d; choose a free id or leave id out", nid, id)
	}
	if err != nil {
		return 0, err
	}
	return nid, nil
}

// SetNetwork changes a network (PATCH, or PUT with opts.Replace). The MTU
// of an untagged network follows the interface and cannot be set here.
// Errors: ErrNotFound, *core.ValidationError, ErrStale.
func (s *Service) SetNetwork(ctx context.Context, id, nid int, p NetworkPatch, opts WriteOpts) error {
	if _, err := s.Network(id, nid); err != nil {
		return err
	}
	return s.write(ctx, id, opts, fmt.Sprintf("network %d changed", nid), func(r *record, l *Link, v *core.ValidationError) {
		i := r.network(nid)
		if i < 0 {
			v.Add("network_id", "network %d not found", nid) // replaced by a 404 below
			return
		}
		patchNetwork(v, r, &r.Networks[i], p, opts, false)
	})
}

// DeleteNetwork removes a network; the interface keeps at least one.
// Errors: ErrNotFound, *core.ValidationError, ErrStale.
func (s *Service) DeleteNetwork(ctx context.Context, id, nid int, opts WriteOpts) error {
	if _, err := s.Network(id, nid); err != nil {
		return err
	}
	return s.write(ctx, id, opts, fmt.Sprintf("network %d deleted", nid), func(r *record, l *Link, v *core.ValidationError) {
		if i := r.network(nid); i >= 0 {
			r.Networks = append(r.Networks[:i], r.Networks[i+1:]...)
		}
		if len(r.Networks) == 0 {
			v.Add("network_id", "network %d is the interface's last network; an interface keeps at least one", nid)
		}
	})
}

// patchNetwork applies p to n and checks n. On a replace, fields left out
// take their zero value.
func patchNetwork(v *core.ValidationError, r *record, n *Network, p NetworkPatch, opts WriteOpts, create bool) {
	n.Adopted = false // written by the admin: edgeward runs it now
	old := *n
	if opts.Replace {
		*n = Network{ID: n.ID}
		if p.Name == nil {
			v.Add("name", "is required")
		}
		if p.AssignedBy == nil {
			v.Add("assigned_by", "is required")
		}
	}
	if p.ID != nil && *p.ID != n.ID && !(create && *p.ID == 0) {
		v.Add("id", "is %d and cannot be changed", n.ID)
	}
	set(&n.Name, p.Name)
	set(&n.AssignedBy, p.AssignedBy)
	set(&n.IPRanges, p.IPRanges)
	set(&n.FloatingIPRanges, p.FloatingIPRanges)
	set(&n.Netmask, p.Netmask)
	set(&n.DNSServers, p.DNSServers)
	set(&n.DNSSearchDomains, p.DNSSearchDomains)
	set(&n.VLANID, p.VLANID)
	if p.MTU != nil {
		n.MTU = *p.MTU
	} else if opts.Replace || n.VLANID != old.VLANID {
		n.MTU = 0
	}
	if n.VLANID == 0 {
		if n.MTU != 0 && n.MTU != r.Iface.MTU {
			v.Add("mtu", "the untagged network's MTU follows the interface MTU (%d); modify the interface config instead", r.Iface.MTU)
		}
		n.MTU = r.Iface.MTU
	} else if n.MTU == 0 {
		n.MTU = r.Iface.MTU
	}
	checkNetwork(v, *n)
}

func set[T any](dst *T, src *T) {
	if src != nil {
		*dst = *src
	}
}
