package dhcp

import (
	"log/slog"
	"time"
)

// Options configures a Client.
type Options struct {
	// Iface names the link to run DHCP on. Required.
	Iface string
	// NetNS is an open descriptor of the network namespace Iface lives in;
	// 0 means the caller's own. The caller keeps it open while the Client
	// runs and closes it afterwards.
	NetNS int
	// OnLease, if set, is called from Run's goroutine after each lease is
	// applied to the kernel (acquired, renewed or rebound), and with the
	// zero Lease when the client no longer holds one (NAK, expiry, stop).
	// It must not block for long: renewals wait for it.
	OnLease func(Lease)
	// Log receives state changes; nil discards them.
	Log *slog.Logger
	// Timeout is how long one exchange waits for the server's first reply
	// before sending again (the wait doubles on each of three tries). Zero
	// means 5s.
	Timeout time.Duration
}
