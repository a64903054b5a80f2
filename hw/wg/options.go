package wg

import (
	"log/slog"
	"net/netip"

	"github.com/edgeward/edgeward/core"
	"github.com/edgeward/edgeward/core/wgkey"
)

// Modes of Options.Mode and of Device.Mode.
const (
	// ModeAuto uses the kernel module when the kernel can create a
	// wireguard link, the embedded device otherwise.
	ModeAuto = "auto"
	// ModeKernel is the kernel's WireGuard.
	ModeKernel = "kernel"
	// ModeUserspace is the embedded wireguard-go device on a TUN interface.
	ModeUserspace = "userspace"
)

// DefaultMTU leaves room for WireGuard's 80 bytes of IPv6 and UDP
// encapsulation within a 1500-byte path.
const DefaultMTU = 1420

// Options configures Open.
type Options struct {
	// Name is the interface's name, such as "wg0": at most 15 bytes, no
	// slash, colon or space. It names the UAPI socket too, whose directory
	// is shared by every namespace: two devices may not share a name even
	// in different namespaces.
	Name string
	// NetNS is an open file descriptor of the network namespace to create
	// the interface in; 0 means the process's own. Open keeps a duplicate,
	// so the caller may close its descriptor once Open returns.
	NetNS int
	// PrivateKey is the gateway's key; it may not be zero.
	PrivateKey wgkey.Key
	// ListenPort is the UDP port; 0 lets the kernel choose one
	// (Device.ListenPort tells which).
	ListenPort int
	// Address is the gateway's overlay address with the overlay's prefix
	// length, such as 100.64.0.1/10: the link gets it, and the prefix
	// becomes the overlay's connected route.
	Address netip.Prefix
	// MTU of the interface; 0 means DefaultMTU.
	MTU int
	// Mode is ModeAuto, ModeKernel or ModeUserspace; "" means ModeAuto.
	Mode string
	// Log receives the device's state changes and the embedded device's
	// messages (its verbose ones at debug level); nil discards them.
	Log *slog.Logger
}

// check refuses options Open cannot use, with errors matching
// core.ErrInvalid, and fills in the defaults.
func (o *Options) check() error {
	v := &core.ValidationError{}
	if err := checkName(o.Name); err != "" {
		v.Add("name", "%s", err)
	}
	if o.PrivateKey == (wgkey.Key{}) {
		v.Add("private_key", "must not be zero")
	}
	if o.ListenPort < 0 || o.ListenPort > 65535 {
		v.Add("listen_port", "must be 0 to 65535, got %d", o.ListenPort)
	}
	if !o.Address.IsValid() || o.Address.Addr().IsUnspecified() || o.Address.Addr().Zone() != "" {
		v.Add("address", "must be an address with a prefix length, such as 100.64.0.1/10")
	}
	if o.MTU == 0 {
		o.MTU = DefaultMTU
	}
	minMTU := 68
	if o.Address.Addr().Is6() {
		minMTU = 1280 // IPv6 refuses smaller links
	}
	if o.MTU < minMTU || o.MTU > 65535 {
		v.Add("mtu", "must be %d to 65535, got %d", minMTU, o.MTU)
	}
	switch o.Mode {
	case "":
		o.Mode = ModeAuto
	case ModeAuto, ModeKernel, ModeUserspace:
	default:
		v.Add("mode", "must be %q, %q or %q, got %q", ModeAuto, ModeKernel, ModeUserspace, o.Mode)
	}
	if o.Log == nil {
		o.Log = slog.New(slog.DiscardHandler)
	}
	return v.Err()
}

// checkName applies the kernel's rules for interface names (dev_valid_name)
// and keeps to printable ASCII, as the name is also a file name; it
// returns what is wrong, or "".
func checkName(name string) string {
	switch {
	case name == "":
		return "must not be empty"
	case len(name) > 15:
		return "must be at most 15 bytes"
	case name == "." || name == "..":
		return "must not be . or .."
	}
	for _, c := range []byte(name) {
		if c <= ' ' || c >= 0x7f || c == '/' || c == ':' {
			return "must be printable ASCII without slash, colon or space"
		}
	}
	return ""
}
