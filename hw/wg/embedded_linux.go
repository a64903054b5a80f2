package wg

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"sync/atomic"

	"github.com/edgeward/edgeward/core"
	"github.com/edgeward/edgeward/hw/netns"
	"github.com/edgeward/edgeward/hw/nic"
	"golang.org/x/sys/unix"
	"golang.zx2c4.com/wireguard/conn"
	"golang.zx2c4.com/wireguard/device"
	"golang.zx2c4.com/wireguard/ipc"
	"golang.zx2c4.com/wireguard/tun"
)

// uapiDir is where wireguard-go, wg(8) and wgctrl keep the UAPI sockets.
const uapiDir = "/var/run/wireguard"

// embedded is the wireguard-go device on its TUN interface, and the UAPI
// listener through which wg(8) and wgctrl configure it.
type embedded struct {
	dev     *device.Device
	tun     *nsTUN
	uapi    net.Listener
	done    chan struct{} // closed when the accept loop ends
	closing atomic.Bool
	log     *slog.Logger
}

// openEmbedded creates the TUN interface name in the namespace fd (0:
// ours) and starts a device on it, without a key, answering on its UAPI
// socket. The device may come up at once: the TUN reports itself up as
// soon as it exists, whatever the link's state.
//
// Everything of the device that creates a socket or an interface must do
// so in the namespace, as a socket keeps the namespace of the thread that
// made it, and Go runs the device's goroutines on threads of the process's
// own. CreateTUN runs there, so the interface and the TUN's netlink
// listener belong to it; the UDP sockets and the MTU reads are made there
// by nsBind and nsTUN.
func openEmbedded(fd int, name string, mtu int, log *slog.Logger) (*embedded, error) {
	if _, err := os.Stat("/dev/net/tun"); err != nil {
		return nil, fmt.Errorf("embedded device needs /dev/net/tun (load the tun module, or give the container the device): %w",
			withKind(core.ErrUnsupported, err))
	}
	sock := uapiDir + "/" + name + ".sock"
	if c, err := net.Dial("unix", sock); err == nil {
		_ = c.Close()
		return nil, fmt.Errorf("a device named %q already answers on %s: %w", name, sock, core.ErrConflict)
	}
	var t *nsTUN
	err := netns.Do(fd, func() error {
		dev, err := tun.CreateTUN(name, mtu)
		if err != nil {
			return err
		}
		s, err := unix.Socket(unix.AF_INET, unix.SOCK_DGRAM|unix.SOCK_CLOEXEC, 0)
		if err != nil {
			_ = dev.Close()
			return err
		}
		t = &nsTUN{Device: dev, sock: os.NewFile(uintptr(s), "mtu ioctl socket")}
		return nil
	})
	if err != nil {
		if errors.Is(err, unix.EBUSY) || errors.Is(err, unix.EINVAL) {
			return nil, fmt.Errorf("create tun: interface %q exists and is not a free TUN: %w", name, withKind(core.ErrConflict, err))
		}
		return nil, fmt.Errorf("create tun: %w", nic.KernelErr(err))
	}
	e := &embedded{tun: t, done: make(chan struct{}), log: log}
	e.dev = device.NewDevice(t, &nsBind{Bind: conn.NewDefaultBind(), netns: fd}, wgLogger(log))
	f, err := ipc.UAPIOpen(name)
	if err != nil {
		e.dev.Close()
		return nil, fmt.Errorf("open uapi socket: %w", nic.KernelErr(err))
	}
	e.uapi, err = ipc.UAPIListen(name, f)
	_ = f.Close() // the listener holds its own descriptor
	if err != nil {
		e.dev.Close()
		_ = os.Remove(sock)
		return nil, fmt.Errorf("listen on uapi socket: %w", err)
	}
	go e.accept()
	return e, nil
}

// accept serves UAPI connections, each on its own goroutine as
// wireguard-go's daemon does, until the listener closes: by close, or
// because someone removed the socket.
func (e *embedded) accept() {
	defer close(e.done)
	for {
		c, err := e.uapi.Accept()
		if err != nil {
			if !e.closing.Load() {
				e.log.Warn("uapi socket lost: wg(8) and the daemon can no longer configure the device", "err", err)
			}
			return
		}
		go e.dev.IpcHandle(c)
	}
}

// up brings the device up now, should the TUN not have reported itself up
// yet, so that a listen port taken by another socket fails Open rather
// than a goroutine of the device.
func (e *embedded) up() error {
	if err := e.dev.Up(); err != nil {
		if errors.Is(err, unix.EADDRINUSE) {
			return fmt.Errorf("bring device up: listen port in use: %w", withKind(core.ErrConflict, err))
		}
		return fmt.Errorf("bring device up: %w", nic.KernelErr(err))
	}
	return nil
}

// close stops serving UAPI (the listener removes its socket) and closes
// the device, which removes the TUN interface. The device waits for UAPI
// requests in flight.
func (e *embedded) close() {
	e.closing.Store(true)
	_ = e.uapi.Close()
	<-e.done
	e.dev.Close()
}

// nsBind is the device's UDP bind with its sockets in the namespace. The
// device opens it again whenever it comes up or its port changes, from
// whichever goroutine asked (the TUN's event reader, a UAPI request), so
// Open enters the namespace itself. It hides the *conn.StdNetBind from
// wireguard-go, which then starts no route listener for sticky source
// addresses (that listener's netlink socket would be opened in the
// caller's namespace too); sources are still learnt from each packet
// received.
type nsBind struct {
	conn.Bind
	netns int
}

func (b *nsBind) Open(port uint16) (fns []conn.ReceiveFunc, actual uint16, err error) {
	err = netns.Do(b.netns, func() (err error) {
		fns, actual, err = b.Bind.Open(port)
		return err
	})
	if err != nil && fns != nil {
		_ = b.Bind.Close() // opened, but the thread could not leave the namespace
		return nil, 0, err
	}
	return fns, actual, err
}

// nsTUN reads the interface's MTU through a socket of its namespace.
// tun.NativeTun opens a new socket for each read, in whatever namespace
// the calling thread is, and the device reads the MTU from its event
// goroutine each time the link changes: it would read the host's
// interface of the same name, or fail.
type nsTUN struct {
	tun.Device
	sock *os.File // AF_INET datagram socket in the namespace
}

func (t *nsTUN) MTU() (int, error) {
	name, err := t.Device.Name()
	if err != nil {
		return 0, err
	}
	ifr, err := unix.NewIfreq(name)
	if err != nil {
		return 0, err
	}
	sc, err := t.sock.SyscallConn()
	if err != nil {
		return 0, err
	}
	var ierr error
	if err := sc.Control(func(fd uintptr) { ierr = unix.IoctlIfreq(int(fd), unix.SIOCGIFMTU, ifr) }); err != nil {
		return 0, err // closed
	}
	if ierr != nil {
		return 0, fmt.Errorf("read mtu of %s: %w", name, ierr)
	}
	return int(ifr.Uint32()), nil
}

func (t *nsTUN) Close() error {
	return errors.Join(t.Device.Close(), t.sock.Close())
}

// wgLogger passes the device's messages to log: errors as warnings (most
// are about one packet or peer), the rest at debug level, formatted only
// when that level is on.
func wgLogger(log *slog.Logger) *device.Logger {
	return &device.Logger{
		Verbosef: func(format string, args ...any) {
			if log.Enabled(context.Background(), slog.LevelDebug) {
				log.Debug(fmt.Sprintf(format, args...))
			}
		},
		Errorf: func(format string, args ...any) { log.Warn(fmt.Sprintf(format, args...)) },
	}
}
