package anonymize

import (
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"
)

var keep = []string{"edgeward.internal", "localhost."}

// stringCase is one String call on a fresh Anonymizer that keeps keep.
type stringCase struct {
	name string
	in   string
	want string
}

func runStringCases(t *testing.T, tests []stringCase) {
	t.Helper()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := New(keep).String(tt.in)
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("String(%q) (-want +got):\n%s", tt.in, diff)
			}
		})
	}
}

func TestIPv4(t *testing.T) {
	runStringCases(t, []stringCase{
		{name: "ipv4", in: "peer 203.0.113.7 connected", want: "peer 198.18.0.1 connected"},
		{name: "ipv4 in order and repeated", in: "10.0.0.1 10.0.0.2 10.0.0.1",
			want: "198.18.0.1 198.18.0.2 198.18.0.1"},
		{name: "ipv4 port kept", in: "endpoint=203.0.113.7:51820", want: "endpoint=198.18.0.1:51820"},
		{name: "go dial error", in: "dial udp 203.0.113.7:51820: connect: connection refused",
			want: "dial udp 198.18.0.1:51820: connect: connection refused"},
		{name: "ipv4 quoted and bracketed", in: `{"ip":"192.0.2.1","via":[192.0.2.2]}`,
			want: `{"ip":"198.18.0.1","via":[198.18.0.2]}`},
		{name: "ipv4 cidr", in: "allowed 10.8.0.0/24", want: "allowed 198.18.0.1/24"},
		{name: "ipv4 end of sentence", in: "from 10.0.0.1.", want: "from 198.18.0.1."},
		{name: "ipv4 range", in: "pool 10.0.0.10-10.0.0.20", want: "pool 198.18.0.1-198.18.0.2"},
		{name: "ipv4 after hyphen", in: "peer-10.0.0.9 up", want: "peer-198.18.0.1 up"},
		{name: "ipv4 leading zeros same address", in: "10.0.0.1 010.000.000.001",
			want: "198.18.0.1 198.18.0.1"},
		{name: "ipv4 edges", in: "0.0.0.1 255.255.255.254", want: "198.18.0.1 198.18.0.2"},
		{name: "ipv4 kept", in: "127.0.0.1 127.1.2.3:53 0.0.0.0:80 255.255.255.255",
			want: "127.0.0.1 127.1.2.3:53 0.0.0.0:80 255.255.255.255"},
	})
}

func TestNotIPv4(t *testing.T) {
	runStringCases(t, []stringCase{
		{name: "octet over 255", in: "256.1.1.1 1.2.3.300", want: "256.1.1.1 1.2.3.300"},
		{name: "five parts", in: "1.2.3.4.5 and 1.2.3.4.5.", want: "1.2.3.4.5 and 1.2.3.4.5."},
		{name: "versions", in: "v1.2.3 1.2.3 go1.26.8 v1.2.3.4 5.15.0-91-generic",
			want: "v1.2.3 1.2.3 go1.26.8 v1.2.3.4 5.15.0-91-generic"},
		{name: "four digit part", in: "1.2.3.1000", want: "1.2.3.1000"},
		{name: "numbers", in: "took 3.14s, 2.5GB, 0.5 ms", want: "took 3.14s, 2.5GB, 0.5 ms"},
	})
}

func TestIPv6(t *testing.T) {
	runStringCases(t, []stringCase{
		{name: "ipv6 compressed", in: "peer 2001:db8::1 up", want: "peer 2001:db8:ffff::1 up"},
		{name: "ipv6 with port", in: "endpoint=[2001:db8::1]:51820", want: "endpoint=[2001:db8:ffff::1]:51820"},
		{name: "ipv6 spellings of one address", in: "2001:DB8::1 2001:0db8:0000:0000:0000:0000:0000:0001",
			want: "2001:db8:ffff::1 2001:db8:ffff::1"},
		{name: "ipv6 full form", in: "2001:db8:1:2:3:4:5:6", want: "2001:db8:ffff::1"},
		{name: "ipv6 in order", in: "2001:db8::a 2001:db8::b 2001:db8::a",
			want: "2001:db8:ffff::1 2001:db8:ffff::2 2001:db8:ffff::1"},
		{name: "ipv6 zone", in: "fe80::1c2:3ff:fe4:5%eth0", want: "2001:db8:ffff::1%eth0"},
		{name: "ipv6 prefix", in: "route fd00:1::/64", want: "route 2001:db8:ffff::1/64"},
		{name: "ipv6 after key and colon", in: "addr:2001:db8::2", want: "addr:2001:db8:ffff::1"},
		{name: "ipv6 end of sentence", in: "via 2001:db8::2.", want: "via 2001:db8:ffff::1."},
		{name: "ipv4 mapped ipv6", in: "::ffff:203.0.113.7", want: "2001:db8:ffff::1"},
		{name: "ipv6 kept", in: "::1 [::1]:53 :: [::]:80", want: "::1 [::1]:53 :: [::]:80"},
		{name: "ipv4 and ipv6 counted apart", in: "10.0.0.1 2001:db8::1 10.0.0.2",
			want: "198.18.0.1 2001:db8:ffff::1 198.18.0.2"},
	})
}

func TestNotIPv6(t *testing.T) {
	runStringCases(t, []stringCase{
		{name: "times", in: "10:53:02 2025-03-01T10:53:02.123+01:00 12:00",
			want: "10:53:02 2025-03-01T10:53:02.123+01:00 12:00"},
		{name: "mac", in: "lladdr aa:bb:cc:dd:ee:ff AA-BB-CC-DD-EE-FF",
			want: "lladdr aa:bb:cc:dd:ee:ff AA-BB-CC-DD-EE-FF"},
		{name: "double colon word", in: "std::vector pkg::run", want: "std::vector pkg::run"},
	})
}

func TestDomains(t *testing.T) {
	runStringCases(t, []stringCase{
		{name: "domain", in: "resolve example.com", want: "resolve domain-1.example"},
		{name: "domains in order", in: "a.example.org api.foo.co.uk a.example.org",
			want: "domain-1.example domain-2.example domain-1.example"},
		{name: "domain case ignored", in: "Example.COM example.com", want: "domain-1.example domain-1.example"},
		{name: "domain with port", in: "dial example.net:443", want: "dial domain-1.example:443"},
		{name: "domain in url", in: "GET https://api.example.net/v1?q=1", want: "GET https://domain-1.example/v1?q=1"},
		{name: "domain in email", in: "admin@corp.example.com", want: "admin@domain-1.example"},
		{name: "domain end of sentence", in: "see my-host.example.com.", want: "see domain-1.example."},
		{name: "domain fqdn root dot", in: "QUERY vpn.acme.io. A", want: "QUERY domain-1.example. A"},
		{name: "reverse dns", in: "7.113.0.203.in-addr.arpa", want: "domain-1.example"},
		{name: "kept domains", in: "edgeward.internal api.edgeward.internal EDGEWARD.INTERNAL foo.localhost",
			want: "edgeward.internal api.edgeward.internal EDGEWARD.INTERNAL foo.localhost"},
		{name: "kept suffix needs a label boundary", in: "notedgeward.internal", want: "domain-1.example"},
		{name: "single label", in: "localhost router gateway", want: "localhost router gateway"},
	})
}

func TestNotDomains(t *testing.T) {
	runStringCases(t, []stringCase{
		{name: "file names", in: "edgeward.log peer.json config.json bundle.tar.gz main.go:42 README.MD",
			want: "edgeward.log peer.json config.json bundle.tar.gz main.go:42 README.MD"},
		{name: "more file names", in: "notes.txt a.yaml b.yml wg0.conf index.html app.js app.css",
			want: "notes.txt a.yaml b.yml wg0.conf index.html app.js app.css"},
		{name: "keys and scripts", in: "cert.pem cert.key cert.crt run.sh",
			want: "cert.pem cert.key cert.crt run.sh"},
		{name: "abbreviations", in: "e.g. i.e. etc.", want: "e.g. i.e. etc."},
		{name: "bad labels", in: "a..example.com x.c0m", want: "a..example.com x.c0m"},
	})
}

func TestMixed(t *testing.T) {
	runStringCases(t, []stringCase{
		{name: "slog line",
			in: `time=2025-03-01T10:53:02.123Z level=INFO msg="peer connected" peer=p1 ` +
				`endpoint=203.0.113.7:51820 dns=resolver.example.net lan=[fd00::5]:53 log=edgeward.log`,
			want: `time=2025-03-01T10:53:02.123Z level=INFO msg="peer connected" peer=p1 ` +
				`endpoint=198.18.0.1:51820 dns=domain-1.example lan=[2001:db8:ffff::1]:53 log=edgeward.log`},
		{name: "nothing to replace", in: "plain text, no addresses", want: "plain text, no addresses"},
		{name: "empty", in: "", want: ""},
		{name: "non-ascii separates", in: "höst.example.com ☃10.0.0.1☃",
			want: "hö" + "domain-1.example ☃198.18.0.1☃"},
	})
}

func TestConsistentAcrossCalls(t *testing.T) {
	a := New(keep)
	calls := []struct {
		in   string
		want string
	}{
		{in: "10.0.0.1 example.com 2001:db8::1", want: "198.18.0.1 domain-1.example 2001:db8:ffff::1"},
		{in: "10.0.0.2 10.0.0.1", want: "198.18.0.2 198.18.0.1"},
		{in: "other.example.com example.com", want: "domain-2.example domain-1.example"},
		{in: "[2001:db8::2]:1 [2001:db8::1]:2", want: "[2001:db8:ffff::2]:1 [2001:db8:ffff::1]:2"},
	}
	for i, c := range calls {
		var got string
		if i%2 == 0 {
			got = a.String(c.in)
		} else {
			got = string(a.Bytes([]byte(c.in)))
		}
		if diff := cmp.Diff(c.want, got); diff != "" {
			t.Errorf("call %d on %q (-want +got):\n%s", i, c.in, diff)
		}
	}
}

func TestBytesCopies(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want string
	}{
		{name: "changed", in: "ip 10.0.0.1", want: "ip 198.18.0.1"},
		{name: "unchanged", in: "nothing here", want: "nothing here"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := []byte(tt.in)
			got := New(nil).Bytes(in)
			if diff := cmp.Diff(tt.want, string(got)); diff != "" {
				t.Errorf("Bytes (-want +got):\n%s", diff)
			}
			if len(got) > 0 {
				got[0] = '#'
			}
			if diff := cmp.Diff(tt.in, string(in)); diff != "" {
				t.Errorf("input changed (-want +got):\n%s", diff)
			}
		})
	}
}

func TestZeroValue(t *testing.T) {
	var a Anonymizer
	if diff := cmp.Diff("198.18.0.1 domain-1.example", a.String("10.0.0.1 localhost.localdomain")); diff != "" {
		t.Errorf("String (-want +got):\n%s", diff)
	}
}

func TestIPv4StandInsExhausted(t *testing.T) {
	a := New(nil)
	a.n4 = 131069 // one stand-in left
	got := a.String("10.0.0.1 10.0.0.2 10.0.0.3 10.0.0.1")
	if diff := cmp.Diff("198.19.255.254 198.19.255.255 198.19.255.255 198.19.255.254", got); diff != "" {
		t.Errorf("String (-want +got):\n%s", diff)
	}
}

func TestConcurrentUse(t *testing.T) {
	a := New(keep)
	const workers = 8
	got := make([][]string, workers)
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			for i := range 50 {
				got[w] = append(got[w], a.String(fmt.Sprintf("10.0.0.%d host%d.example.com", i, i)))
			}
		})
	}
	wg.Wait()
	for w := 1; w < workers; w++ {
		if diff := cmp.Diff(got[0], got[w]); diff != "" {
			t.Errorf("worker %d saw a different mapping (-worker0 +worker%d):\n%s", w, w, diff)
		}
	}
	seen := map[string]bool{}
	for _, s := range got[0] {
		if seen[s] {
			t.Errorf("two inputs mapped to %q", s)
		}
		seen[s] = true
	}
}

// benchLog returns about 64 KiB of gateway-like log text.
func benchLog() string {
	var b strings.Builder
	for i := 0; b.Len() < 64<<10; i++ {
		fmt.Fprintf(&b, "time=2025-03-01T10:53:%02d.123Z level=INFO msg=\"handshake completed\" "+
			"peer=p%d endpoint=203.0.%d.%d:51820 allowed=[fd00::%x]/128 dns=vpn%d.example.net "+
			"file=edgeward.log mac=aa:bb:cc:dd:ee:%02x version=1.2.3\n",
			i%60, i, i%256, (i*7)%256, i, i%40, i%256)
	}
	return b.String()
}

func BenchmarkBytes(b *testing.B) {
	in := []byte(benchLog())
	a := New(keep)
	b.SetBytes(int64(len(in)))
	b.ReportAllocs()
	for b.Loop() {
		a.Bytes(in)
	}
}
