package dns

import (
	"fmt"
	"net/netip"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	miekg "github.com/miekg/dns"
)

// upstream is a fake resolver on a loopback port (UDP and TCP): answer
// makes its reply to each query, nil for none at all.
type upstream struct {
	addr   netip.AddrPort
	answer func(network string, req *miekg.Msg) *miekg.Msg

	mu   sync.Mutex
	seen []string // the transport of each query, in order
}

func startUpstream(t testing.TB, answer func(network string, req *miekg.Msg) *miekg.Msg) *upstream {
	t.Helper()
	return startUpstreamAt(t, 0, netip.MustParseAddrPort("127.0.0.1:0"), answer)
}

// startUpstreamAt starts the fake on addr in the network namespace fd.
func startUpstreamAt(t testing.TB, fd int, addr netip.AddrPort, answer func(network string, req *miekg.Msg) *miekg.Msg) *upstream {
	t.Helper()
	pc, ln, err := listen(fd, addr)
	if err != nil {
		t.Fatal(err)
	}
	u := &upstream{addr: netip.MustParseAddrPort(pc.LocalAddr().String()), answer: answer}
	h := miekg.HandlerFunc(func(w miekg.ResponseWriter, req *miekg.Msg) {
		_, network := source(w.RemoteAddr())
		u.mu.Lock()
		u.seen = append(u.seen, network)
		u.mu.Unlock()
		if r := u.answer(network, req); r != nil {
			_ = w.WriteMsg(r)
		}
	})
	for _, srv := range []*miekg.Server{{PacketConn: pc, Handler: h}, {Listener: ln, Handler: h}} {
		started := make(chan struct{})
		srv.NotifyStartedFunc = func() { close(started) }
		go func() { _ = srv.ActivateAndServe() }()
		<-started
		t.Cleanup(func() { _ = srv.Shutdown() })
	}
	return u
}

func (u *upstream) transports() []string {
	u.mu.Lock()
	defer u.mu.Unlock()
	return slices.Clone(u.seen)
}

// closedPort is a loopback UDP and TCP port nobody listens on.
func closedPort(t testing.TB) netip.AddrPort {
	t.Helper()
	pc, ln, err := listen(0, netip.MustParseAddrPort("127.0.0.1:0"))
	if err != nil {
		t.Fatal(err)
	}
	addr := netip.MustParseAddrPort(pc.LocalAddr().String())
	pc.Close()
	ln.Close()
	return addr
}

// answerA answers n A records, truncated to the client's size over UDP
// as a real resolver does.
func answerA(n int) func(string, *miekg.Msg) *miekg.Msg {
	return func(network string, req *miekg.Msg) *miekg.Msg {
		r := new(miekg.Msg).SetReply(req)
		r.RecursionAvailable = true
		for i := range n {
			rr, _ := miekg.NewRR(fmt.Sprintf("%s 300 IN A 192.0.2.%d", req.Question[0].Name, i+1))
			r.Answer = append(r.Answer, rr)
		}
		if network == "udp" {
			r.Truncate(udpSize(req))
		}
		return r
	}
}

// truncatedOverUDP answers TC and nothing else over UDP, n records over
// TCP.
func truncatedOverUDP(n int) func(string, *miekg.Msg) *miekg.Msg {
	return func(network string, req *miekg.Msg) *miekg.Msg {
		if network == "udp" {
			r := new(miekg.Msg).SetReply(req)
			r.Truncated = true
			return r
		}
		return answerA(n)(network, req)
	}
}

func rcode(rc int) func(string, *miekg.Msg) *miekg.Msg {
	return func(_ string, req *miekg.Msg) *miekg.Msg { return new(miekg.Msg).SetRcode(req, rc) }
}

func silent(string, *miekg.Msg) *miekg.Msg { return nil }

// fixed is an Upstreams func with a fixed list.
func fixed(ups ...netip.AddrPort) func() []string {
	return func() []string {
		out := []string{}
		for _, u := range ups {
			out = append(out, u.String())
		}
		return out
	}
}

func aRecords(name string, n int) []string {
	var out []string
	for i := range n {
		out = append(out, fmt.Sprintf("%s\t300\tIN\tA\t192.0.2.%d", name, i+1))
	}
	return out
}

func TestForward(t *testing.T) {
	const closed = "closed" // an upstream nobody listens on
	tests := []struct {
		name      string
		ups       []any // answer funcs, or closed
		network   string
		q         *miekg.Msg
		rcode     int
		answer    []string
		truncated bool
		seen      [][]string // per upstream
	}{
		{
			name: "udp forwarded over udp", ups: []any{answerA(1)}, network: "udp",
			q: question("example.com.", miekg.TypeA), answer: aRecords("example.com.", 1),
			seen: [][]string{{"udp"}},
		},
		{
			name: "tcp forwarded over tcp", ups: []any{answerA(1)}, network: "tcp",
			q: question("example.com.", miekg.TypeA), answer: aRecords("example.com.", 1),
			seen: [][]string{{"tcp"}},
		},
		{
			name: "truncated upstream answer retried over tcp", ups: []any{truncatedOverUDP(3)}, network: "udp",
			q: question("example.com.", miekg.TypeA), answer: aRecords("example.com.", 3),
			seen: [][]string{{"udp", "tcp"}},
		},
		{
			name: "answer too big for the client truncated to 512", ups: []any{answerA(40)}, network: "udp",
			q: question("big.example.", miekg.TypeA), answer: aRecords("big.example.", 30), truncated: true, // 12+17+30*16 bytes
			seen: [][]string{{"udp", "tcp"}},
		},
		{
			name: "big answer whole over tcp", ups: []any{answerA(40)}, network: "tcp",
			q: question("big.example.", miekg.TypeA), answer: aRecords("big.example.", 40),
			seen: [][]string{{"tcp"}},
		},
		{
			name: "unreachable upstream skipped", ups: []any{closed, answerA(1)}, network: "udp",
			q: question("example.com.", miekg.TypeA), answer: aRecords("example.com.", 1),
			seen: [][]string{nil, {"udp"}},
		},
		{
			name: "unreachable upstream skipped over tcp", ups: []any{closed, answerA(1)}, network: "tcp",
			q: question("example.com.", miekg.TypeA), answer: aRecords("example.com.", 1),
			seen: [][]string{nil, {"tcp"}},
		},
		{
			name: "SERVFAIL and REFUSED upstreams skipped", ups: []any{rcode(miekg.RcodeServerFailure), rcode(miekg.RcodeRefused), answerA(1)}, network: "udp",
			q: question("example.com.", miekg.TypeA), answer: aRecords("example.com.", 1),
			seen: [][]string{{"udp"}, {"udp"}, {"udp"}},
		},
		{
			name: "NXDOMAIN is an answer", ups: []any{rcode(miekg.RcodeNameError), answerA(1)}, network: "udp",
			q: question("nx.example.", miekg.TypeA), rcode: miekg.RcodeNameError,
			seen: [][]string{{"udp"}, nil},
		},
		{
			name: "every upstream failing is SERVFAIL", ups: []any{closed, rcode(miekg.RcodeServerFailure)}, network: "udp",
			q: question("example.com.", miekg.TypeA), rcode: miekg.RcodeServerFailure,
			seen: [][]string{nil, {"udp"}},
		},
		{
			name: "no upstream is SERVFAIL", ups: []any{}, network: "udp",
			q: question("example.com.", miekg.TypeA), rcode: miekg.RcodeServerFailure,
			seen: [][]string{},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var addrs []netip.AddrPort
			var fakes []*upstream
			for _, u := range tt.ups {
				if u == closed {
					addrs = append(addrs, closedPort(t))
					fakes = append(fakes, nil)
					continue
				}
				f := startUpstream(t, u.(func(string, *miekg.Msg) *miekg.Msg))
				addrs = append(addrs, f.addr)
				fakes = append(fakes, f)
			}
			s := serve(t, func(o *Options) { o.Upstreams = fixed(addrs...) })
			r := ask(t, tt.network, peerWeb, s.Addr(), tt.q.Copy())
			if r.Rcode != tt.rcode {
				t.Errorf("rcode %s, want %s", miekg.RcodeToString[r.Rcode], miekg.RcodeToString[tt.rcode])
			}
			if diff := cmp.Diff(tt.answer, rrs(r.Answer)); diff != "" {
				t.Errorf("answer (-want +got):\n%s", diff)
			}
			if r.Truncated != tt.truncated {
				t.Errorf("TC %v, want %v", r.Truncated, tt.truncated)
			}
			if r.Authoritative {
				t.Error("forwarded answer has AA")
			}
			seen := [][]string{}
			for _, f := range fakes {
				if f == nil {
					seen = append(seen, nil)
				} else {
					seen = append(seen, f.transports())
				}
			}
			if diff := cmp.Diff(tt.seen, seen); diff != "" {
				t.Errorf("queries seen by the upstreams (-want +got):\n%s", diff)
			}
		})
	}
}

// TestForwardTimeout: an upstream that never answers costs the default
// 2s, then the client gets SERVFAIL; with a shorter timeout the next
// upstream answers within it.
func TestForwardTimeout(t *testing.T) {
	dead := startUpstream(t, silent)
	good := startUpstream(t, answerA(1))
	t.Run("dead upstream is SERVFAIL after 2s", func(t *testing.T) {
		s := serve(t, func(o *Options) { o.Upstreams = fixed(dead.addr) })
		start := time.Now()
		r := ask(t, "udp", peerWeb, s.Addr(), question("example.com.", miekg.TypeA))
		took := time.Since(start)
		if r.Rcode != miekg.RcodeServerFailure {
			t.Errorf("rcode %s, want SERVFAIL", miekg.RcodeToString[r.Rcode])
		}
		if took < defaultTimeout || took > defaultTimeout+time.Second {
			t.Errorf("answered after %v, want just over %v", took, defaultTimeout)
		}
	})
	t.Run("next upstream after a short timeout", func(t *testing.T) {
		s := serve(t, func(o *Options) { o.Upstreams = fixed(dead.addr, good.addr); o.Timeout = 200 * time.Millisecond })
		start := time.Now()
		r := ask(t, "tcp", peerWeb, s.Addr(), question("example.com.", miekg.TypeA))
		took := time.Since(start)
		if diff := cmp.Diff(aRecords("example.com.", 1), rrs(r.Answer)); diff != "" {
			t.Errorf("answer (-want +got):\n%s", diff)
		}
		if took < 200*time.Millisecond || took > time.Second {
			t.Errorf("answered after %v, want just over 200ms", took)
		}
	})
}

// TestForwardSkipsSelf: the server's own address in the list (a resolver
// file naming the gateway) is skipped instead of looping.
func TestForwardSkipsSelf(t *testing.T) {
	good := startUpstream(t, answerA(1))
	var list atomic.Pointer[[]string]
	s := serve(t, func(o *Options) { o.Upstreams = func() []string { return *list.Load() } })
	for _, tt := range []struct {
		name  string
		ups   []string
		rcode int
		seen  []string
	}{
		{"self only", []string{s.Addr().String()}, miekg.RcodeServerFailure, nil},
		{"self then good", []string{s.Addr().String(), good.addr.String()}, miekg.RcodeSuccess, []string{"udp"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			list.Store(&tt.ups)
			before := len(good.transports())
			start := time.Now()
			r := ask(t, "udp", peerWeb, s.Addr(), question("example.com.", miekg.TypeA))
			if r.Rcode != tt.rcode {
				t.Errorf("rcode %s, want %s", miekg.RcodeToString[r.Rcode], miekg.RcodeToString[tt.rcode])
			}
			if took := time.Since(start); took > time.Second {
				t.Errorf("answered after %v: the server asked itself", took)
			}
			if diff := cmp.Diff(tt.seen, good.transports()[before:]); diff != "" {
				t.Errorf("queries seen by the upstream (-want +got):\n%s", diff)
			}
		})
	}
}

// TestCloseStopsForwarding: a query waiting on a dead upstream when the
// server closes gets SERVFAIL after that exchange, and the next upstream
// is not asked.
func TestCloseStopsForwarding(t *testing.T) {
	asked := make(chan struct{}, 1)
	dead := startUpstream(t, func(string, *miekg.Msg) *miekg.Msg {
		asked <- struct{}{}
		return nil
	})
	good := startUpstream(t, answerA(1))
	s, err := Serve(Options{
		Addr: netip.MustParseAddrPort("127.0.0.1:0"), Domain: "overlay.internal",
		Allowed: netip.MustParsePrefix("127.0.0.0/8"), Names: testNames(),
		Upstreams: fixed(dead.addr, good.addr), Timeout: 300 * time.Millisecond,
	})
	if err != nil {
		t.Fatal(err)
	}
	answer := make(chan *miekg.Msg, 1)
	go func() {
		c := &miekg.Client{Net: "udp", Timeout: 5 * time.Second}
		r, _, err := c.Exchange(question("example.com.", miekg.TypeA), s.Addr().String())
		if err != nil {
			t.Errorf("exchange: %v", err)
		}
		answer <- r
	}()
	<-asked
	start := time.Now()
	if err := s.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	if took := time.Since(start); took > time.Second {
		t.Errorf("Close took %v", took)
	}
	if r := <-answer; r == nil || r.Rcode != miekg.RcodeServerFailure {
		t.Errorf("answer %v, want SERVFAIL", r)
	}
	if got := good.transports(); len(got) != 0 {
		t.Errorf("next upstream asked after Close: %v", got)
	}
}

// TestResolvConfUpstreams wires ResolvConf in as the caller does: an
// upstream appears in the file and is used from the next query on.
func TestResolvConfUpstreams(t *testing.T) {
	good := startUpstream(t, answerA(1))
	path := t.TempDir() + "/resolv.conf"
	write(t, path, "# empty for now\n")
	s := serve(t, func(o *Options) {
		o.Upstreams = func() []string {
			ups := ResolvConf(path)
			for i, u := range ups { // the fake listens on another port than 53
				if u == netip.AddrPortFrom(good.addr.Addr(), 53).String() {
					ups[i] = good.addr.String()
				}
			}
			return ups
		}
	})
	if r := ask(t, "udp", peerWeb, s.Addr(), question("example.com.", miekg.TypeA)); r.Rcode != miekg.RcodeServerFailure {
		t.Errorf("no nameserver: rcode %s, want SERVFAIL", miekg.RcodeToString[r.Rcode])
	}
	write(t, path, "nameserver "+good.addr.Addr().String()+"\n")
	if r := ask(t, "udp", peerWeb, s.Addr(), question("example.com.", miekg.TypeA)); len(r.Answer) != 1 {
		t.Errorf("with a nameserver: %v", r)
	}
}
