// Package connlimit bounds the connections a server holds: in total and
// per source address, and it keeps accepting after the process ran out of
// file descriptors instead of failing for good.
//
// fasthttp (under fiber) treats every Accept error but a timeout as fatal
// and returns from Serve, so one client holding a thousand idle keep-alive
// connections could end the process. Listener sits between the kernel
// socket and the server: it closes connections past a limit at once, and
// turns EMFILE, ENFILE, ENOBUFS and ENOMEM into a pause and a retry.
package connlimit

import (
	"errors"
	"log/slog"
	"net"
	"net/netip"
	"sync"
	"syscall"
	"time"
)

// Limits are the most connections a Listener holds open. Zero means no limit.
type Limits struct {
	Total     int
	PerSource int
}

// Listener is a net.Listener with Limits. Its zero value is not usable: see New.
type Listener struct {
	net.Listener
	lim Limits
	log *slog.Logger
	// sleep waits out fd exhaustion; tests shorten it.
	sleep func(time.Duration)

	mu       sync.Mutex
	total    int
	bySource map[netip.Addr]int
	// refused counts connections closed over a limit since the last log
	// line, so a flood costs one line a second, not one per connection.
	refused  int
	lastLog  time.Time
	lastFull time.Time
}

// New wraps ln; log gets one line a second at most about refused
// connections and fd exhaustion.
func New(ln net.Listener, lim Limits, log *slog.Logger) *Listener {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Listener{Listener: ln, lim: lim, log: log, sleep: time.Sleep, bySource: map[netip.Addr]int{}}
}

// Backoff bounds the pause after an exhausted Accept: it starts at min and
// doubles up to max while the condition lasts.
const (
	minBackoff = 5 * time.Millisecond
	maxBackoff = time.Second
)

// Accept returns the next connection within the limits. Connections past
// them are closed unanswered. Running out of descriptors or kernel memory
// pauses and retries: the pending connections wait in the kernel's backlog
// until a descriptor is free.
func (l *Listener) Accept() (net.Conn, error) {
	backoff := time.Duration(0)
	for {
		c, err := l.Listener.Accept()
		if err != nil {
			if !exhausted(err) {
				return nil, err
			}
			backoff = min(max(2*backoff, minBackoff), maxBackoff)
			l.noteFull(err)
			l.sleep(backoff)
			continue
		}
		backoff = 0
		src := source(c.RemoteAddr())
		if reason := l.admit(src); reason != "" {
			c.Close()
			l.noteRefused(src, reason)
			continue
		}
		return &conn{Conn: c, l: l, src: src}, nil
	}
}

// admit counts a new connection from src, or says which limit refuses it.
func (l *Listener) admit(src netip.Addr) string {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.lim.Total > 0 && l.total >= l.lim.Total {
		return "total"
	}
	if l.lim.PerSource > 0 && l.bySource[src] >= l.lim.PerSource {
		return "per_source"
	}
	l.total++
	l.bySource[src]++
	return ""
}

func (l *Listener) release(src netip.Addr) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.total--
	if l.bySource[src]--; l.bySource[src] <= 0 {
		delete(l.bySource, src)
	}
}

// Open is the number of connections held now.
func (l *Listener) Open() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.total
}

func (l *Listener) noteRefused(src netip.Addr, reason string) {
	l.mu.Lock()
	l.refused++
	now := time.Now()
	if now.Sub(l.lastLog) < time.Second {
		l.mu.Unlock()
		return
	}
	n := l.refused
	l.refused, l.lastLog = 0, now
	l.mu.Unlock()
	l.log.Warn("connections refused over the limit", "limit", reason, "source", src.String(), "refused", n,
		"max_conns", l.lim.Total, "max_conns_per_source", l.lim.PerSource)
}

func (l *Listener) noteFull(err error) {
	l.mu.Lock()
	now := time.Now()
	if now.Sub(l.lastFull) < time.Second {
		l.mu.Unlock()
		return
	}
	l.lastFull = now
	l.mu.Unlock()
	l.log.Error("accept: out of descriptors or memory; retrying", "err", err)
}

// exhausted reports whether err is a shortage that passes once other
// connections close.
func exhausted(err error) bool {
	return errors.Is(err, syscall.EMFILE) || errors.Is(err, syscall.ENFILE) ||
		errors.Is(err, syscall.ENOBUFS) || errors.Is(err, syscall.ENOMEM)
}

// source is the address a connection comes from, IPv4-mapped IPv6 folded
// to IPv4 so one host counts once.
func source(a net.Addr) netip.Addr {
	if ta, ok := a.(*net.TCPAddr); ok {
		return ta.AddrPort().Addr().Unmap()
	}
	ap, err := netip.ParseAddrPort(a.String())
	if err != nil {
		return netip.Addr{}
	}
	return ap.Addr().Unmap()
}

// conn releases its slot once, on the first Close.
type conn struct {
	net.Conn
	l    *Listener
	src  netip.Addr
	once sync.Once
}

func (c *conn) Close() error {
	err := c.Conn.Close()
	c.once.Do(func() { c.l.release(c.src) })
	return err
}
