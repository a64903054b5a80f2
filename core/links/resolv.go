package links

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"slices"
	"strings"

	"github.com/edgeward/edgeward/core/durable"
)

// resolvHeader opens the resolver file, so that whoever edits it by hand
// learns where it comes from.
const resolvHeader = "# written by edgeward from the network config; edit that instead\n"

// resolv renders the DNS settings of every network, in interface and
// network order, without repeats.
func (s *Service) resolv() []byte {
	// Leases come first: a DHCP network's DNS is what its server says.
	servers, search := s.leaseDNS()
	for _, id := range s.ids() {
		r, err := s.get(id)
		if err != nil {
			continue
		}
		for _, n := range r.Networks {
			for _, x := range n.DNSServers {
				if !slices.Contains(servers, x) {
					servers = append(servers, x)
				}
			}
			for _, x := range n.DNSSearchDomains {
				if !slices.Contains(search, x) {
					search = append(search, x)
				}
			}
		}
	}
	var b bytes.Buffer
	b.WriteString(resolvHeader)
	for _, x := range servers {
		fmt.Fprintf(&b, "nameserver %s\n", x)
	}
	if len(search) > 0 {
		fmt.Fprintf(&b, "search %s\n", strings.Join(search, " "))
	}
	return b.Bytes()
}

// writeResolv replaces the resolver file atomically: a reader sees the old
// file or the new one, also across a power cut.
func (s *Service) writeResolv() error {
	if s.cfg.ResolvConf == "" {
		return nil
	}
	want := s.resolv()
	if have, err := os.ReadFile(s.cfg.ResolvConf); err == nil && bytes.Equal(have, want) {
		return nil // no needless flash writes
	}
	return durable.WriteFile(s.cfg.ResolvConf, want, 0o644)
}

// readResolv reads the nameservers and search domains the node uses. A
// missing file gives none.
func readResolv(path string) (servers, search []string) {
	if path == "" {
		return nil, nil
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, nil
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) < 2 || strings.HasPrefix(fields[0], "#") || strings.HasPrefix(fields[0], ";") {
			continue
		}
		switch fields[0] {
		case "nameserver":
			servers = append(servers, fields[1])
		case "search":
			search = fields[1:]
		case "domain":
			if search == nil {
				search = fields[1:2]
			}
		}
	}
	return servers, search
}
