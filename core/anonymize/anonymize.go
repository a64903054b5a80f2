// Package anonymize replaces IP addresses and domain names in text with
// stand-ins, for debug bundles built with "anonymize: true".
//
// The replacement is consistent: one Anonymizer maps the same address or
// domain to the same stand-in everywhere it appears, across every file of a
// bundle, so a reader can still follow one peer through the logs without
// learning who or where it is. Stand-ins come from ranges reserved for
// documentation and benchmarking (198.18.0.0/15, 2001:db8::/32, .example),
// so they never collide with a real destination.
//
// The scanner is heuristic and errs towards replacing: a dotted word such as
// "peer.connected" or "main.run" looks like a domain and is replaced too.
package anonymize

import (
	"net/netip"
	"strconv"
	"strings"
	"sync"
)

// Anonymizer replaces addresses and domains in text, remembering every
// replacement it made. It is safe for concurrent use; concurrent callers
// share one mapping, though the order in which stand-ins are handed out
// then depends on scheduling. The zero value keeps no domains and is ready
// to use.
type Anonymizer struct {
	keep []string // lower-case domain suffixes left as they are

	mu      sync.Mutex
	addrs   map[netip.Addr]string // original address → stand-in
	domains map[string]string     // lower-case original domain → stand-in
	n4      uint32                // IPv4 stand-ins handed out
	n6      uint64                // IPv6 stand-ins handed out
}

// New returns an Anonymizer that leaves alone every domain equal to, or a
// subdomain of, one of keepDomains (compared without case, e.g.
// "edgeward.internal" keeps "edgeward.internal" and "api.edgeward.internal").
func New(keepDomains []string) *Anonymizer {
	a := &Anonymizer{}
	for _, d := range keepDomains {
		if d = strings.ToLower(strings.Trim(d, ".")); d != "" {
			a.keep = append(a.keep, d)
		}
	}
	return a
}

// String returns s with every address and domain replaced. It returns s
// itself when nothing needed replacing.
func (a *Anonymizer) String(s string) string {
	out, changed := a.rewrite(s)
	if !changed {
		return s
	}
	return string(out)
}

// Bytes returns a newly allocated copy of b with every address and domain
// replaced; b is not modified.
func (a *Anonymizer) Bytes(b []byte) []byte {
	out, changed := a.rewrite(string(b))
	if !changed {
		return append([]byte(nil), b...)
	}
	return out
}

// rewrite scans s word by word. A word is a maximal run of the bytes that
// can make up an address, a port suffix or a domain; everything else
// (spaces, quotes, brackets, '=', '/', '@', '%', '_', non-ASCII) separates
// words and is copied unchanged.
func (a *Anonymizer) rewrite(s string) ([]byte, bool) {
	a.mu.Lock()
	defer a.mu.Unlock()
	r := rewriter{a: a, src: s}
	for i := 0; i < len(s); {
		if !isWordByte(s[i]) {
			i++
			continue
		}
		j := i + 1
		for j < len(s) && isWordByte(s[j]) {
			j++
		}
		r.word(i, j)
		i = j
	}
	if !r.changed {
		return nil, false
	}
	return append(r.dst, s[r.last:]...), true
}

// rewriter builds the output lazily: nothing is copied until the first
// replacement, so text without addresses costs no allocation.
type rewriter struct {
	a       *Anonymizer
	src     string
	dst     []byte
	last    int // src[:last] has been emitted to dst
	changed bool
}

// replace emits src[r.last:start] followed by with, skipping src[start:end].
func (r *rewriter) replace(start, end int, with string) {
	if !r.changed {
		r.dst = make([]byte, 0, len(r.src)+len(r.src)/8)
		r.changed = true
	}
	r.dst = append(r.dst, r.src[r.last:start]...)
	r.dst = append(r.dst, with...)
	r.last = end
}

// word handles src[start:end]. Words with a colon may be IPv6 addresses;
// otherwise the colon separates a host from a port (or is part of a time
// or MAC address, which the rules below leave alone).
func (r *rewriter) word(start, end int) {
	start, end = trim(r.src, start, end)
	w := r.src[start:end]
	if strings.IndexByte(w, ':') < 0 {
		r.segment(start, end)
		return
	}
	if i, j, addr, ok := findIPv6(w); ok {
		r.word(start, start+i)
		if !keepAddr(addr) {
			r.replace(start+i, start+j, r.a.addrStandIn(addr))
		}
		r.word(start+j, end)
		return
	}
	for i := start; i <= end; i++ {
		if i == end || r.src[i] == ':' {
			r.segment(start, i)
			start = i + 1
		}
	}
}

// segment handles src[start:end], which holds no colon: an IPv4 address, a
// domain, or a hyphenated word that may contain IPv4 addresses (a range
// such as "10.0.0.1-10.0.0.9", a name such as "peer-10.0.0.1").
func (r *rewriter) segment(start, end int) {
	start, end = trim(r.src, start, end)
	s := r.src[start:end]
	if addr, ok := parseIPv4(s); ok {
		if !keepAddr(addr) {
			r.replace(start, end, r.a.addrStandIn(addr))
		}
		return
	}
	if isDomain(s) {
		if !r.a.kept(s) {
			r.replace(start, end, r.a.domainStandIn(s))
		}
		return
	}
	if strings.IndexByte(s, '-') < 0 || strings.IndexByte(s, '.') < 0 {
		return
	}
	for i := start; i <= end; i++ {
		if i == end || r.src[i] == '-' {
			a, b := trim(r.src, start, i)
			if addr, ok := parseIPv4(r.src[a:b]); ok && !keepAddr(addr) {
				r.replace(a, b, r.a.addrStandIn(addr))
			}
			start = i + 1
		}
	}
}

// trim narrows src[start:end] past leading and trailing dots and hyphens,
// which belong to the surrounding text ("see example.com.", "--host").
func trim(src string, start, end int) (int, int) {
	for start < end && (src[start] == '.' || src[start] == '-') {
		start++
	}
	for end > start && (src[end-1] == '.' || src[end-1] == '-') {
		end--
	}
	return start, end
}

func isWordByte(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' ||
		c == '.' || c == '-' || c == ':'
}

// keepAddr reports whether addr identifies nothing and is left as is:
// loopback, unspecified and the IPv4 limited broadcast address.
func keepAddr(addr netip.Addr) bool {
	return addr.IsLoopback() || addr.IsUnspecified() ||
		addr == netip.AddrFrom4([4]byte{255, 255, 255, 255})
}

// kept reports whether domain d is one of a.keep or under one of them.
func (a *Anonymizer) kept(d string) bool {
	for _, k := range a.keep {
		if len(d) == len(k) && strings.EqualFold(d, k) ||
			len(d) > len(k) && d[len(d)-len(k)-1] == '.' && strings.EqualFold(d[len(d)-len(k):], k) {
			return true
		}
	}
	return false
}

// addrStandIn returns the stand-in for addr, allocating the next free one
// on first sight. Addresses are compared as values, so "2001:DB8::1" and
// "2001:db8:0::1" share a stand-in. a.mu must be held.
func (a *Anonymizer) addrStandIn(addr netip.Addr) string {
	if s, ok := a.addrs[addr]; ok {
		return s
	}
	if a.addrs == nil {
		a.addrs = make(map[netip.Addr]string)
	}
	var s string
	if addr.Is4() {
		s = a.nextIPv4()
	} else {
		s = a.nextIPv6()
	}
	a.addrs[addr] = s
	return s
}

// nextIPv4 hands out 198.18.0.1, 198.18.0.2, … up to 198.19.255.254. Once
// those 131,070 are used up every further address gets 198.19.255.255:
// distinct addresses then share a stand-in, which loses detail but never
// leaks an address. a.mu must be held.
func (a *Anonymizer) nextIPv4() string {
	const first, last = 198<<24 | 18<<16 | 1, 198<<24 | 19<<16 | 255<<8 | 254
	if a.n4 > last-first {
		return "198.19.255.255"
	}
	v := uint32(first) + a.n4
	a.n4++
	return netip.AddrFrom4([4]byte{byte(v >> 24), byte(v >> 16), byte(v >> 8), byte(v)}).String()
}

// nextIPv6 hands out 2001:db8:ffff::1, 2001:db8:ffff::2, …; the /48 holds
// more stand-ins than a counter can reach. a.mu must be held.
func (a *Anonymizer) nextIPv6() string {
	a.n6++
	b := [16]byte{0x20, 0x01, 0x0d, 0xb8, 0xff, 0xff}
	for i := range 8 {
		b[15-i] = byte(a.n6 >> (8 * i))
	}
	return netip.AddrFrom16(b).String()
}

// domainStandIn returns the stand-in for domain d, "domain-N.example" with N
// counting from 1 in order of first sight. Case is ignored, as in DNS.
// a.mu must be held.
func (a *Anonymizer) domainStandIn(d string) string {
	key := strings.ToLower(d)
	if s, ok := a.domains[key]; ok {
		return s
	}
	if a.domains == nil {
		a.domains = make(map[string]string)
	}
	s := "domain-" + strconv.Itoa(len(a.domains)+1) + ".example"
	a.domains[key] = s
	return s
}
