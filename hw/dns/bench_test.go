package dns

import (
	"net"
	"net/netip"
	"testing"
	"time"

	miekg "github.com/miekg/dns"
)

// fakeWriter is a dns.ResponseWriter that keeps the last answer.
type fakeWriter struct {
	remote net.Addr
	msg    *miekg.Msg
}

func (w *fakeWriter) LocalAddr() net.Addr         { return &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 53} }
func (w *fakeWriter) RemoteAddr() net.Addr        { return w.remote }
func (w *fakeWriter) WriteMsg(m *miekg.Msg) error { w.msg = m; return nil }
func (w *fakeWriter) Write(b []byte) (int, error) { return len(b), nil }
func (w *fakeWriter) Close() error                { return nil }
func (w *fakeWriter) TsigStatus() error           { return nil }
func (w *fakeWriter) TsigTimersOnly(bool)         {}
func (w *fakeWriter) Hijack()                     {}

// BenchmarkAnswer is the server's own cost of an allowed name: policy
// lookup and answer, without sockets or packing.
func BenchmarkAnswer(b *testing.B) {
	s := serve(b, nil)
	w := &fakeWriter{remote: net.UDPAddrFromAddrPort(netip.AddrPortFrom(peerWeb, 40000))}
	req := question("Web.overlay.internal.", miekg.TypeA)
	b.ReportAllocs()
	for b.Loop() {
		s.serveDNS(w, req)
	}
	if len(w.msg.Answer) != 1 {
		b.Fatalf("answer %v", w.msg)
	}
}

// BenchmarkAnswerUDP is one allowed-name query over loopback UDP, both
// ends included.
func BenchmarkAnswerUDP(b *testing.B) {
	s := serve(b, nil)
	c, err := net.DialUDP("udp", net.UDPAddrFromAddrPort(netip.AddrPortFrom(peerWeb, 0)), net.UDPAddrFromAddrPort(s.Addr()))
	if err != nil {
		b.Skipf("cannot ask from %s: %v", peerWeb, err)
	}
	defer c.Close()
	co := &miekg.Conn{Conn: c}
	client := &miekg.Client{Net: "udp", Timeout: 5 * time.Second}
	req := question("web.overlay.internal.", miekg.TypeA)
	b.ReportAllocs()
	for b.Loop() {
		r, _, err := client.ExchangeWithConn(req, co)
		if err != nil {
			b.Fatal(err)
		}
		if len(r.Answer) != 1 {
			b.Fatalf("answer %v", r)
		}
	}
}
