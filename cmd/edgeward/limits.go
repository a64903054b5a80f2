package main

import (
	"log/slog"
	"net"
	"syscall"

	"github.com/edgeward/edgeward/hw/connlimit"
)

// fdReserve is the descriptors kept back from connections for the store's
// files, the kernel sockets (netlink, WireGuard, DNS) and backups.
const fdReserve = 128

// raiseFileLimit raises the soft RLIMIT_NOFILE to the hard one (Go does
// this too since 1.19; doing it here makes the value known and logged)
// and returns the soft limit in force.
func raiseFileLimit(log *slog.Logger) uint64 {
	var r syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &r); err != nil {
		log.Warn("read open file limit", "err", err)
		return 0
	}
	if r.Cur < r.Max {
		r.Cur = r.Max
		if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &r); err != nil {
			log.Warn("raise open file limit", "err", err)
			_ = syscall.Getrlimit(syscall.RLIMIT_NOFILE, &r)
		}
	}
	log.Info("open file limit", "nofile", r.Cur, "hard", r.Max)
	return r.Cur
}

// connLimits are the connection limits for a file limit of nofile: the
// flags when given, else all descriptors but fdReserve (half of them on a
// very low limit), at most 4096.
func connLimits(cfg config, nofile uint64) connlimit.Limits {
	lim := connlimit.Limits{Total: cfg.MaxConns, PerSource: cfg.MaxConnsPerSource}
	if lim.Total == 0 && nofile > 0 {
		n := nofile / 2
		if nofile > 2*fdReserve {
			n = nofile - fdReserve
		}
		lim.Total = int(min(n, 4096))
	}
	return lim
}

// limitListener wraps the API's listener with the connection limits.
func limitListener(ln net.Listener, lim connlimit.Limits, log *slog.Logger) net.Listener {
	log.Info("connection limits", "max_conns", lim.Total, "max_conns_per_source", lim.PerSource)
	return connlimit.New(ln, lim, log.With("component", "hw/connlimit"))
}
