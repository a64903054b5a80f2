package p2pview

import (
	"context"
	"net/netip"
	"time"

	"github.com/edgeward/edgeward/core"
)

// connectPoll is how often Connect looks for the peer it waits for.
const connectPoll = 100 * time.Millisecond

// ErrPointBanned is Connect's refusal of a point whose address is banned
// or greylisted (and not trusted), the original's Point_banned.
var ErrPointBanned = &core.Error{Kind: core.ErrPermission, Msg: "the point's address is banned or greylisted"}

// Connect is the original's "connect to this point". WireGuard peers dial
// the gateway, never the other way, so it marks p requested and waits
// until a peer is connected from it or ctx ends. It returns nil once a
// peer is connected (at once when one already is), ErrPointBanned when the
// point's address is banned (nothing registered), and ctx's error when no
// peer came: the request is then withdrawn, leaving the register as it was.
func (v *View) Connect(ctx context.Context, p netip.AddrPort) error {
	p = unmap(p)
	if v.acl.Banned(p.Addr()) {
		return ErrPointBanned
	}
	if v.connected(p) {
		v.Register(p, "")
		return nil
	}
	v.mu.Lock()
	before, had := v.points.get(p)
	v.mu.Unlock()
	v.Request(p)
	t := time.NewTicker(connectPoll)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			v.mu.Lock()
			if had {
				v.points.put(p, before)
			} else {
				v.points.drop(p)
			}
			v.mu.Unlock()
			return ctx.Err()
		case <-t.C:
			if v.connected(p) {
				v.mu.Lock()
				if r, ok := v.points.get(p); ok {
					r.requested = false
					v.points.put(p, r)
				}
				v.mu.Unlock()
				return nil
			}
		}
	}
}

// connected reports whether a peer is connected from p.
func (v *View) connected(p netip.AddrPort) bool {
	for _, c := range v.ov.Connections() {
		if c.PeerID != "" && unmap(c.Endpoint) == p {
			return true
		}
	}
	return false
}
