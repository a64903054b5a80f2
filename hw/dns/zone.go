package dns

import (
	"net"
	"net/netip"
	"strings"

	miekg "github.com/miekg/dns"
)

// zone answers for the names under the overlay's domain as the only
// authoritative server of that domain would: AA set, NXDOMAIN and NODATA
// answers carrying the SOA so that resolvers cache them (RFC 2308).
//
// Names exist per asker. To a peer that may not reach it, a peer's name is
// NXDOMAIN for every type, exactly like a name nobody has, so that the
// answers tell nothing about who else is on the overlay.
type zone struct {
	origin string // lower case, fully qualified
	names  Names
	ttl    uint32
	soa    *miekg.SOA
}

func newZone(origin string, names Names, ttl uint32) *zone {
	return &zone{
		origin: origin,
		names:  names,
		ttl:    ttl,
		soa: &miekg.SOA{
			Hdr:     miekg.RR_Header{Name: origin, Rrtype: miekg.TypeSOA, Class: miekg.ClassINET, Ttl: ttl},
			Ns:      origin,
			Mbox:    "hostmaster." + origin,
			Serial:  1, // never transferred: secondaries do not exist
			Refresh: 3600,
			Retry:   600,
			Expire:  86400,
			Minttl:  ttl, // the negative-caching TTL
		},
	}
}

// label splits a question name against the zone: in reports whether qname
// is the apex or below it, and label is everything left of the apex ("" for
// the apex itself). Case is ignored, and an escaped dot ("a\.overlay...")
// is part of a label, not a separator.
func (z *zone) label(qname string) (label string, in bool) {
	n, o := len(qname), len(z.origin)
	switch {
	case n == o:
		return "", strings.EqualFold(qname, z.origin)
	case n > o+1 && qname[n-o-1] == '.' && strings.EqualFold(qname[n-o:], z.origin):
		label = qname[:n-o-1]
		backslashes := 0
		for i := len(label) - 1; i >= 0 && label[i] == '\\'; i-- {
			backslashes++
		}
		return label, backslashes%2 == 0
	}
	return "", false
}

// answer is the reply to req, whose single question is in the zone with
// the given label, asked by from.
func (z *zone) answer(req *miekg.Msg, from netip.Addr, label string) *miekg.Msg {
	q := req.Question[0]
	resp := new(miekg.Msg).SetReply(req)
	resp.Authoritative = true
	if label == "" {
		if q.Qtype == miekg.TypeSOA {
			resp.Answer = []miekg.RR{z.soa}
		} else {
			resp.Ns = []miekg.RR{z.soa}
		}
		return resp
	}
	addr, ok := z.resolve(from, label)
	if !ok {
		resp.Rcode = miekg.RcodeNameError
		resp.Ns = []miekg.RR{z.soa}
		return resp
	}
	hdr := miekg.RR_Header{Name: q.Name, Rrtype: q.Qtype, Class: miekg.ClassINET, Ttl: z.ttl}
	switch {
	case q.Qtype == miekg.TypeA && addr.Is4():
		a := addr.As4()
		resp.Answer = []miekg.RR{&miekg.A{Hdr: hdr, A: net.IP(a[:])}}
	case q.Qtype == miekg.TypeAAAA && addr.Is6():
		a := addr.As16()
		resp.Answer = []miekg.RR{&miekg.AAAA{Hdr: hdr, AAAA: net.IP(a[:])}}
	default: // the name exists, with no record of this type
		resp.Ns = []miekg.RR{z.soa}
	}
	return resp
}

// resolve looks the label up for from. A label with a dot is a name two
// or more levels below the apex, and one with an escape holds a byte no
// peer label has: neither names a peer.
func (z *zone) resolve(from netip.Addr, label string) (netip.Addr, bool) {
	if strings.ContainsAny(label, `.\`) {
		return netip.Addr{}, false
	}
	addr, ok := z.names.Resolve(from, strings.ToLower(label))
	addr = addr.Unmap()
	return addr, ok && addr.IsValid()
}
