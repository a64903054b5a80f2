package links

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"github.com/edgeward/edgeward/core/events"
	"net/netip"
	"slices"
	"strings"

	"github.com/edgeward/edgeward/core"
)

// errKernel marks a failure to read the kernel's links.
var errKernel = errors.New("read kernel links")

// keyed maps each managed link of a snapshot to its key: its MAC where it
// has one no other link claimed first, else its name. Bonds claim their
// MAC before their slaves, which share it. Loopback and VLAN links are
// not managed: VLANs are networks of their parent.
func keyed(links []Link) map[string]*Link {
	ls := make([]*Link, 0, len(links))
	for i := range links {
		l := &links[i]
		if l.Name == "lo" || l.Kind == "loopback" || l.Kind == "vlan" {
			continue
		}
		ls = append(ls, l)
	}
	slices.SortFunc(ls, func(a, b *Link) int {
		if (a.Kind == "bond") != (b.Kind == "bond") {
			if a.Kind == "bond" {
				return -1
			}
			return 1
		}
		return cmp.Compare(a.Index, b.Index)
	})
	out := make(map[string]*Link, len(ls))
	for _, l := range ls {
		k := "mac:" + strings.ToLower(l.MAC)
		if l.MAC == "" || strings.Trim(l.MAC, "0:") == "" || out[k] != nil {
			k = "name:" + l.Name
		}
		out[k] = l
	}
	return out
}

// discover reads the kernel's links, gives an id to each one never seen
// before with a config built from what the kernel has, and records name
// changes. It returns the links it read.
func (s *Service) discover(ctx context.Context) ([]Link, error) {
	links, err := s.kernel.Links(ctx)
	if err != nil {
		s.cfg.Log.Warn("read links", "err", err)
		return nil, fmt.Errorf("%w: %w", errKernel, err)
	}
	byKey := keyed(links)
	keys := make([]string, 0, len(byKey))
	for k := range byKey {
		keys = append(keys, k)
	}
	slices.SortFunc(keys, func(a, b string) int { return cmp.Compare(byKey[a].Index, byKey[b].Index) })
	s.wmu.Lock()
	defer s.wmu.Unlock()
	for _, k := range keys {
		l := byKey[k]
		s.mu.RLock()
		id, known := s.keys[k]
		s.mu.RUnlock()
		if !known {
			if err := s.adopt(ctx, k, l); err != nil {
				return nil, err
			}
			continue
		}
		r, _ := s.get(id)
		if r.Iface.Name != l.Name {
			old := r.Iface.Name
			r.Iface.Name = l.Name
			if err := s.commit(ctx, r, nil, false); err != nil {
				return nil, err
			}
			s.publish(events.LinkRenamed, id, fmt.Sprintf("interface %d is now %s (was %s)", id, l.Name, old), nil)
		}
	}
	return links, nil
}

// adopt gives a new link the next id and a config of what it runs now.
func (s *Service) adopt(ctx context.Context, key string, l *Link) error {
	id := s.next
	r := &record{Key: key, NextNet: 1, Gen: 1, Iface: firstIface(id, l)}
	r.Networks = firstNetworks(l)
	r.NextNet = len(r.Networks) + 1
	for i := range r.Networks {
		r.Networks[i].ID = i + 1
	}
	err := s.kv.Update(ctx, func(tx core.Tx) error {
		if err := core.PutJSON(tx, ifKey(id), r); err != nil {
			return err
		}
		return core.PutJSON(tx, nextKey, id+1)
	})
	if err != nil {
		return fmt.Errorf("store new interface %s: %w", l.Name, err)
	}
	s.mu.Lock()
	s.next = id + 1
	s.recs[id], s.keys[key] = r, id
	s.mu.Unlock()
	s.cfg.Log.Info("link adopted", "interface_id", id, "name", l.Name, "key", key)
	s.publish(events.LinkDiscovered, id, fmt.Sprintf("interface %d is %s", id, l.Name), map[string]string{"key": key})
	return nil
}

func firstIface(id int, l *Link) Interface {
	bond := l.BondMode
	if bond != BondLACP {
		bond = BondActiveBackup
	}
	in := Interface{ID: id, Name: l.Name, BondingMode: bond, MTU: l.MTU}
	// A default route is adopted only on a link with static addresses: on
	// a DHCP link it is the lease's, and pinning it as static config would
	// outlive the lease.
	for _, a := range l.Addrs {
		if a.AssignedBy == AssignedStatic {
			in.DefaultGateway, in.DefaultGatewayV6 = l.GatewayV4, l.GatewayV6
			break
		}
	}
	return in
}

// firstNetworks turns the link's addresses into networks: its static
// addresses grouped by subnet (the first group is network 1, "Default"),
// else one DHCP or link-local network. A link without addresses gets an
// unmanaged DHCP network, so that adopting it changes nothing.
func firstNetworks(l *Link) []Network {
	var groups []netip.Prefix
	members := map[netip.Prefix][]string{}
	dhcp, ll := false, false
	for _, a := range l.Addrs {
		switch {
		case a.AssignedBy == AssignedDHCP:
			dhcp = true
		case a.AssignedBy == AssignedLinkLocal || a.Prefix.Addr().IsLinkLocalUnicast():
			ll = true
		default:
			net := a.Prefix.Masked()
			if _, ok := members[net]; !ok {
				groups = append(groups, net)
			}
			members[net] = append(members[net], a.Prefix.Addr().String())
		}
	}
	var out []Network
	for i, g := range groups {
		name := "Default"
		if i > 0 {
			name = fmt.Sprintf("Network %d", i+1)
		}
		out = append(out, Network{Name: name, AssignedBy: AssignedStatic, IPRanges: members[g],
			Netmask: dotted(g), MTU: l.MTU, Adopted: true})
	}
	if len(out) > 0 {
		return out
	}
	by := AssignedDHCP
	if ll && !dhcp {
		by = AssignedLinkLocal
	}
	return []Network{{Name: "Default", AssignedBy: by, MTU: l.MTU, Adopted: true}}
}
