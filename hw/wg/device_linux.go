package wg

import (
	"bytes"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"sync"

	"github.com/edgeward/edgeward/core/tunnel"
	"github.com/edgeward/edgeward/core/wgkey"
	"github.com/edgeward/edgeward/hw/netns"
	"github.com/edgeward/edgeward/hw/nic"
	"golang.org/x/sys/unix"
	"golang.zx2c4.com/wireguard/wgctrl"
)

// Device is the gateway's WireGuard interface. It is safe for concurrent
// use; Configure and Peers run one at a time. Calls after Close return an
// error matching net.ErrClosed.
type Device struct {
	name string
	mode string
	port int
	self wgkey.Key // the device's public key: never a peer of its own
	log  *slog.Logger

	mu     sync.Mutex
	ctl    *wgctrl.Client // its sockets live in the device's namespace
	closed bool

	user  *embedded    // nil in kernel mode
	uapi  bytes.Buffer // the embedded device's state as text, reused by Peers
	netns int          // the embedded device's namespace (0: ours); closed by Close
}

var _ tunnel.Device = (*Device)(nil)

// Open creates the interface in opts.NetNS, or adopts the kernel link of
// that name left by an earlier run, with its peers. It sets the private
// key and listen port, gives the link opts.Address (and no other global
// address), sets it up and turns on forwarding in the namespace for the
// address's family: the gateway forwards between peers on the one
// interface.
//
// Errors match core.ErrInvalid for unusable options, core.ErrPermission
// without CAP_NET_ADMIN (or CAP_SYS_ADMIN to enter another namespace),
// core.ErrUnsupported in ModeKernel on a kernel without the wireguard
// module and in the other modes without /dev/net/tun, and core.ErrConflict
// when the name is taken by an interface of another kind or by a running
// embedded device.
func Open(opts Options) (*Device, error) {
	if err := opts.check(); err != nil {
		return nil, fmt.Errorf("open wireguard device: %w", err)
	}
	self, err := wgkey.Public(opts.PrivateKey)
	if err != nil {
		return nil, fmt.Errorf("open wireguard device: %w", err)
	}
	fd := 0
	if opts.NetNS != 0 {
		// Kept for the embedded device, which opens its UDP sockets
		// whenever it comes up. 3 and up: 0 means "here".
		fd, err = unix.FcntlInt(uintptr(opts.NetNS), unix.F_DUPFD_CLOEXEC, 3)
		if err != nil {
			return nil, fmt.Errorf("duplicate netns descriptor: %w", nic.KernelErr(err))
		}
	}
	d := &Device{name: opts.Name, self: self,
		log: opts.Log.With("component", "hw/wg", "interface", opts.Name)}
	if err := d.open(opts, fd); err != nil {
		if fd != 0 {
			_ = unix.Close(fd)
		}
		return nil, fmt.Errorf("open wireguard device %q: %w", opts.Name, err)
	}
	if d.user != nil {
		d.netns = fd
	} else if fd != 0 {
		_ = unix.Close(fd) // a kernel link needs no namespace after Open
	}
	d.log.Info("wireguard device up", "mode", d.mode, "listen_port", d.port, "address", opts.Address)
	return d, nil
}

// open brings the device up in mode; on error it leaves nothing behind
// but an adopted kernel link.
func (d *Device) open(opts Options, fd int) error {
	var created bool
	var err error
	switch opts.Mode {
	case ModeKernel, ModeAuto:
		created, err = addKernelLink(fd, opts.Name, opts.MTU)
		if err == nil {
			d.mode = ModeKernel
			break
		}
		if opts.Mode == ModeKernel || !errors.Is(err, errNoModule) {
			return err
		}
		d.log.Info("kernel has no wireguard module, using the embedded device")
		fallthrough
	case ModeUserspace:
		d.mode = ModeUserspace
		if d.user, err = openEmbedded(fd, opts.Name, opts.MTU, d.log); err != nil {
			return err
		}
	}
	if err = d.setup(opts, fd); err == nil {
		return nil
	}
	if d.ctl != nil {
		_ = d.ctl.Close()
	}
	if d.user != nil {
		d.user.close()
	} else if created {
		err = errors.Join(err, deleteKernelLink(fd, opts.Name))
	}
	return err
}

// setup configures the device created by open: key and port, address,
// link up, forwarding.
func (d *Device) setup(opts Options, fd int) error {
	err := netns.Do(fd, func() (err error) {
		d.ctl, err = wgctrl.New()
		return err
	})
	if err != nil {
		return fmt.Errorf("open wgctrl: %w", nic.KernelErr(err))
	}
	key := wgtypesKey(opts.PrivateKey)
	port := opts.ListenPort
	if err := d.ctl.ConfigureDevice(opts.Name, wgConfig(&key, &port, nil)); err != nil {
		return fmt.Errorf("set private key and listen port: %w", deviceErr(err))
	}
	if err := setLink(fd, opts.Name, opts.Address); err != nil {
		return err
	}
	if d.user != nil {
		if err := d.user.up(); err != nil {
			return err
		}
	}
	if err := enableForwarding(fd, opts.Address.Addr().Is6()); err != nil {
		return err
	}
	dev, err := d.ctl.Device(opts.Name)
	if err != nil {
		return fmt.Errorf("read listen port: %w", deviceErr(err))
	}
	d.port = dev.ListenPort
	return nil
}

// Mode returns ModeKernel or ModeUserspace.
func (d *Device) Mode() string { return d.mode }

// Name returns the interface's name.
func (d *Device) Name() string { return d.name }

// ListenPort returns the UDP port the device listened on when Open
// returned: the one chosen by the kernel when Options.ListenPort was 0.
func (d *Device) ListenPort() int { return d.port }

// Close releases the device. The embedded device stops, and its interface
// and UAPI socket go; a kernel link stays up with its peers, for the next
// Open to adopt. Close is idempotent.
func (d *Device) Close() error {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.closed {
		return nil
	}
	d.closed = true
	err := d.ctl.Close()
	if d.user != nil {
		d.user.close()
		if d.netns != 0 {
			err = errors.Join(err, unix.Close(d.netns))
		}
	}
	if d.user != nil {
		d.log.Info("wireguard device closed", "mode", d.mode)
	} else {
		d.log.Info("wireguard device released, the kernel link stays up", "mode", d.mode)
	}
	return err
}

// lock takes d.mu for a call on the device, or fails after Close.
func (d *Device) lock() error {
	d.mu.Lock()
	if d.closed {
		d.mu.Unlock()
		return fmt.Errorf("wireguard device %q: %w", d.name, net.ErrClosed)
	}
	return nil
}
