//go:build linux

package dhcp

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"github.com/edgeward/edgeward/core"
	"github.com/edgeward/edgeward/hw/nic"
	"github.com/insomniacslk/dhcp/dhcpv4"
	"github.com/insomniacslk/dhcp/dhcpv4/nclient4"
)

const (
	defaultTimeout = 5 * time.Second
	// tries is how many times one exchange is sent before it fails; the
	// wait for a reply doubles each time (RFC 2131 §4.1).
	tries = 3
	// cleanupTimeout bounds the release and the kernel cleanup after ctx
	// is done.
	cleanupTimeout = 5 * time.Second
)

// Client is the DHCPv4 client of one link. Its methods are safe for
// concurrent use; Run runs at most once at a time.
type Client struct {
	opts Options
	log  *slog.Logger

	// schedule gives the delays after Obtained at which a lease is renewed,
	// rebound and dropped. Tests shorten it to see a renewal without
	// waiting for dnsmasq's two-minute minimum lease.
	schedule func(Lease) (renew, rebind, expire time.Duration)

	running atomic.Bool
	mu      sync.Mutex
	lease   Lease
	bound   bool
}

// New returns a Client for opts.Iface. It only checks opts: the link need
// not exist until Run. Errors match core.ErrInvalid.
func New(opts Options) (*Client, error) {
	v := &core.ValidationError{}
	if opts.Iface == "" || len(opts.Iface) >= 16 {
		v.Add("iface", "must be a link name of 1 to 15 bytes")
	}
	if opts.NetNS < 0 {
		v.Add("netns", "must be an open descriptor or 0")
	}
	if opts.Timeout < 0 {
		v.Add("timeout", "must not be negative")
	}
	if err := v.Err(); err != nil {
		return nil, fmt.Errorf("new dhcp client: %w", err)
	}
	if opts.Timeout == 0 {
		opts.Timeout = defaultTimeout
	}
	log := opts.Log
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Client{
		opts: opts,
		log:  log.With("component", "hw/dhcp", "iface", opts.Iface),
		schedule: func(l Lease) (time.Duration, time.Duration, time.Duration) {
			return l.Renew, l.Rebind, l.Duration
		},
	}, nil
}

// Lease returns the lease the client holds and applied to the kernel, and
// false when it holds none.
func (c *Client) Lease() (Lease, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.lease, c.bound
}

// Run gets a lease, applies it and keeps it until ctx is done: it renews
// with the server at T1 (unicast), rebinds with any server at T2
// (broadcast), and starts over when the lease is refused or expires.
// Getting a lease is retried with backoff for as long as ctx lasts. When
// ctx is done, Run releases the lease, removes the address and route it
// added, and returns nil; it returns an error when it cannot start (the
// link is missing: core.ErrNotFound; no CAP_NET_ADMIN: core.ErrPermission;
// Run already running: core.ErrBusy) or cannot clean up.
func (c *Client) Run(ctx context.Context) error {
	if !c.running.CompareAndSwap(false, true) {
		return core.Busy("dhcp client on %s is already running", c.opts.Iface)
	}
	defer c.running.Store(false)
	k, err := dialKernel(c.opts.NetNS)
	if err != nil {
		return err
	}
	defer k.close()
	if _, _, err := k.link(ctx, c.opts.Iface); err != nil {
		return fmt.Errorf("run dhcp: %w", err)
	}
	s := &session{c: c, k: k}
	for ctx.Err() == nil {
		if !s.acquire(ctx) {
			break
		}
		s.hold(ctx)
	}
	cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), cleanupTimeout)
	defer cancel()
	return s.stop(cctx)
}

func (c *Client) setLease(l Lease, bound bool) {
	c.mu.Lock()
	c.lease, c.bound = l, bound
	c.mu.Unlock()
	if c.opts.OnLease != nil {
		c.opts.OnLease(l)
	}
}

// session is one Run: the lease it holds and what it put in the kernel.
type session struct {
	c *Client
	k *kernel

	index int              // the link's index when the lease was applied
	ack   *dhcpv4.DHCPv4   // the ACK of the lease held; nil when none
	lease Lease            // what ack grants, as applied to the kernel
	uc    *nclient4.Client // unicast client bound to lease.Addr; nil when none
	prev  Lease            // the last lease held, to ask for its address again
}

// acquire gets and applies a lease, retrying with backoff. It returns false
// only when ctx is done.
func (s *session) acquire(ctx context.Context) bool {
	b := backoff{min: time.Second, max: 30 * time.Second}
	for {
		err := s.tryAcquire(ctx)
		if err == nil {
			return true
		}
		if ctx.Err() != nil {
			return false
		}
		wait := b.next()
		s.c.log.Warn("dhcp lease not obtained", "err", err, "retry_in", wait)
		if !sleep(ctx, wait) {
			return false
		}
	}
}

func (s *session) tryAcquire(ctx context.Context) error {
	index, _, err := s.k.link(ctx, s.c.opts.Iface)
	if err != nil {
		return err
	}
	var raw *nclient4.Client
	err = inNetNS(s.c.opts.NetNS, func() error {
		// The raw packet socket sees every IPv4 frame of the link, so it
		// lives only while there is no address to talk from.
		var err error
		raw, err = nclient4.New(s.c.opts.Iface, s.clientOpts()...)
		return err
	})
	if err != nil {
		return fmt.Errorf("open dhcp socket on %s: %w", s.c.opts.Iface, nic.KernelErr(err))
	}
	defer raw.Close()
	mods := []dhcpv4.Modifier{dhcpv4.WithRequestedOptions(requested...)}
	discover := mods
	if s.prev.Addr.IsValid() {
		discover = append(discover, dhcpv4.WithOption(dhcpv4.OptRequestedIPAddress(s.prev.Addr.Addr().AsSlice())))
	}
	offer, err := raw.DiscoverOffer(ctx, discover...)
	if err != nil {
		return fmt.Errorf("discover: %w", err)
	}
	l, err := raw.RequestFromOffer(ctx, offer, mods...)
	if err != nil {
		return fmt.Errorf("request %s: %w", offer.YourIPAddr, err)
	}
	s.index = index
	return s.bind(ctx, l.ACK)
}

func (s *session) clientOpts() []nclient4.ClientOpt {
	return []nclient4.ClientOpt{
		nclient4.WithTimeout(s.c.opts.Timeout),
		nclient4.WithRetry(tries),
		nclient4.WithLogger(wireLog{s.c.log}),
	}
}

// bind applies the lease ack grants (a new one, or an extension of the one
// held) and tells the callback.
func (s *session) bind(ctx context.Context, ack *dhcpv4.DHCPv4) error {
	now := time.Now()
	l, err := leaseFromACK(ack, now)
	if err != nil {
		return err
	}
	if s.ack != nil && (l.Addr != s.lease.Addr || l.Router != s.lease.Router) {
		// The server moved us: take down what the old lease put up.
		if err := s.unapply(ctx, s.lease.Addr != l.Addr); err != nil {
			return err
		}
	}
	if err := s.k.setAddr(ctx, s.index, l, now); err != nil {
		return err
	}
	if l.Router.IsValid() {
		if err := s.k.setRoute(ctx, s.index, l); err != nil {
			return err
		}
	}
	renewed := s.ack != nil
	s.ack, s.lease, s.prev = ack, l, l
	if s.uc == nil {
		if err := s.openUnicast(ctx); err != nil {
			return err
		}
	}
	s.c.log.Info("dhcp lease applied", "addr", l.Addr, "router", l.Router, "server", l.Server,
		"lease_time", l.Duration, "renewal", renewed)
	s.c.setLease(l, true)
	return nil
}

func (s *session) openUnicast(ctx context.Context) error {
	return inNetNS(s.c.opts.NetNS, func() error {
		conn, err := listenUnicast(ctx, s.c.opts.Iface, s.lease.Addr.Addr())
		if err != nil {
			return fmt.Errorf("open dhcp socket on %s: %w", s.lease.Addr.Addr(), nic.KernelErr(err))
		}
		opts := s.clientOpts()
		if s.lease.Server.IsValid() {
			opts = append(opts, nclient4.WithServerAddr(&net.UDPAddr{IP: s.lease.Server.AsSlice(), Port: nclient4.ServerPort}))
		}
		s.uc, err = nclient4.NewWithConn(conn, s.ack.ClientHWAddr, opts...)
		if err != nil {
			conn.Close()
			return fmt.Errorf("open dhcp client on %s: %w", s.lease.Addr.Addr(), err)
		}
		return nil
	})
}

// unapply removes the route and, if addr, the address of the lease held,
// and closes its socket.
func (s *session) unapply(ctx context.Context, addr bool) error {
	var errs []error
	if s.lease.Router.IsValid() {
		errs = append(errs, s.k.delRoute(ctx, s.index, s.lease.Router))
	}
	if addr {
		if s.uc != nil {
			errs = append(errs, s.uc.Close())
			s.uc = nil
		}
		errs = append(errs, s.k.delAddr(ctx, s.index, s.lease.Addr))
	}
	return errors.Join(errs...)
}

// drop forgets the lease held after it was refused or expired.
func (s *session) drop(ctx context.Context, why error) {
	s.c.log.Warn("dhcp lease lost", "addr", s.lease.Addr, "err", why)
	if err := s.unapply(ctx, true); err != nil {
		s.c.log.Error("dhcp lease not removed", "addr", s.lease.Addr, "err", err)
	}
	s.ack, s.lease = nil, Lease{}
	s.c.setLease(Lease{}, false)
}

// stop releases the lease held, if any, and removes it from the kernel.
func (s *session) stop(ctx context.Context) error {
	if s.ack == nil {
		return nil
	}
	var errs []error
	if s.uc != nil && s.lease.Server.IsValid() {
		if err := s.uc.Release(&nclient4.Lease{ACK: s.ack}); err != nil {
			errs = append(errs, fmt.Errorf("release %s: %w", s.lease.Addr, err))
		}
	}
	errs = append(errs, s.unapply(ctx, true))
	err := errors.Join(errs...)
	if err == nil {
		s.c.log.Info("dhcp lease released", "addr", s.lease.Addr)
	}
	s.ack, s.lease = nil, Lease{}
	s.c.setLease(Lease{}, false)
	return err
}
