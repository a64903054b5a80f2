package dns

import (
	"errors"
	"net"
	"net/netip"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	miekg "github.com/miekg/dns"

	"github.com/edgeward/edgeward/core"
)

// The unit tests run the server on loopback ports: 127.0.0.1 listens, and
// the peers ask from other loopback addresses (all of 127/8 is local on
// Linux), so that the source address tells them apart.

var (
	peerWeb    = netip.MustParseAddr("127.0.0.2") // may reach web and v6
	peerLonely = netip.MustParseAddr("127.0.0.3") // may reach nobody
	outsider   = netip.MustParseAddr("127.0.0.9") // not in the overlay
)

// fakeNames is the policy: who (by source address) may resolve which
// label to which address. It is never written after setup, so it is safe
// for the server's concurrent reads.
type fakeNames map[netip.Addr]map[string]netip.Addr

func (f fakeNames) Resolve(from netip.Addr, label string) (netip.Addr, bool) {
	a, ok := f[from][label]
	return a, ok
}

func testNames() fakeNames {
	return fakeNames{
		peerWeb: {
			"web": netip.MustParseAddr("100.64.0.10"),
			"v6":  netip.MustParseAddr("fd00::5"),
		},
	}
}

// serve starts a server on 127.0.0.1:0 with the test policy; edit
// adjusts the options first. The server is closed when the test ends.
func serve(t testing.TB, edit func(*Options)) *Server {
	t.Helper()
	opts := Options{
		Addr:    netip.MustParseAddrPort("127.0.0.1:0"),
		Domain:  "Overlay.Internal",
		Allowed: netip.MustParsePrefix("127.0.0.0/29"),
		Names:   testNames(),
	}
	if edit != nil {
		edit(&opts)
	}
	s, err := Serve(opts)
	if err != nil {
		t.Fatalf("Serve: %v", err)
	}
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return s
}

// ask sends m to addr over network from the loopback address from and
// returns the answer. It skips the test where from cannot be bound
// (loopback other than 127.0.0.1 is not local on every system).
func ask(t testing.TB, network string, from netip.Addr, addr netip.AddrPort, m *miekg.Msg) *miekg.Msg {
	t.Helper()
	d := &net.Dialer{}
	if network == "udp" {
		d.LocalAddr = net.UDPAddrFromAddrPort(netip.AddrPortFrom(from, 0))
	} else {
		d.LocalAddr = net.TCPAddrFromAddrPort(netip.AddrPortFrom(from, 0))
	}
	c := &miekg.Client{Net: network, Dialer: d, Timeout: 5 * time.Second}
	r, _, err := c.Exchange(m, addr.String())
	if err != nil {
		var oe *net.OpError
		if errors.As(err, &oe) && oe.Op == "dial" {
			t.Skipf("cannot ask from %s: %v", from, err)
		}
		t.Fatalf("exchange %v over %s: %v", m.Question, network, err)
	}
	if r.Id != m.Id {
		t.Fatalf("answer id %d, query id %d", r.Id, m.Id)
	}
	return r
}

func question(name string, qtype uint16) *miekg.Msg {
	m := new(miekg.Msg).SetQuestion(name, qtype)
	m.Id = 0x4242
	return m
}

// rrs renders records for comparison; nil for none.
func rrs(rr []miekg.RR) []string {
	var out []string
	for _, r := range rr {
		out = append(out, r.String())
	}
	return out
}

const soa = "overlay.internal.\t60\tIN\tSOA\toverlay.internal. hostmaster.overlay.internal. 1 3600 600 86400 60"

func TestAnswers(t *testing.T) {
	s := serve(t, nil)
	chaos := question("web.overlay.internal.", miekg.TypeA)
	chaos.Question[0].Qclass = miekg.ClassCHAOS
	tests := []struct {
		name    string
		from    netip.Addr
		q       *miekg.Msg
		rcode   int
		aa      bool
		answer  []string
		ns      []string
		withOPT bool
	}{
		{
			name: "allowed A", from: peerWeb, q: question("web.overlay.internal.", miekg.TypeA),
			rcode: miekg.RcodeSuccess, aa: true, answer: []string{"web.overlay.internal.\t60\tIN\tA\t100.64.0.10"},
		},
		{
			name: "denied A is NXDOMAIN", from: peerLonely, q: question("web.overlay.internal.", miekg.TypeA),
			rcode: miekg.RcodeNameError, aa: true, ns: []string{soa},
		},
		{
			name: "unknown label is the same NXDOMAIN", from: peerWeb, q: question("nobody.overlay.internal.", miekg.TypeA),
			rcode: miekg.RcodeNameError, aa: true, ns: []string{soa},
		},
		{
			name: "case ignored, kept in the answer", from: peerWeb, q: question("WEB.Overlay.INTERNAL.", miekg.TypeA),
			rcode: miekg.RcodeSuccess, aa: true, answer: []string{"WEB.Overlay.INTERNAL.\t60\tIN\tA\t100.64.0.10"},
		},
		{
			name: "AAAA of a v4 peer is NODATA", from: peerWeb, q: question("web.overlay.internal.", miekg.TypeAAAA),
			rcode: miekg.RcodeSuccess, aa: true, ns: []string{soa},
		},
		{
			name: "AAAA denied is NXDOMAIN", from: peerLonely, q: question("web.overlay.internal.", miekg.TypeAAAA),
			rcode: miekg.RcodeNameError, aa: true, ns: []string{soa},
		},
		{
			name: "AAAA of a v6 peer", from: peerWeb, q: question("v6.overlay.internal.", miekg.TypeAAAA),
			rcode: miekg.RcodeSuccess, aa: true, answer: []string{"v6.overlay.internal.\t60\tIN\tAAAA\tfd00::5"},
		},
		{
			name: "TXT of a peer is NODATA", from: peerWeb, q: question("web.overlay.internal.", miekg.TypeTXT),
			rcode: miekg.RcodeSuccess, aa: true, ns: []string{soa},
		},
		{
			name: "apex A is NODATA", from: peerLonely, q: question("overlay.internal.", miekg.TypeA),
			rcode: miekg.RcodeSuccess, aa: true, ns: []string{soa},
		},
		{
			name: "apex SOA", from: peerLonely, q: question("OVERLAY.internal.", miekg.TypeSOA),
			rcode: miekg.RcodeSuccess, aa: true, answer: []string{soa},
		},
		{
			name: "below a peer is NXDOMAIN", from: peerWeb, q: question("www.web.overlay.internal.", miekg.TypeA),
			rcode: miekg.RcodeNameError, aa: true, ns: []string{soa},
		},
		{
			name: "EDNS query gets OPT back", from: peerWeb, q: question("web.overlay.internal.", miekg.TypeA).SetEdns0(4096, false),
			rcode: miekg.RcodeSuccess, aa: true, answer: []string{"web.overlay.internal.\t60\tIN\tA\t100.64.0.10"}, withOPT: true,
		},
		{
			name: "ANY is NOTIMP", from: peerWeb, q: question("web.overlay.internal.", miekg.TypeANY),
			rcode: miekg.RcodeNotImplemented,
		},
		{
			name: "zone transfer refused", from: peerWeb, q: question("overlay.internal.", miekg.TypeAXFR),
			rcode: miekg.RcodeRefused,
		},
		{
			name: "source outside the overlay refused", from: outsider, q: question("web.overlay.internal.", miekg.TypeA),
			rcode: miekg.RcodeRefused,
		},
		{
			name: "other names refused without upstreams", from: peerWeb, q: question("example.com.", miekg.TypeA),
			rcode: miekg.RcodeRefused,
		},
		{
			name: "escaped dot is not a label boundary", from: peerWeb, q: question(`web\.overlay.internal.`, miekg.TypeA),
			rcode: miekg.RcodeRefused, // not in the zone, and nothing to forward to
		},
		{
			name: "class other than IN refused", from: peerWeb, q: chaos,
			rcode: miekg.RcodeRefused,
		},
	}
	for _, network := range []string{"udp", "tcp"} {
		for _, tt := range tests {
			t.Run(network+"/"+tt.name, func(t *testing.T) {
				r := ask(t, network, tt.from, s.Addr(), tt.q.Copy())
				if r.Rcode != tt.rcode {
					t.Errorf("rcode %s, want %s", miekg.RcodeToString[r.Rcode], miekg.RcodeToString[tt.rcode])
				}
				if r.Authoritative != tt.aa {
					t.Errorf("AA %v, want %v", r.Authoritative, tt.aa)
				}
				if diff := cmp.Diff(tt.answer, rrs(r.Answer)); diff != "" {
					t.Errorf("answer (-want +got):\n%s", diff)
				}
				if diff := cmp.Diff(tt.ns, rrs(r.Ns)); diff != "" {
					t.Errorf("authority (-want +got):\n%s", diff)
				}
				if got := r.IsEdns0() != nil; got != tt.withOPT {
					t.Errorf("OPT in answer %v, want %v", got, tt.withOPT)
				}
			})
		}
	}
}

// TestTwoQuestions: a query with more than one question is FORMERR (one
// question is all that DNS in practice supports, and more multiply work).
func TestTwoQuestions(t *testing.T) {
	s := serve(t, nil)
	for _, network := range []string{"udp", "tcp"} {
		t.Run(network, func(t *testing.T) {
			m := question("web.overlay.internal.", miekg.TypeA)
			m.Question = append(m.Question, miekg.Question{Name: "v6.overlay.internal.", Qtype: miekg.TypeAAAA, Qclass: miekg.ClassINET})
			r := ask(t, network, peerWeb, s.Addr(), m)
			if r.Rcode != miekg.RcodeFormatError || len(r.Answer) != 0 {
				t.Errorf("rcode %s with %d answers, want FORMERR and none", miekg.RcodeToString[r.Rcode], len(r.Answer))
			}
		})
	}
}

// TestDomainForms: the domain may be given with or without the final dot
// and in any case; the queries match it regardless.
func TestDomainForms(t *testing.T) {
	for _, domain := range []string{"overlay.internal", "overlay.internal.", "OVERLAY.Internal."} {
		t.Run(domain, func(t *testing.T) {
			s := serve(t, func(o *Options) { o.Domain = domain; o.TTL = 5 * time.Second })
			r := ask(t, "udp", peerWeb, s.Addr(), question("Web.overlay.internal.", miekg.TypeA))
			want := []string{"Web.overlay.internal.\t5\tIN\tA\t100.64.0.10"}
			if diff := cmp.Diff(want, rrs(r.Answer)); diff != "" {
				t.Errorf("answer (-want +got):\n%s", diff)
			}
		})
	}
}

func TestServeRefusesBadOptions(t *testing.T) {
	good := Options{
		Addr:    netip.MustParseAddrPort("127.0.0.1:0"),
		Domain:  "overlay.internal",
		Allowed: netip.MustParsePrefix("127.0.0.0/8"),
		Names:   testNames(),
	}
	tests := []struct {
		name string
		edit func(*Options)
	}{
		{"no address", func(o *Options) { o.Addr = netip.AddrPort{} }},
		{"no domain", func(o *Options) { o.Domain = "" }},
		{"root domain", func(o *Options) { o.Domain = "." }},
		{"bad domain", func(o *Options) { o.Domain = "a..b" }},
		{"no overlay", func(o *Options) { o.Allowed = netip.Prefix{} }},
		{"no names", func(o *Options) { o.Names = nil }},
		{"negative ttl", func(o *Options) { o.TTL = -time.Second }},
		{"negative timeout", func(o *Options) { o.Timeout = -time.Second }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			opts := good
			tt.edit(&opts)
			s, err := Serve(opts)
			if err == nil {
				_ = s.Close()
			}
			if !errors.Is(err, core.ErrInvalid) {
				t.Errorf("Serve: %v, want core.ErrInvalid", err)
			}
		})
	}
}

// TestPortTaken: a second server on the same port is a conflict, and the
// first keeps serving.
func TestPortTaken(t *testing.T) {
	s := serve(t, nil)
	_, err := Serve(Options{Addr: s.Addr(), Domain: "overlay.internal", Allowed: netip.MustParsePrefix("127.0.0.0/8"), Names: testNames()})
	if !errors.Is(err, core.ErrConflict) {
		t.Fatalf("second Serve on %s: %v, want core.ErrConflict", s.Addr(), err)
	}
	r := ask(t, "tcp", peerWeb, s.Addr(), question("web.overlay.internal.", miekg.TypeA))
	if len(r.Answer) != 1 {
		t.Errorf("first server answers %v", r)
	}
}

// TestCloseIdempotent: Close stops both listeners, and again is a no-op.
func TestCloseIdempotent(t *testing.T) {
	s, err := Serve(Options{Addr: netip.MustParseAddrPort("127.0.0.1:0"), Domain: "overlay.internal", Allowed: netip.MustParsePrefix("127.0.0.0/8"), Names: testNames()})
	if err != nil {
		t.Fatal(err)
	}
	if s.Addr().Port() == 0 {
		t.Fatalf("Addr %s: port not resolved", s.Addr())
	}
	if err := s.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	if err := s.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
	if c, err := net.DialTimeout("tcp", s.Addr().String(), time.Second); err == nil {
		c.Close()
		t.Errorf("tcp %s still accepts after Close", s.Addr())
	}
	pc, err := net.ListenPacket("udp4", s.Addr().String())
	if err != nil {
		t.Errorf("udp %s still bound after Close: %v", s.Addr(), err)
	} else {
		pc.Close()
	}
}

// TestConcurrentQueries: peers asking at once each get their own answer
// (the answers share the zone's SOA record; run with -race).
func TestConcurrentQueries(t *testing.T) {
	s := serve(t, nil)
	if r := ask(t, "udp", peerLonely, s.Addr(), question("web.overlay.internal.", miekg.TypeA)); r.Rcode != miekg.RcodeNameError {
		t.Fatalf("warm-up: %v", r)
	}
	var wg sync.WaitGroup
	for i := range 8 {
		from, rcode := peerWeb, miekg.RcodeSuccess
		if i%2 == 1 {
			from, rcode = peerLonely, miekg.RcodeNameError
		}
		wg.Go(func() {
			c := &miekg.Client{Net: "udp", Timeout: 5 * time.Second,
				Dialer: &net.Dialer{LocalAddr: net.UDPAddrFromAddrPort(netip.AddrPortFrom(from, 0))}}
			for range 50 {
				r, _, err := c.Exchange(question("web.overlay.internal.", miekg.TypeA), s.Addr().String())
				if err != nil {
					t.Errorf("from %s: %v", from, err)
					return
				}
				if r.Rcode != rcode {
					t.Errorf("from %s: rcode %s, want %s", from, miekg.RcodeToString[r.Rcode], miekg.RcodeToString[rcode])
					return
				}
			}
		})
	}
	wg.Wait()
}
