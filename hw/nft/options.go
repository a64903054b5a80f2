package nft

import "log/slog"

// Options configures a Firewall.
type Options struct {
	// NetNS is an open file descriptor of the network namespace to
	// program; 0 means the caller's namespace. The caller keeps it open
	// until Close.
	NetNS int
	// Log receives the adapter's few state changes; nil discards them.
	Log *slog.Logger
}
