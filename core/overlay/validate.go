package overlay

import (
	"fmt"
	"net/netip"
	"strconv"
	"strings"
	"unicode"

	"github.com/edgeward/edgeward/core"
)

// Bounds on what one request may store, so a policy stays a size the
// pages, the API and the ruleset compiler handle at once.
const (
	maxNameLen        = 255
	maxDescriptionLen = 1024
	maxRules          = 100 // per policy or temporary access
	maxPorts          = 64  // ports, and port ranges, per rule
	maxSide           = 64  // groups on each side of a rule
)

// checkDescription bounds a free-text description.
func checkDescription(v *core.ValidationError, field, s string) {
	if len(s) > maxDescriptionLen {
		v.Add(field, "must be at most %d bytes, got %d", maxDescriptionLen, len(s))
	}
}

// checkRuleCount reports whether n rules are within bounds.
func checkRuleCount(v *core.ValidationError, n int) bool {
	switch {
	case n == 0:
		v.Add("rules", "must hold at least one rule")
	case n > maxRules:
		v.Add("rules", "at most %d rules, got %d", maxRules, n)
		return false
	}
	return true
}

// checkName validates a display name of a peer, group or policy.
func checkName(v *core.ValidationError, field, name string) {
	switch {
	case strings.TrimSpace(name) == "":
		v.Add(field, "must not be empty")
	case len(name) > maxNameLen:
		v.Add(field, "must be at most %d bytes", maxNameLen)
	case strings.IndexFunc(name, unicode.IsControl) >= 0:
		v.Add(field, "must not contain control characters")
	case name != strings.TrimSpace(name):
		v.Add(field, "must not start or end with spaces")
	}
}

// dnsLabel turns a peer name into a DNS label: lower case letters, digits
// and hyphens, at most 63 bytes, never empty.
func dnsLabel(name string) string {
	var b strings.Builder
	dash := false
	for _, r := range strings.ToLower(name) {
		switch {
		case r >= 'a' && r <= 'z', r >= '0' && r <= '9':
			b.WriteRune(r)
			dash = false
		case !dash && b.Len() > 0:
			b.WriteByte('-')
			dash = true
		}
	}
	l := strings.Trim(b.String(), "-")
	if len(l) > 63 {
		l = strings.Trim(l[:63], "-")
	}
	if l == "" {
		l = "peer"
	}
	return l
}

// uniqueLabel picks a free label for a peer named name at ip, falling back
// like the original to label-<ip[2]>-<ip[3]>, then to a counter.
func (st *state) uniqueLabel(name string, ip netip.Addr, self string) string {
	free := func(l string) bool {
		id, taken := st.byLabel[l]
		return !taken || id == self
	}
	base := dnsLabel(name)
	if free(base) {
		return base
	}
	a := ip.As4()
	alt := fmt.Sprintf("%s-%d-%d", trimLabel(base, 8), a[2], a[3])
	if free(alt) {
		return alt
	}
	for i := 2; ; i++ {
		l := fmt.Sprintf("%s-%d", trimLabel(alt, 6), i)
		if free(l) {
			return l
		}
	}
}

// trimLabel shortens l so that a suffix of n bytes still fits in 63.
func trimLabel(l string, n int) string {
	if len(l)+n > 63 {
		return strings.Trim(l[:63-n], "-")
	}
	return l
}

// ParseRule parses a temporary-access rule: "all", "icmp", "tcp/80",
// "udp/53" or "tcp/8000-8080" (case-insensitive, trimmed).
func ParseRule(s string) (Rule, error) {
	s = strings.ToLower(strings.TrimSpace(s))
	r := Rule{Enabled: true, Action: "accept"}
	switch s {
	case ProtoAll, ProtoICMP:
		r.Protocol = s
		return r, nil
	}
	proto, ports, ok := strings.Cut(s, "/")
	if !ok || (proto != ProtoTCP && proto != ProtoUDP) {
		return r, fmt.Errorf("must be all, icmp, tcp/PORT, udp/PORT or PROTO/START-END")
	}
	r.Protocol = proto
	lo, hi, isRange := strings.Cut(ports, "-")
	start, err := parsePort(lo)
	if err != nil {
		return r, err
	}
	if !isRange {
		r.Ports = []uint16{start}
		return r, nil
	}
	end, err := parsePort(hi)
	if err != nil {
		return r, err
	}
	if start > end {
		return r, fmt.Errorf("port range start %d is above its end %d", start, end)
	}
	r.PortRanges = []PortRange{{Start: start, End: end}}
	return r, nil
}

func parsePort(s string) (uint16, error) {
	n, err := strconv.ParseUint(s, 10, 16)
	if err != nil || n == 0 {
		return 0, fmt.Errorf("port %q must be a number from 1 to 65535", s)
	}
	return uint16(n), nil
}

// checkRule validates a policy rule's protocol, ports and action.
func checkRule(v *core.ValidationError, field string, r *Rule) {
	if len(r.Name) > maxNameLen {
		v.Add(field+".name", "must be at most %d bytes", maxNameLen)
	}
	checkDescription(v, field+".description", r.Description)
	if len(r.Ports) > maxPorts {
		v.Add(field+".ports", "at most %d ports per rule, got %d", maxPorts, len(r.Ports))
		return
	}
	if len(r.PortRanges) > maxPorts {
		v.Add(field+".port_ranges", "at most %d port ranges per rule, got %d", maxPorts, len(r.PortRanges))
		return
	}
	switch r.Action {
	case "accept":
	case "drop":
		v.Add(field+".action", "drop is not supported: traffic no policy accepts is already dropped")
	default:
		v.Add(field+".action", "must be accept")
	}
	switch r.Protocol {
	case ProtoAll, ProtoICMP:
		if len(r.Ports) > 0 || len(r.PortRanges) > 0 {
			v.Add(field+".ports", "must be empty for protocol %s", r.Protocol)
		}
	case ProtoTCP, ProtoUDP:
	default:
		v.Add(field+".protocol", "must be one of all, tcp, udp, icmp")
	}
	if len(r.Ports) > 0 && len(r.PortRanges) > 0 {
		v.Add(field+".port_ranges", "must not be combined with ports")
	}
	for i, pr := range r.PortRanges {
		if pr.Start == 0 || pr.Start > pr.End {
			v.Add(fmt.Sprintf("%s.port_ranges[%d]", field, i), "must satisfy 1 <= start <= end <= 65535")
		}
	}
	for i, p := range r.Ports {
		if p == 0 {
			v.Add(fmt.Sprintf("%s.ports[%d]", field, i), "must be from 1 to 65535")
		}
	}
}
