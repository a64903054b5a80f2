package main

import (
	"log/slog"
	"net"
	"net/netip"
	"strconv"

	"github.com/edgeward/edgeward/core/acl"
	"github.com/edgeward/edgeward/core/identity"
	"github.com/edgeward/edgeward/core/overlay"
	"github.com/edgeward/edgeward/core/tunnel"
	"github.com/edgeward/edgeward/hw/dns"
	"github.com/edgeward/edgeward/hw/wg"
)

// dataPlane is the WireGuard device, the overlay's DNS server and the
// filter that enforces the policies, as far as the kernel lets them run.
type dataPlane struct {
	dev    *wg.Device
	dns    *dns.Server
	filter tunnel.Filter
	// why says what does not run, for the status route and the dashboard.
	why string
}

func (d *dataPlane) device() tunnel.Device {
	if d.dev == nil {
		return nil // a typed nil would look like a device
	}
	return d.dev
}

// dnsAddr is the overlay's resolver for client configs; invalid when the
// DNS server does not run.
func (d *dataPlane) dnsAddr() netip.Addr {
	if d.dns == nil {
		return netip.Addr{}
	}
	return d.dns.Addr().Addr()
}

func (d *dataPlane) close() {
	if d.dns != nil {
		_ = d.dns.Close()
	}
	if d.dev != nil {
		_ = d.dev.Close()
	}
}

// openDataPlane brings up the WireGuard interface in namespace fd with the
// gateway's key and overlay address, and the DNS server on that address.
// Nothing here is fatal: without CAP_NET_ADMIN or TUN the API keeps
// working and the plane says why it does not.
func openDataPlane(cfg config, node identity.Node, ov *overlay.Service, fw acl.Firewall, fd int, log *slog.Logger) *dataPlane {
	d := &dataPlane{}
	if cfg.WGInterface == "" {
		d.why = "no WireGuard interface configured (--wg-interface is empty)"
		return d
	}
	if f, ok := fw.(tunnel.Filter); ok {
		d.filter = f
	}
	gw := ov.Gateway()
	dev, err := wg.Open(wg.Options{
		Name: cfg.WGInterface, NetNS: fd, PrivateKey: node.Private, ListenPort: int(cfg.WGPort),
		Address: netip.PrefixFrom(gw, ov.Network().Bits()), Mode: cfg.WGMode,
		Log: log,
	})
	if err != nil {
		d.why = "WireGuard device not running: " + err.Error()
		log.Warn("data plane unavailable: peers are recorded but cannot connect", "err", err)
		return d
	}
	d.dev = dev
	srv, err := dns.Serve(dns.Options{
		Addr: netip.AddrPortFrom(gw, 53), NetNS: fd, Domain: cfg.DNSDomain, Allowed: ov.Network(), Names: ov,
		Upstreams: upstreams(cfg), Log: log,
	})
	if err != nil {
		d.why = "overlay DNS not running: " + err.Error()
		log.Warn("overlay DNS unavailable", "err", err)
	} else {
		d.dns = srv
	}
	if d.filter == nil && d.why == "" {
		d.why = "policies are not enforced: the kernel firewall is unavailable"
	}
	return d
}

// upstreams is where the overlay's DNS forwards names outside its domain:
// --dns-upstream, else the nameservers of the resolver file, read at each
// query so that a DHCP lease's DNS is followed.
func upstreams(cfg config) func() []string {
	if len(cfg.DNSUpstream) > 0 {
		return func() []string { return cfg.DNSUpstream }
	}
	path := cfg.ResolvConf
	if path == "" {
		path = "/etc/resolv.conf"
	}
	return func() []string { return dns.ResolvConf(path) }
}

// overlayServices are what peers may reach on the gateway itself: its DNS,
// echo, and the API when --listen includes the overlay address.
func overlayServices(cfg config, gw netip.Addr) []tunnel.Service {
	out := []tunnel.Service{
		{Protocol: tunnel.ProtoUDP, Ports: tunnel.PortRange{First: 53, Last: 53}},
		{Protocol: tunnel.ProtoTCP, Ports: tunnel.PortRange{First: 53, Last: 53}},
		{Protocol: tunnel.ProtoICMP},
	}
	host, port, err := net.SplitHostPort(cfg.Listen)
	n, perr := strconv.ParseUint(port, 10, 16)
	if err != nil || perr != nil || n == 0 {
		return out
	}
	a, err := netip.ParseAddr(host)
	if host == "" || (err == nil && (a.IsUnspecified() || a.Unmap() == gw)) {
		out = append(out, tunnel.Service{Protocol: tunnel.ProtoTCP, Ports: tunnel.PortRange{First: uint16(n), Last: uint16(n)}})
	}
	return out
}

// excluded lists the keys of peers banned or greylisted by their P2P id:
// they are kept off the device.
func excluded(ov *overlay.Service, guard *acl.Service) func() []string {
	return func() []string {
		var out []string
		add := func(id string) {
			if p, err := ov.ByPeerID(id); err == nil {
				out = append(out, p.PublicKey)
			}
		}
		bans, _ := guard.PeerBans(0)
		for _, b := range bans {
			if guard.Peer(b.Target).Banned {
				add(b.Target)
			}
		}
		for _, id := range guard.GreylistedPeers() {
			add(id)
		}
		return out
	}
}
