package links

import (
	"context"
	"net/netip"
	"slices"
	"sync"
)

// Leaser is the DHCP port: it runs a DHCP client on one link until ctx is
// done, applying each lease to the kernel (address with the lease's
// lifetime, default route) and telling onLease; it releases the lease when
// ctx ends. onLease gets the zero Lease when a lease is lost. hw/dhcp
// implements it.
type Leaser interface {
	Lease(ctx context.Context, link string, onLease func(Lease)) error
}

// Lease is what a DHCP server handed out.
type Lease struct {
	Addr   netip.Prefix
	Router netip.Addr
	DNS    []netip.Addr
	Search []string
}

// dhcpRuns tracks the DHCP clients the service runs, by link name.
type dhcpRuns struct {
	mu     sync.Mutex
	cancel map[string]context.CancelFunc
	leases map[string]Lease
	wg     sync.WaitGroup
}

// wantDHCP returns the links whose untagged network is assigned by DHCP.
func (s *Service) wantDHCP() []string {
	var out []string
	for _, id := range s.ids() {
		r, err := s.get(id)
		if err != nil {
			continue
		}
		for _, n := range r.Networks {
			if n.VLANID == 0 && n.AssignedBy == AssignedDHCP && !n.Adopted {
				out = append(out, r.Iface.Name)
				break
			}
		}
	}
	return out
}

// syncDHCP starts a client for each link that wants one and stops the
// clients of links that no longer do (their lease is released).
func (s *Service) syncDHCP(ctx context.Context) {
	if s.cfg.DHCP == nil {
		return
	}
	want := s.wantDHCP()
	d := &s.dhcp
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.cancel == nil {
		d.cancel, d.leases = map[string]context.CancelFunc{}, map[string]Lease{}
	}
	for name, stop := range d.cancel {
		if !slices.Contains(want, name) {
			stop()
			delete(d.cancel, name)
		}
	}
	for _, name := range want {
		if _, running := d.cancel[name]; running {
			continue
		}
		cctx, stop := context.WithCancel(ctx)
		d.cancel[name] = stop
		d.wg.Add(1)
		go func() {
			defer d.wg.Done()
			err := s.cfg.DHCP.Lease(cctx, name, func(l Lease) { s.leased(name, l) })
			if err != nil && cctx.Err() == nil {
				s.cfg.Log.Warn("dhcp client stopped", "link", name, "err", err)
				d.mu.Lock()
				delete(d.cancel, name) // the next sync starts it again
				d.mu.Unlock()
			}
		}()
	}
}

// leased records a lease and rewrites the resolver file with its DNS.
func (s *Service) leased(link string, l Lease) {
	s.dhcp.mu.Lock()
	if l.Addr.IsValid() {
		s.dhcp.leases[link] = l
	} else {
		delete(s.dhcp.leases, link)
	}
	s.dhcp.mu.Unlock()
	msg := "lease lost"
	if l.Addr.IsValid() {
		msg = "leased " + l.Addr.String()
	}
	s.cfg.Log.Info("dhcp", "link", link, "lease", msg)
	if err := s.writeResolv(); err != nil {
		s.cfg.Log.Warn("write resolver file", "err", err)
	}
}

// leaseDNS returns the DNS servers and search domains of the live leases.
func (s *Service) leaseDNS() (servers, search []string) {
	s.dhcp.mu.Lock()
	defer s.dhcp.mu.Unlock()
	names := make([]string, 0, len(s.dhcp.leases))
	for n := range s.dhcp.leases {
		names = append(names, n)
	}
	slices.Sort(names)
	for _, n := range names {
		for _, a := range s.dhcp.leases[n].DNS {
			servers = append(servers, a.String())
		}
		search = append(search, s.dhcp.leases[n].Search...)
	}
	return servers, search
}

// stopDHCP stops every client and waits for their releases.
func (s *Service) stopDHCP() {
	s.dhcp.mu.Lock()
	for _, stop := range s.dhcp.cancel {
		stop()
	}
	s.dhcp.mu.Unlock()
	s.dhcp.wg.Wait()
}
