package dns

import (
	"net"
	"net/netip"

	miekg "github.com/miekg/dns"
)

// serveDNS answers one query. miekg/dns has already dropped responses and
// answered FORMERR to messages without exactly one question and NOTIMP to
// opcodes other than QUERY and NOTIFY.
func (s *Server) serveDNS(w miekg.ResponseWriter, req *miekg.Msg) {
	from, network := source(w.RemoteAddr())
	resp := s.reply(req, from, network)
	if network == "udp" {
		resp.Compress = true
		resp.Truncate(udpSize(req))
	}
	_ = w.WriteMsg(resp) // the client went away: nothing to do
}

// reply is the answer to req, which came from from over network ("udp" or
// "tcp").
func (s *Server) reply(req *miekg.Msg, from netip.Addr, network string) *miekg.Msg {
	switch {
	case !s.allowed.Contains(from):
		return refuse(req, miekg.RcodeRefused)
	case req.Opcode != miekg.OpcodeQuery:
		return refuse(req, miekg.RcodeNotImplemented)
	case len(req.Question) != 1:
		return refuse(req, miekg.RcodeFormatError)
	}
	if opt := req.IsEdns0(); opt != nil && opt.Version() != 0 {
		return edns(req, refuse(req, miekg.RcodeBadVers))
	}
	q := req.Question[0]
	switch {
	case q.Qclass != miekg.ClassINET:
		return edns(req, refuse(req, miekg.RcodeRefused))
	case q.Qtype == miekg.TypeANY: // RFC 8482: a costly amplifier, and no client needs it
		return edns(req, refuse(req, miekg.RcodeNotImplemented))
	case q.Qtype == miekg.TypeAXFR, q.Qtype == miekg.TypeIXFR:
		return edns(req, refuse(req, miekg.RcodeRefused))
	}
	if label, in := s.zone.label(q.Name); in {
		resp := s.zone.answer(req, from, label)
		resp.RecursionAvailable = s.upstreams != nil
		return edns(req, resp)
	}
	return s.forward(req, network)
}

// refuse is an answer to req that carries only rcode. A FORMERR echoes no
// question: the request's may be what is wrong.
func refuse(req *miekg.Msg, rcode int) *miekg.Msg {
	resp := new(miekg.Msg)
	if rcode == miekg.RcodeFormatError {
		return resp.SetRcodeFormatError(req)
	}
	return resp.SetRcode(req, rcode)
}

// edns adds an OPT record to the server's own answer when the query had
// one (RFC 6891 6.1.1).
func edns(req, resp *miekg.Msg) *miekg.Msg {
	if req.IsEdns0() != nil {
		resp.SetEdns0(ednsSize, false)
	}
	return resp
}

// udpSize is the largest UDP answer the client of req takes.
func udpSize(req *miekg.Msg) int {
	if opt := req.IsEdns0(); opt != nil {
		return max(int(opt.UDPSize()), miekg.MinMsgSize)
	}
	return miekg.MinMsgSize
}

// source returns the client's address and transport.
func source(a net.Addr) (netip.Addr, string) {
	switch a := a.(type) {
	case *net.UDPAddr:
		return a.AddrPort().Addr().Unmap(), "udp"
	case *net.TCPAddr:
		return a.AddrPort().Addr().Unmap(), "tcp"
	}
	return netip.Addr{}, ""
}
