package anonymize

import (
	"net/netip"
	"strings"
)

// parseIPv4 parses a dotted quad of four decimal octets, each 1 to 3 digits
// and at most 255. Leading zeros are accepted (unlike netip.ParseAddr): some
// tools print them, and leaving such an address in a bundle would leak it.
// The caller passes a whole segment, so "1.2.3.4.5" and "v1.2.3.4" fail.
func parseIPv4(s string) (netip.Addr, bool) {
	var b [4]byte
	part, digits, v := 0, 0, 0
	for i := 0; i <= len(s); i++ {
		if i == len(s) || s[i] == '.' {
			if digits == 0 || v > 255 || part > 3 {
				return netip.Addr{}, false
			}
			b[part] = byte(v)
			part, digits, v = part+1, 0, 0
			continue
		}
		c := s[i]
		if c < '0' || c > '9' || digits == 3 {
			return netip.Addr{}, false
		}
		v = v*10 + int(c-'0')
		digits++
	}
	if part != 4 {
		return netip.Addr{}, false
	}
	return netip.AddrFrom4(b), true
}

// findIPv6 finds the leftmost, then longest, IPv6 address in w whose ends
// fall on the ends of w or next to a colon, so that "addr:2001:db8::1" and
// "2001:db8::1:x" still yield the address. It returns w[i:j] and its value.
//
// netip.ParseAddr alone is too eager: "10:53:02" is not an address but
// "a:b:c:d:e:f:1:2" is, and a MAC address is one short. A candidate must
// therefore also contain "::" or at least 7 colons, which no time or MAC
// address does.
func findIPv6(w string) (i, j int, addr netip.Addr, ok bool) {
	if !maybeIPv6(w) {
		return 0, 0, netip.Addr{}, false
	}
	for i := 0; i < len(w); i++ {
		if i > 0 && w[i-1] != ':' {
			continue
		}
		for j := len(w); j > i+1; j-- {
			if j < len(w) && w[j] != ':' {
				continue
			}
			c := w[i:j]
			if !maybeIPv6(c) {
				continue
			}
			if a, err := netip.ParseAddr(c); err == nil && a.Is6() {
				return i, j, a, true
			}
		}
	}
	return 0, 0, netip.Addr{}, false
}

func maybeIPv6(s string) bool {
	return strings.Contains(s, "::") || strings.Count(s, ":") >= 7
}

// fileExtensions are final labels that make a dotted word a file name, not
// a domain: "edgeward.log", "peer.json", "bundle.tar.gz". Some are real
// top-level domains too (.sh, .md), so a host under one of them is kept
// verbatim; in gateway logs and bundles file names are far more common
// than such hosts, and replacing every file name would make a bundle hard
// to read. Other dotted words, such as "peer.connected", are replaced:
// leaking a name is worse than hiding a harmless word.
var fileExtensions = map[string]bool{
	"log": true, "json": true, "txt": true, "gz": true, "tar": true, "go": true,
	"yaml": true, "yml": true, "conf": true, "md": true, "html": true, "js": true,
	"css": true, "pem": true, "key": true, "crt": true, "sh": true,
}

// isDomain reports whether s looks like a domain name: two or more labels
// of 1 to 63 letters, digits and hyphens joined by dots, the last label
// alphabetic, 2 to 63 letters long and not a common file extension.
func isDomain(s string) bool {
	if len(s) > 253 {
		return false
	}
	dot := strings.LastIndexByte(s, '.')
	if dot < 0 {
		return false
	}
	tld := s[dot+1:]
	if len(tld) < 2 || len(tld) > 63 {
		return false
	}
	var lower [63]byte
	for k := 0; k < len(tld); k++ {
		c := tld[k] | 0x20
		if c < 'a' || c > 'z' {
			return false
		}
		lower[k] = c
	}
	if fileExtensions[string(lower[:len(tld)])] {
		return false
	}
	label := 0
	for k := 0; k < dot; k++ {
		switch c := s[k]; {
		case c == '.':
			if label == 0 {
				return false
			}
			label = 0
		case c == '-' || '0' <= c && c <= '9' || 'a' <= c|0x20 && c|0x20 <= 'z':
			if label++; label > 63 {
				return false
			}
		default:
			return false
		}
	}
	return label > 0
}
