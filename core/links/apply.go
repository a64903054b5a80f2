package links

import (
	"context"
	"errors"
	"fmt"
	"github.com/edgeward/edgeward/core/events"
	"net/netip"
	"slices"
	"time"
)

// target is one kernel link a record drives: the interface's own link for
// its untagged networks, or an existing VLAN link for a tagged network.
type target struct {
	link string
	d    Desired
}

// targets turns a record into what Configure gets. The port cannot create
// VLAN links: a tagged network is applied to the VLAN link of that id on
// the parent when one exists, and reported missing otherwise.
func targets(r *record, parent *Link, all []Link) (ts []target, missing []int) {
	own := Desired{MTU: r.Iface.MTU, GatewayV4: r.Iface.DefaultGateway, GatewayV6: r.Iface.DefaultGatewayV6}
	vlans := map[int]*target{}
	var vlanOrder []int
	for _, n := range r.Networks {
		if n.VLANID == 0 {
			switch n.AssignedBy {
			case AssignedStatic:
				own.Manage = true
				own.Addrs = append(own.Addrs, n.prefixes()...)
			case AssignedDHCP:
				if n.Adopted {
					continue
				}
				// Managed with no static addresses: a switch from STATIC
				// to DHCP drops the old static address and route; the
				// lease's own address and route are the client's.
				own.Manage = true
			}
			continue
		}
		v := vlanLink(all, parent.Index, n.VLANID)
		if v == nil {
			missing = append(missing, n.ID)
			continue
		}
		t, ok := vlans[n.VLANID]
		if !ok {
			t = &target{link: v.Name, d: Desired{MTU: n.MTU, Manage: true}}
			vlans[n.VLANID] = t
			vlanOrder = append(vlanOrder, n.VLANID)
		}
		t.d.MTU = max(t.d.MTU, n.MTU)
		t.d.Addrs = append(t.d.Addrs, n.prefixes()...)
	}
	// A link whose config the admin wrote is brought up: a configured
	// network on an admin-down link would only look broken. Adopted links
	// keep the state they were found in.
	for _, n := range r.Networks {
		if !n.Adopted {
			up := true
			own.Up = &up
			break
		}
	}
	ts = append(ts, target{link: parent.Name, d: own})
	for _, vid := range vlanOrder {
		ts = append(ts, *vlans[vid])
	}
	return ts, missing
}

func vlanLink(all []Link, parent, vid int) *Link {
	for i := range all {
		if all[i].Kind == "vlan" && all[i].ParentIndex == parent && all[i].VLANID == vid {
			return &all[i]
		}
	}
	return nil
}

// matches reports whether the kernel runs d on link l: its MTU and, when
// d manages addresses, exactly d's static addresses.
func matches(l *Link, d Desired) bool {
	if d.MTU != 0 && l.MTU != d.MTU {
		return false
	}
	if !d.Manage {
		return true
	}
	var have []netip.Prefix
	for _, a := range l.Addrs {
		if a.AssignedBy == AssignedStatic && !a.Prefix.Addr().IsLinkLocalUnicast() {
			have = append(have, a.Prefix)
		}
	}
	want := slices.Clone(d.Addrs)
	sortPrefixes(have)
	sortPrefixes(want)
	return slices.Equal(have, slices.Compact(want))
}

func sortPrefixes(ps []netip.Prefix) {
	slices.SortFunc(ps, func(a, b netip.Prefix) int {
		if c := a.Addr().Compare(b.Addr()); c != 0 {
			return c
		}
		return a.Bits() - b.Bits()
	})
}

// apply pushes r to the kernel and records the generation it took. A
// failure is logged and published and leaves the interface pending; the
// periodic check tries again. Callers hold wmu.
func (s *Service) apply(ctx context.Context, r *record, all []Link) error {
	id := r.Iface.ID
	parent := keyed(all)[r.Key]
	if parent == nil {
		s.setApplied(id, 0)
		return fmt.Errorf("apply interface %d: link is gone", id)
	}
	ts, missing := targets(r, parent, all)
	if len(missing) > 0 {
		if again, ok := s.addVLANs(ctx, r, parent, missing); ok {
			all = again
			parent = keyed(all)[r.Key]
			ts, missing = targets(r, parent, all)
		}
	}
	var errs []error
	for _, t := range ts {
		if err := s.kernel.Configure(ctx, t.link, t.d); err != nil {
			errs = append(errs, fmt.Errorf("configure %s: %w", t.link, err))
		}
	}
	if len(missing) > 0 {
		errs = append(errs, fmt.Errorf("networks %v: no VLAN link on %s", missing, parent.Name))
	}
	if err := errors.Join(errs...); err != nil {
		s.cfg.Log.Warn("link apply failed", "interface_id", id, "generation", r.Gen, "err", err)
		s.publish(events.LinkApplyFailed, id, fmt.Sprintf("interface %d: config %d not applied", id, r.Gen), nil)
		return err
	}
	s.setApplied(id, r.Gen)
	s.cfg.Log.Info("link config applied", "interface_id", id, "name", parent.Name, "generation", r.Gen)
	return nil
}

func (s *Service) setApplied(id int, gen uint64) {
	s.mu.Lock()
	s.applied[id] = gen
	s.mu.Unlock()
}

func (s *Service) appliedGen(id int) uint64 {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.applied[id]
}

// ApplyAll reads the links once, adopts new ones and pushes every stored
// config whose generation the kernel has not taken yet (all of them after
// a start), then rewrites the resolver file. It returns the apply errors,
// joined; each is also logged and published.
func (s *Service) ApplyAll(ctx context.Context) error {
	links, err := s.discover(ctx)
	if err != nil || s.cfg.ReadOnly {
		return err
	}
	present := keyed(links)
	s.wmu.Lock()
	defer s.wmu.Unlock()
	var errs []error
	for _, id := range s.ids() {
		r, _ := s.get(id)
		if present[r.Key] == nil {
			if s.appliedGen(id) != 0 {
				s.publish(events.LinkGone, id, fmt.Sprintf("interface %d (%s) is gone", id, r.Iface.Name), nil)
			}
			s.setApplied(id, 0) // re-apply when it comes back
			continue
		}
		if s.appliedGen(id) == r.Gen {
			continue
		}
		errs = append(errs, s.apply(ctx, r, links))
	}
	errs = append(errs, s.writeResolv())
	return errors.Join(errs...)
}

// Run applies the stored configs, then until ctx is done re-checks the
// links every CheckEvery and restores unconfirmed changes whose deadline
// passed (checked every second). It returns ctx's error. A read-only
// service only adopts new links every CheckEvery.
func (s *Service) Run(ctx context.Context) error {
	if s.cfg.ReadOnly {
		return s.watch(ctx)
	}
	if err := s.ApplyAll(ctx); err != nil {
		s.cfg.Log.Warn("apply link configs at start", "err", err)
	}
	defer s.stopDHCP()
	s.syncDHCP(ctx)
	s.sweep(ctx)
	t := time.NewTicker(min(time.Second, s.cfg.CheckEvery))
	defer t.Stop()
	last := s.cfg.Now()
	for {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-t.C:
		}
		s.sweep(ctx)
		if now := s.cfg.Now(); now.Sub(last) >= s.cfg.CheckEvery {
			last = now
			if err := s.ApplyAll(ctx); err != nil && !errors.Is(err, context.Canceled) {
				s.cfg.Log.Debug("re-check links", "err", err)
			}
			s.syncDHCP(ctx)
		}
	}
}

// addVLANs creates the VLAN links the missing networks ride on, when the
// kernel can, and returns the links read again.
func (s *Service) addVLANs(ctx context.Context, r *record, parent *Link, missing []int) ([]Link, bool) {
	vm, ok := s.kernel.(VLANMaker)
	if !ok {
		return nil, false
	}
	for _, n := range r.Networks {
		if !slices.Contains(missing, n.ID) {
			continue
		}
		if err := vm.AddVLAN(ctx, parent.Name, n.VLANID); err != nil {
			// Retried at every check; said once, not every five seconds.
			key := fmt.Sprintf("%s.%d", parent.Name, n.VLANID)
			if _, said := s.vlanFailed.LoadOrStore(key, true); !said {
				s.cfg.Log.Warn("add vlan link", "parent", parent.Name, "vlan_id", n.VLANID, "err", err)
				s.publish(events.VLANUnavailable, r.Iface.ID, fmt.Sprintf("VLAN %d on %s cannot be created: %v", n.VLANID, parent.Name, err), nil)
			}
			return nil, false
		}
	}
	all, err := s.kernel.Links(ctx)
	if err != nil || keyed(all)[r.Key] == nil {
		return nil, false
	}
	return all, true
}

// watch adopts new links every CheckEvery until ctx is done, so that a
// read-only service lists links plugged in after the start.
func (s *Service) watch(ctx context.Context) error {
	t := time.NewTicker(s.cfg.CheckEvery)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-t.C:
		}
		if _, err := s.discover(ctx); err != nil && !errors.Is(err, context.Canceled) {
			s.cfg.Log.Debug("re-check links", "err", err)
		}
	}
}
