package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net/netip"
	"strings"
	"time"
)

// config is everything serve is told on its command line.
type config struct {
	Listen            string         `json:"listen"`
	Data              string         `json:"data"`
	Overlay           netip.Prefix   `json:"overlay"`
	DNSDomain         string         `json:"dns_domain"`
	Endpoint          string         `json:"endpoint"`
	TempAccessTimeout time.Duration  `json:"temp_access_timeout"`
	LogLevel          slog.Level     `json:"log_level"`
	LogFormat         string         `json:"log_format"`
	Syslog            bool           `json:"syslog"`
	SyslogAddr        string         `json:"syslog_addr"`
	LogChunks         int            `json:"log_chunks"`
	ShutdownTimeout   time.Duration  `json:"shutdown_timeout"`
	BundleMinute      time.Duration  `json:"bundle_minute"`
	NetNS             string         `json:"netns"`
	WGPort            uint           `json:"wg_port"`
	GreyRate          uint           `json:"grey_rate"`
	GreyBase          time.Duration  `json:"grey_base"`
	GreySize          uint           `json:"grey_size"`
	ManageLinks       bool           `json:"manage_links"`
	NodeName          string         `json:"node_name"`
	ResolvConf        string         `json:"resolv_conf"`
	TLSCert           string         `json:"tls_cert"`
	TLSKey            string         `json:"tls_key"`
	TLSSelfSigned     bool           `json:"tls_self_signed"`
	WGInterface       string         `json:"wg_interface"`
	WGMode            string         `json:"wg_mode"`
	WGStale           time.Duration  `json:"wg_stale"`
	DNSUpstream       []string       `json:"dns_upstream"`
	UpdateDir         string         `json:"update_dir"`
	UpdateKey         string         `json:"update_key"`
	MaxConns          int            `json:"max_conns"`
	MaxConnsPerSource int            `json:"max_conns_per_source"`
	DiskReserve       int64          `json:"disk_reserve"`
	BundleQuota       int64          `json:"bundle_quota"`
	NeverGreylist     []netip.Prefix `json:"never_greylist"`
}

// parseServe reads serve's flags; a flag not given on the command line is
// taken from EDGEWARD_<NAME> (dashes become underscores) when set.
func parseServe(args []string, stderr io.Writer, env func(string) (string, bool)) (config, error) {
	var c config
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&c.Listen, "listen", "127.0.0.1:8080", "address the API listens on")
	fs.StringVar(&c.Data, "data", "./data", "directory of the store, tokens and bundles")
	overlay := fs.String("overlay", "100.64.0.0/10", "IPv4 prefix of the WireGuard overlay")
	fs.StringVar(&c.DNSDomain, "dns-domain", "edgeward.internal", "DNS domain of the peers' names")
	fs.StringVar(&c.Endpoint, "endpoint", "", "host:port peers dial to reach this gateway, written into client configs")
	fs.DurationVar(&c.TempAccessTimeout, "temp-access-timeout", 10*time.Minute, "how long a temporary-access peer may take to connect")
	level := fs.String("log-level", "info", "debug, info, warn or error")
	fs.StringVar(&c.LogFormat, "log-format", "text", "text or json log lines on stderr")
	fs.BoolVar(&c.Syslog, "syslog", false, "also log to the syslog daemon (severity by level); the log says so if none answers")
	fs.StringVar(&c.SyslogAddr, "syslog-addr", "", "syslog daemon with --syslog: empty for the local one (/dev/log), or unixgram:PATH, udp:HOST:PORT, tcp:HOST:PORT")
	fs.IntVar(&c.LogChunks, "log-chunks", 64, "64 KiB chunks of recent log kept in memory for debug bundles")
	fs.DurationVar(&c.ShutdownTimeout, "shutdown-timeout", 4*time.Second, "how long in-flight requests may take to finish on shutdown")
	fs.DurationVar(&c.BundleMinute, "bundle-minute", time.Minute, "length of one bundle_for_time minute (shortened only in tests)")
	fs.StringVar(&c.NetNS, "netns", "", "network namespace (a name under /run/netns) whose firewall edgeward programs; default its own")
	fs.UintVar(&c.WGPort, "wg-port", 51820, "WireGuard UDP port; it and the API port are guarded against connection floods")
	fs.UintVar(&c.GreyRate, "grey-rate", 20, "new connections per second from one source to a guarded port before the kernel greylists it")
	fs.DurationVar(&c.GreyBase, "grey-base", 10*time.Minute, "first greylisting; repeat offenders get twice as long each time, up to a day")
	fs.UintVar(&c.GreySize, "grey-size", 65536, "most addresses the kernel greylist holds (per address family)")
	fs.BoolVar(&c.ManageLinks, "manage-links", false, "manage the network interfaces (apply the config written through /v2/network/interfaces and the Interfaces page); off, they are served read-only and edgeward never changes a link")
	fs.StringVar(&c.NodeName, "node-name", "edgeward", "node name reported in interface status")
	fs.StringVar(&c.ResolvConf, "resolv-conf", "", "resolver file the networks' DNS settings are written to (e.g. /tmp/resolv.conf.d/resolv.conf.auto on OpenWrt); empty leaves DNS alone")
	fs.StringVar(&c.TLSCert, "tls-cert", "", "PEM certificate (chain) to serve HTTPS with; needs --tls-key")
	fs.StringVar(&c.TLSKey, "tls-key", "", "PEM private key of --tls-cert")
	fs.BoolVar(&c.TLSSelfSigned, "tls-self-signed", false, "serve HTTPS with a self-signed certificate made on first start (DIR/tls.crt, DIR/tls.key)")
	fs.StringVar(&c.WGInterface, "wg-interface", "wg0", "WireGuard interface the overlay's peers connect to; empty runs no data plane")
	fs.StringVar(&c.WGMode, "wg-mode", "auto", "auto (the kernel's WireGuard when it has the module, else the embedded one), kernel or userspace")
	fs.DurationVar(&c.WGStale, "wg-stale", 180*time.Second, "a peer with no handshake and no traffic for this long counts as disconnected")
	fs.StringVar(&c.UpdateDir, "update-dir", "", "directory of the A/B update slots (set by edgeward run-slot); empty: no updates")
	fs.StringVar(&c.UpdateKey, "update-key", "", "minisign public key file updates must be signed with; default the built-in key, if any")
	fs.IntVar(&c.MaxConns, "max-conns", 0, "most API connections open at once; 0: the open file limit less 128, at most 4096")
	fs.IntVar(&c.MaxConnsPerSource, "max-conns-per-source", 64, "most API connections open at once from one address; 0: no limit")
	fs.Int64Var(&c.DiskReserve, "disk-reserve", 16<<20, "bytes kept free on the data filesystem: writes that would eat into them are refused (507); 0: no reserve")
	fs.Int64Var(&c.BundleQuota, "bundle-quota", 64<<20, "most bytes of debug bundles kept on disk; the oldest are removed to make room; 0: no quota")
	never := fs.String("never-greylist", "", "comma-separated addresses or CIDRs (upstreams, the admins' LAN) the firewall never greylists, besides loopback, the gateway's own addresses, its default routers and DNS upstreams")
	upstream := fs.String("dns-upstream", "", "comma-separated resolvers (ip or ip:port) the overlay's DNS forwards other names to; empty: the nameservers of --resolv-conf or /etc/resolv.conf")
	if err := fs.Parse(args); err != nil {
		return c, err
	}
	if fs.NArg() > 0 {
		return c, fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	var errs []error
	fs.VisitAll(func(f *flag.Flag) {
		name := "EDGEWARD_" + strings.ToUpper(strings.ReplaceAll(f.Name, "-", "_"))
		if v, ok := env(name); ok && !set[f.Name] {
			if err := fs.Set(f.Name, v); err != nil {
				errs = append(errs, fmt.Errorf("%s: %w", name, err))
			}
		}
	})
	if err := errors.Join(errs...); err != nil {
		return c, err
	}
	p, err := netip.ParsePrefix(*overlay)
	if err != nil || !p.Addr().Is4() || p.Bits() > 30 {
		return c, fmt.Errorf("--overlay %q: must be an IPv4 prefix of /30 or larger", *overlay)
	}
	c.Overlay = p.Masked()
	if err := c.LogLevel.UnmarshalText([]byte(*level)); err != nil {
		return c, fmt.Errorf("--log-level %q: must be debug, info, warn or error", *level)
	}
	if c.LogFormat != "text" && c.LogFormat != "json" {
		return c, fmt.Errorf("--log-format %q: must be text or json", c.LogFormat)
	}
	if err := parseSyslogAddr(c.SyslogAddr); err != nil {
		return c, err
	}
	if c.WGPort == 0 || c.WGPort > 65535 || c.GreyRate == 0 || c.GreySize == 0 || c.GreyBase <= 0 {
		return c, fmt.Errorf("--wg-port must be 1-65535; --grey-rate, --grey-size and --grey-base must be positive")
	}
	if c.TempAccessTimeout <= 0 || c.LogChunks < 1 || c.BundleMinute <= 0 {
		return c, fmt.Errorf("--temp-access-timeout, --log-chunks and --bundle-minute must be positive")
	}
	switch c.WGMode {
	case "auto", "kernel", "userspace":
	default:
		return c, fmt.Errorf("--wg-mode %q: must be auto, kernel or userspace", c.WGMode)
	}
	if len(c.WGInterface) > 15 || strings.ContainsAny(c.WGInterface, "/ \t") {
		return c, fmt.Errorf("--wg-interface %q: must be an interface name of at most 15 characters", c.WGInterface)
	}
	if c.MaxConns < 0 || c.MaxConnsPerSource < 0 || c.DiskReserve < 0 || c.BundleQuota < 0 {
		return c, fmt.Errorf("--max-conns, --max-conns-per-source, --disk-reserve and --bundle-quota must not be negative")
	}
	if c.WGStale <= 0 {
		return c, fmt.Errorf("--wg-stale must be positive")
	}
	for _, v := range strings.Split(*never, ",") {
		if v = strings.TrimSpace(v); v == "" {
			continue
		}
		p, err := netip.ParsePrefix(v)
		if err != nil {
			a, aerr := netip.ParseAddr(v)
			if aerr != nil {
				return c, fmt.Errorf("--never-greylist %q: want an address or CIDR", v)
			}
			p = netip.PrefixFrom(a.Unmap(), a.Unmap().BitLen())
		}
		c.NeverGreylist = append(c.NeverGreylist, p.Masked())
	}
	for _, u := range strings.Split(*upstream, ",") {
		u = strings.TrimSpace(u)
		if u == "" {
			continue
		}
		if a, err := netip.ParseAddr(u); err == nil {
			u = netip.AddrPortFrom(a, 53).String()
		} else if _, err := netip.ParseAddrPort(u); err != nil {
			return c, fmt.Errorf("--dns-upstream %q: want ip or ip:port", u)
		}
		c.DNSUpstream = append(c.DNSUpstream, u)
	}
	if (c.TLSCert == "") != (c.TLSKey == "") || (c.TLSCert != "" && c.TLSSelfSigned) {
		return c, fmt.Errorf("--tls-cert and --tls-key go together, and not with --tls-self-signed")
	}
	return c, nil
}
