package dns

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"strings"

	miekg "github.com/miekg/dns"

	"github.com/edgeward/edgeward/hw/netns"
)

// errNoUpstream is why a query was answered SERVFAIL when no upstream
// was tried at all.
var errNoUpstream = errors.New("no upstream resolver")

// forward relays req to the upstreams in order, over network, and returns
// the first real answer with the client's id. An upstream that cannot be
// reached, does not answer in time or answers SERVFAIL or REFUSED is
// skipped; when none is left the client gets SERVFAIL. The server's own
// address is never an upstream: it would forward to itself forever.
func (s *Server) forward(req *miekg.Msg, network string) *miekg.Msg {
	if s.upstreams == nil {
		return edns(req, refuse(req, miekg.RcodeRefused))
	}
	select {
	case s.inflight <- struct{}{}:
		defer func() { <-s.inflight }()
	default:
		s.log.Debug("forwarding saturated", "name", req.Question[0].Name)
		return s.servfail(req)
	}
	err := errNoUpstream
	for _, up := range s.upstreams() {
		select {
		case <-s.closing:
			return s.servfail(req)
		default:
		}
		addr, perr := netip.ParseAddrPort(up)
		if perr != nil {
			err = fmt.Errorf("upstream %q: %w", up, perr)
			continue
		}
		addr = netip.AddrPortFrom(addr.Addr().Unmap(), addr.Port())
		if addr == s.addr {
			continue
		}
		resp, xerr := s.exchange(req, network, addr)
		if xerr != nil {
			err = xerr
			continue
		}
		resp.Id = req.Id
		return resp
	}
	s.log.Debug("no upstream answered", "name", req.Question[0].Name, "err", err)
	return s.servfail(req)
}

// servfail is the answer to a query no upstream answered.
func (s *Server) servfail(req *miekg.Msg) *miekg.Msg {
	resp := refuse(req, miekg.RcodeServerFailure)
	resp.RecursionAvailable = true
	return edns(req, resp)
}

// exchange asks one upstream, over TCP again when its UDP answer was
// truncated. The query goes out with a fresh random id, not the client's,
// which makes a forged answer harder to slip in.
func (s *Server) exchange(req *miekg.Msg, network string, up netip.AddrPort) (*miekg.Msg, error) {
	out := *req // shallow: only the id differs, the sections are only read
	out.Id = miekg.Id()
	resp, err := s.exchangeOver(&out, network, up)
	if err == nil && network == "udp" && resp.Truncated {
		resp, err = s.exchangeOver(&out, "tcp", up)
	}
	if err != nil {
		return nil, err
	}
	if resp.Rcode == miekg.RcodeServerFailure || resp.Rcode == miekg.RcodeRefused {
		return nil, fmt.Errorf("upstream %s: %s", up, miekg.RcodeToString[resp.Rcode])
	}
	return resp, nil
}

// exchangeOver sends req to up over network and reads the answer, all
// within the server's timeout. The socket is made in the server's
// namespace: the upstreams are resolvers as seen from there.
func (s *Server) exchangeOver(req *miekg.Msg, network string, up netip.AddrPort) (*miekg.Msg, error) {
	ctx, cancel := context.WithTimeout(context.Background(), s.timeout)
	defer cancel()
	var c net.Conn
	err := netns.Do(s.netns, func() (err error) {
		var d net.Dialer
		c, err = d.DialContext(ctx, network, up.String())
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("dial upstream %s over %s: %w", up, network, err)
	}
	defer c.Close()
	// UDPSize is the read buffer for answers to queries without EDNS,
	// which an upstream should keep within 512 bytes but not all do.
	client := miekg.Client{Net: network, Timeout: s.timeout, UDPSize: 4096}
	resp, _, err := client.ExchangeWithConnContext(ctx, req, &miekg.Conn{Conn: c})
	if err != nil {
		return nil, fmt.Errorf("ask upstream %s over %s: %w", up, network, err)
	}
	if !sameQuestion(req, resp) {
		return nil, fmt.Errorf("ask upstream %s over %s: answer is for another question", up, network)
	}
	return resp, nil
}

// sameQuestion reports whether resp answers the question of req.
func sameQuestion(req, resp *miekg.Msg) bool {
	if len(resp.Question) != 1 {
		return false
	}
	q, r := req.Question[0], resp.Question[0]
	return q.Qtype == r.Qtype && q.Qclass == r.Qclass && strings.EqualFold(q.Name, r.Name)
}
