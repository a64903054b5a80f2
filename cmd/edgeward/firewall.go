package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net/netip"
	"os"
	"path/filepath"

	"github.com/edgeward/edgeward/core/acl"
	"github.com/edgeward/edgeward/hw/nft"
	"github.com/edgeward/edgeward/hw/nic"
)

// openFirewall opens the nftables adapter in the configured namespace. A
// firewall that cannot be opened (no CAP_NET_ADMIN, no nf_tables) is not
// fatal: the appliance records everything and says why it cannot enforce.
func openFirewall(cfg config, log *slog.Logger) (acl.Firewall, string, func()) {
	fd, closeNS := 0, func() {}
	if cfg.NetNS != "" {
		f, err := os.Open(filepath.Join("/run/netns", cfg.NetNS))
		if err != nil {
			return nil, fmt.Sprintf("network namespace %q: %v", cfg.NetNS, err), closeNS
		}
		fd, closeNS = int(f.Fd()), func() { f.Close() }
	}
	fw, err := nft.New(nft.Options{NetNS: fd, Log: log})
	if err != nil {
		log.Warn("kernel firewall unavailable: the ACL is recorded but not enforced", "err", err)
		closeNS()
		return nil, "kernel firewall unavailable: " + err.Error(), func() {}
	}
	return fw, "", func() {
		_ = fw.Close()
		closeNS()
	}
}

// ownAddrs are the gateway's own addresses: the overlay gateway's and
// each link's as they are at start, with the links' default routers in
// routers. A link list that cannot be read leaves the overlay's (the log
// says so).
func ownAddrs(ctx context.Context, gw netip.Addr, k *nic.NIC, log *slog.Logger) (own, routers []netip.Prefix) {
	own = []netip.Prefix{host(gw)}
	ls, err := k.Links(ctx)
	if err != nil {
		log.Warn("read the links' addresses for the firewall's protected addresses", "err", err)
		return own, nil
	}
	for _, l := range ls {
		for _, a := range l.Addrs {
			own = append(own, host(a.Prefix.Addr()))
		}
		for _, g := range []netip.Addr{l.GatewayV4, l.GatewayV6} {
			if g.IsValid() {
				routers = append(routers, host(g))
			}
		}
	}
	return own, routers
}

// neverGrey lists what the firewall must never greylist: loopback, the
// gateway's own addresses, its default routers, its DNS upstreams and
// --never-greylist.
func neverGrey(cfg config, own, routers []netip.Prefix) []netip.Prefix {
	out := []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8"), netip.MustParsePrefix("::1/128")}
	out = append(append(append(out, own...), routers...), cfg.NeverGreylist...)
	for _, u := range cfg.DNSUpstream {
		if ap, err := netip.ParseAddrPort(u); err == nil {
			out = append(out, host(ap.Addr()))
		}
	}
	return out
}

func host(a netip.Addr) netip.Prefix {
	a = a.Unmap()
	return netip.PrefixFrom(a, a.BitLen())
}

// firewallRemove deletes edgeward's nftables table, for an uninstall or a
// workstation after "make run". The server must be stopped: a running
// one puts the table back. An absent table is not an error.
func firewallRemove(args []string, stderr io.Writer) error {
	fs := flag.NewFlagSet("firewall remove", flag.ContinueOnError)
	fs.SetOutput(stderr)
	ns := fs.String("netns", "", "network namespace (a name under /run/netns) to remove the table from; default its own")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	fd := 0
	if *ns != "" {
		f, err := os.Open(filepath.Join("/run/netns", *ns))
		if err != nil {
			return fmt.Errorf("network namespace %q: %w", *ns, err)
		}
		defer f.Close()
		fd = int(f.Fd())
	}
	removed, err := nft.Remove(fd)
	if err != nil {
		return fmt.Errorf("remove firewall table: %w", err)
	}
	if removed {
		fmt.Fprintf(stderr, "removed table inet %s\n", nft.TableName)
	} else {
		fmt.Fprintf(stderr, "no table inet %s: nothing to remove\n", nft.TableName)
	}
	return nil
}
