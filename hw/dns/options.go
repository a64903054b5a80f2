package dns

import (
	"log/slog"
	"math"
	"net/netip"
	"time"

	miekg "github.com/miekg/dns"

	"github.com/edgeward/edgeward/core"
)

// Names resolves the overlay's names for one asking peer.
type Names interface {
	// Resolve returns the address of the peer with this DNS label when the
	// peer at from may reach it. The label is lower case, one DNS label
	// without the domain. It is called once per query, concurrently.
	Resolve(from netip.Addr, label string) (netip.Addr, bool)
}

// Options configures a Server.
type Options struct {
	// Addr is where the server listens, on UDP and TCP: the gateway's
	// overlay address and port 53. Port 0 picks a free port (tests); see
	// Server.Addr. Required.
	Addr netip.AddrPort
	// NetNS is an open descriptor of the network namespace the server's
	// sockets live in, the listening ones and those that reach the
	// upstreams; 0 means the caller's own. The caller keeps it open until
	// Close.
	NetNS int
	// Domain is the overlay's DNS domain, such as "overlay.internal"
	// (trailing dot optional, case ignored). Required, and not the root.
	Domain string
	// Allowed is the overlay: queries from any other source are REFUSED.
	// Required.
	Allowed netip.Prefix
	// Names answers for the labels under Domain. Required.
	Names Names
	// Upstreams lists the resolvers ("ip:port") other names are forwarded
	// to, tried in order. It is called once per forwarded query, so it can
	// follow a changing resolver file; it must be safe for concurrent use.
	// An empty list answers SERVFAIL; nil disables forwarding, and other
	// names are REFUSED.
	Upstreams func() []string
	// Log receives the server's start, stop and forwarding failures (at
	// debug level); nil discards them.
	Log *slog.Logger
	// TTL is the time to live of the answers under Domain, positive and
	// negative. Zero means 60s.
	TTL time.Duration
	// Timeout is how long one exchange with an upstream may take before
	// the next is tried. Zero means 2s.
	Timeout time.Duration
}

const (
	defaultTTL     = 60 * time.Second
	defaultTimeout = 2 * time.Second
)

// check validates o and returns the domain in canonical form (lower case,
// fully qualified).
func (o *Options) check() (string, error) {
	v := &core.ValidationError{}
	if !o.Addr.IsValid() {
		v.Add("addr", "required")
	}
	origin := miekg.CanonicalName(o.Domain)
	if _, ok := miekg.IsDomainName(origin); !ok || origin == "." {
		v.Add("domain", "%q is not a domain", o.Domain)
	}
	if !o.Allowed.IsValid() {
		v.Add("allowed", "required")
	}
	if o.Names == nil {
		v.Add("names", "required")
	}
	if o.TTL < 0 || o.TTL > math.MaxInt32*time.Second {
		v.Add("ttl", "out of range")
	}
	if o.Timeout < 0 {
		v.Add("timeout", "negative")
	}
	return origin, v.Err()
}
