package dns

import (
	"bufio"
	"net/netip"
	"os"
	"slices"
	"strings"
)

// ResolvConf returns the nameservers of the resolver file at path
// (/etc/resolv.conf) as "ip:port" upstreams, port 53, in file order and
// without repeats. Local stubs such as systemd-resolved's 127.0.0.53 are
// kept: they are the host's resolver. Should the file name the gateway's
// own listening address, the Server skips it when forwarding. A missing or unreadable file, or
// one without nameservers, gives none, which the server answers with
// SERVFAIL until the file has some; the caller may read it again on each
// query (Options.Upstreams) to follow DHCP.
func ResolvConf(path string) []string {
	f, err := os.Open(path)
	if err != nil {
		return nil
	}
	defer f.Close()
	var ups []string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) < 2 || fields[0] != "nameserver" {
			continue // comments (# or ;) and other options
		}
		ip, err := netip.ParseAddr(fields[1])
		if err != nil {
			continue
		}
		up := netip.AddrPortFrom(ip.Unmap(), 53).String()
		if !slices.Contains(ups, up) {
			ups = append(ups, up)
		}
	}
	return ups
}
