package dns

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"sync"
	"syscall"
	"time"

	miekg "github.com/miekg/dns"

	"github.com/edgeward/edgeward/core"
	"github.com/edgeward/edgeward/hw/netns"
)

// Server is a running DNS server. Its methods are safe for concurrent use.
type Server struct {
	addr      netip.AddrPort // as bound: the port is never 0
	netns     int
	allowed   netip.Prefix
	zone      *zone
	upstreams func() []string
	timeout   time.Duration
	log       *slog.Logger

	// inflight bounds the forwarded queries waiting for upstreams, so that
	// a flood during an upstream outage costs a fixed number of sockets.
	inflight chan struct{}
	closing  chan struct{}

	udp, tcp  *miekg.Server
	closeOnce sync.Once
	closeErr  error
}

// maxInflight is how many forwarded queries may wait for upstreams at
// once; more are answered SERVFAIL at once.
const maxInflight = 512

// ednsSize is the UDP payload size the server advertises in its own
// answers (the DNS flag day 2020 value: no fragmentation on any path).
const ednsSize = 1232

// Serve starts a server as opts describes, listening on UDP and TCP, and
// returns once both listeners are serving. Invalid options are a
// *core.ValidationError (core.ErrInvalid); a port already taken matches
// core.ErrConflict, a refused namespace switch or privileged port
// core.ErrPermission.
func Serve(opts Options) (*Server, error) {
	origin, err := opts.check()
	if err != nil {
		return nil, err
	}
	ttl, timeout := opts.TTL, opts.Timeout
	if ttl == 0 {
		ttl = defaultTTL
	}
	if timeout == 0 {
		timeout = defaultTimeout
	}
	log := opts.Log
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	s := &Server{
		netns:     opts.NetNS,
		allowed:   opts.Allowed.Masked(),
		zone:      newZone(origin, opts.Names, uint32(ttl/time.Second)),
		upstreams: opts.Upstreams,
		timeout:   timeout,
		log:       log.With("component", "hw/dns"),
		inflight:  make(chan struct{}, maxInflight),
		closing:   make(chan struct{}),
	}
	ip := opts.Addr.Addr().Unmap()
	pc, ln, err := listen(opts.NetNS, netip.AddrPortFrom(ip, opts.Addr.Port()))
	if err != nil {
		return nil, err
	}
	s.addr = netip.AddrPortFrom(ip, uint16(pc.LocalAddr().(*net.UDPAddr).Port))
	handler := miekg.HandlerFunc(s.serveDNS)
	s.udp = &miekg.Server{PacketConn: pc, Handler: handler}
	s.tcp = &miekg.Server{Listener: ln, Handler: handler}
	if err := s.start(s.udp); err != nil {
		_ = pc.Close()
		_ = ln.Close()
		return nil, fmt.Errorf("serve dns on udp %s: %w", s.addr, err)
	}
	if err := s.start(s.tcp); err != nil {
		_ = s.udp.Shutdown()
		_ = ln.Close()
		return nil, fmt.Errorf("serve dns on tcp %s: %w", s.addr, err)
	}
	s.log.Info("dns server listening", "addr", s.addr.String(), "domain", origin)
	return s, nil
}

// start runs srv on its own goroutine and waits until it serves, so that
// Close can always shut it down.
func (s *Server) start(srv *miekg.Server) error {
	started := make(chan struct{})
	srv.NotifyStartedFunc = func() { close(started) }
	errc := make(chan error, 1)
	go func() { errc <- srv.ActivateAndServe() }()
	select {
	case <-started:
		go func() {
			if err := <-errc; err != nil {
				s.log.Error("dns server stopped serving", "err", err)
			}
		}()
		return nil
	case err := <-errc:
		return err
	}
}

// Addr returns the address the server listens on, with the port it got
// when Options.Addr asked for port 0.
func (s *Server) Addr() netip.AddrPort { return s.addr }

// Close stops both listeners and waits for the queries being answered,
// which forwarding cuts short: no further upstream is tried. It is
// idempotent; later calls return the first call's result.
func (s *Server) Close() error {
	s.closeOnce.Do(func() {
		close(s.closing)
		// A forwarded query may wait for a UDP and a TCP exchange.
		ctx, cancel := context.WithTimeout(context.Background(), 2*s.timeout+time.Second)
		defer cancel()
		errc := make(chan error, 1)
		go func() { errc <- s.tcp.ShutdownContext(ctx) }()
		err := errors.Join(s.udp.ShutdownContext(ctx), <-errc)
		if err != nil {
			s.closeErr = fmt.Errorf("shut down dns server %s: %w", s.addr, err)
		}
		s.log.Info("dns server stopped", "addr", s.addr.String())
	})
	return s.closeErr
}

// listen binds the UDP socket and the TCP listener on addr inside the
// namespace fd. For port 0 both get the port UDP was given; should TCP
// find it taken, another is picked.
func listen(fd int, addr netip.AddrPort) (pc net.PacketConn, ln net.Listener, err error) {
	udp, tcp := "udp4", "tcp4"
	if addr.Addr().Is6() {
		udp, tcp = "udp6", "tcp6"
	}
	lc := net.ListenConfig{Control: control}
	ctx := context.Background()
	err = netns.Do(fd, func() error {
		for range 10 {
			pc, err = lc.ListenPacket(ctx, udp, addr.String())
			if err != nil {
				return fmt.Errorf("listen on udp %s: %w", addr, err)
			}
			bound := netip.AddrPortFrom(addr.Addr(), uint16(pc.LocalAddr().(*net.UDPAddr).Port))
			ln, err = lc.Listen(ctx, tcp, bound.String())
			if err == nil {
				return nil
			}
			_ = pc.Close()
			if addr.Port() != 0 || !errors.Is(err, syscall.EADDRINUSE) {
				return fmt.Errorf("listen on tcp %s: %w", bound, err)
			}
		}
		return fmt.Errorf("listen on tcp %s: %w", addr, err)
	})
	if err != nil {
		return nil, nil, sentinel(err)
	}
	return pc, ln, nil
}

// sentinelError is an error mapped onto a core sentinel: errors.Is
// matches both, and the text stays the original's.
type sentinelError struct{ kind, err error }

func (e *sentinelError) Error() string   { return e.err.Error() }
func (e *sentinelError) Unwrap() []error { return []error{e.kind, e.err} }

// sentinel maps the errnos of socket, bind and setns onto core's
// sentinels; other errors are returned as they are.
func sentinel(err error) error {
	var kind error
	switch {
	case errors.Is(err, syscall.EADDRINUSE):
		kind = core.ErrConflict
	case errors.Is(err, syscall.EACCES), errors.Is(err, syscall.EPERM):
		kind = core.ErrPermission
	case errors.Is(err, syscall.EADDRNOTAVAIL):
		kind = core.ErrNotFound
	default:
		return err
	}
	return &sentinelError{kind: kind, err: err}
}
