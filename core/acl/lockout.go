package acl

import (
	"fmt"
	"net/netip"
)

// Guard says who asks for a ban, so that the ACL can refuse one that would
// lock the admin out for good: loopback, the gateway's own addresses
// (Config.Own) and the requester's own address. The zero Guard still
// protects loopback and the gateway.
type Guard struct {
	From  netip.Addr // the requester's address; zero when unknown
	Force bool       // ban anyway: the caller said it means it
}

// loopback are the ranges a ban must never cover unforced: the API's
// own checks would refuse the admin even on the box itself.
var loopback = []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8"), netip.MustParsePrefix("::1/128")}

// lockout returns what of the protected addresses banning t would cover,
// as a sentence, or "" when t covers none of them (or g is forced).
// Targets are unmapped (ParseTarget), so ::ffff:127.0.0.1 and
// ::ffff:0:0/96 arrive as 127.0.0.1 and 0.0.0.0/0.
func (s *Service) lockout(t Target, g Guard) string {
	if g.Force {
		return ""
	}
	for _, p := range loopback {
		if covers(t, p) {
			return fmt.Sprintf("%s covers loopback (%s)", t, p)
		}
	}
	for _, p := range s.cfg.Own {
		if covers(t, p) {
			return fmt.Sprintf("%s covers %s, an address of this gateway", t, p.Addr())
		}
	}
	if from := g.From.Unmap(); from.IsValid() && t.Prefix.Contains(from) {
		return fmt.Sprintf("%s covers %s, the address this request comes from", t, from)
	}
	return ""
}

// covers reports whether banning t bans some address of p. For a single
// address that is p.Contains, a third of the cost of Overlaps, which a
// bulk ban of 100,000 pays for every protected range.
func covers(t Target, p netip.Prefix) bool {
	if t.Single() {
		return p.Contains(t.Prefix.Addr())
	}
	return t.Prefix.Overlaps(p)
}

// lockoutHint ends a refusal: how to ban anyway.
const lockoutHint = "; it would lock the admin out (set force to ban it anyway)"
