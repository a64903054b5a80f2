package ui

import (
	"fmt"
	"net/netip"
	"strings"
)

// A group's resources are the networks behind the gateway that a policy
// with the group as destination lets its sources reach. The group form
// takes them as a textarea, one network per line; a message about one of
// them names its line, as the admin typed it.

// resourceLines is the networks field read line by line.
type resourceLines struct {
	nets []netip.Prefix
	// at is the line number (from 1) of each of nets.
	at []int
	// bad are the messages about lines that are not networks.
	bad []string
}

// parseResourceLines reads text: one network (192.168.1.0/24) or address
// (192.168.1.10, taken as /32) per line; blank lines are skipped. What is
// wrong with a network beyond its syntax (not IPv4, host bits set, inside
// the overlay) is the core's to say.
func parseResourceLines(text string) resourceLines {
	var out resourceLines
	for i, line := range strings.Split(text, "\n") {
		line = strings.TrimSpace(line)
		if line == "" {
			continue
		}
		p, err := netip.ParsePrefix(line)
		if err != nil {
			a, aerr := netip.ParseAddr(line)
			if aerr != nil {
				out.bad = append(out.bad, fmt.Sprintf("Line %d: %q is not a network such as 192.168.1.0/24.", i+1, line))
				continue
			}
			p = netip.PrefixFrom(a, a.BitLen())
		}
		out.nets = append(out.nets, p)
		out.at = append(out.at, i+1)
	}
	return out
}

// coreErrors moves the core's messages about single networks
// (resources[i]) out of fields, where formField put the first of them,
// into messages naming each one's line. A message about the list as a
// whole (too many networks) stays the field's.
func (l resourceLines) coreErrors(err error, fields map[string]string) (map[string]string, []string) {
	byPath, ok := formErrors(err)
	if !ok {
		return fields, nil
	}
	delete(fields, "resources")
	if msg := byPath["resources"]; msg != "" {
		fields["resources"] = msg
	}
	var bad []string
	for i, line := range l.at {
		if msg := byPath[fmt.Sprintf("resources[%d]", i)]; msg != "" {
			bad = append(bad, fmt.Sprintf("Line %d: %s", line, msg))
		}
	}
	return fields, bad
}

// resourcesText is nets as the form shows them, one per line.
func resourcesText(nets []netip.Prefix) string {
	lines := make([]string, len(nets))
	for i, n := range nets {
		lines[i] = n.String()
	}
	return strings.Join(lines, "\n")
}
