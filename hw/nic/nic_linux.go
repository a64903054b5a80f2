package nic

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"sync"
	"time"

	"github.com/edgeward/edgeward/hw/netns"

	"github.com/edgeward/edgeward/core"
	"github.com/edgeward/edgeward/core/links"
	"github.com/jsimonetti/rtnetlink/v2"
	"github.com/mdlayher/ethtool"
	"github.com/mdlayher/netlink"
	"golang.org/x/sys/unix"
)

// NIC is links.Kernel for one network namespace: rtnetlink for links,
// counters, addresses and routes, ethtool for speed, duplex and link
// detection. It is safe for concurrent use; calls run one at a time, as
// they share one rtnetlink socket whose read deadline comes from the
// caller's ctx. ethtool requests take no deadline: the kernel answers them
// at once, it does not wait on the network. A call ended by its ctx
// returns an error matching ctx.Err(); calls after Close return one
// matching net.ErrClosed.
type NIC struct {
	mu     sync.Mutex
	netns  int             // our duplicate of Options.NetNS; 0: the process's own
	rt     *rtnetlink.Conn // nil after a call was cut short; the next call dials again
	eth    *ethtool.Client // nil when the kernel has no ethtool netlink family
	closed bool
}

var _ links.Kernel = (*NIC)(nil)

// New opens the rtnetlink and ethtool sockets of opts.NetNS. On kernels
// without the ethtool netlink family (before 5.6, or no generic netlink
// socket at all, as under qemu-user) links report speed,
// duplex and link detection as unknown. Entering another namespace needs
// CAP_SYS_ADMIN; errors then match core.ErrPermission.
func New(opts Options) (*NIC, error) {
	n := &NIC{}
	if opts.NetNS != 0 {
		// Kept to dial again after a cut-short call. 3 and up: 0 means "here".
		fd, err := unix.FcntlInt(uintptr(opts.NetNS), unix.F_DUPFD_CLOEXEC, 3)
		if err != nil {
			return nil, fmt.Errorf("duplicate netns descriptor: %w", KernelErr(err))
		}
		n.netns = fd
	}
	var err error
	if n.rt, err = n.dial(); err != nil {
		_ = n.Close()
		return nil, err
	}
	n.eth, err = openEthtool(n.netns)
	// EPROTONOSUPPORT: no generic netlink at all, as under qemu-user,
	// which does not translate it. Same outcome as a missing family.
	if err != nil && !errors.Is(err, os.ErrNotExist) && !errors.Is(err, unix.EPROTONOSUPPORT) {
		_ = n.Close()
		return nil, fmt.Errorf("open ethtool: %w", KernelErr(err))
	}
	return n, nil
}

// Close releases the sockets. It is idempotent; other calls fail after it
// with an error matching net.ErrClosed.
func (n *NIC) Close() error {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.closed {
		return nil
	}
	n.closed = true
	var errs []error
	if n.rt != nil {
		errs = append(errs, n.rt.Close())
		n.rt = nil
	}
	if n.eth != nil {
		errs = append(errs, n.eth.Close())
		n.eth = nil
	}
	if n.netns != 0 {
		errs = append(errs, unix.Close(n.netns))
	}
	return errors.Join(errs...)
}

// dial opens the rtnetlink socket. Strict mode lets the kernel filter
// dumps by link and table and explain refusals; kernels before 4.20 lack
// it and get a plain socket (the filters are applied here as well).
func (n *NIC) dial() (*rtnetlink.Conn, error) {
	c, err := rtnetlink.Dial(&netlink.Config{NetNS: n.netns, Strict: true})
	if errors.Is(err, unix.ENOPROTOOPT) {
		c, err = rtnetlink.Dial(&netlink.Config{NetNS: n.netns})
	}
	if err != nil {
		return nil, fmt.Errorf("dial rtnetlink: %w", KernelErr(err))
	}
	return c, nil
}

// call runs fn with the rtnetlink socket while holding n.mu. ctx's
// deadline becomes the socket's read deadline and its cancellation cuts
// the pending read short. A cut-short call may leave replies queued on the
// socket, so the socket is then dropped and the next call dials anew.
func (n *NIC) call(ctx context.Context, fn func(c *rtnetlink.Conn) error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.closed {
		return fmt.Errorf("nic: %w", net.ErrClosed)
	}
	if n.rt == nil {
		c, err := n.dial()
		if err != nil {
			return err
		}
		n.rt = c
	}
	c := n.rt
	deadline, _ := ctx.Deadline()
	if err := c.SetReadDeadline(deadline); err != nil {
		return fmt.Errorf("set netlink deadline: %w", err)
	}
	cut := make(chan struct{})
	stop := context.AfterFunc(ctx, func() {
		_ = c.SetReadDeadline(time.Unix(1, 0))
		close(cut)
	})
	err := fn(c)
	if !stop() {
		<-cut
	}
	if err != nil && (ctx.Err() != nil || errors.Is(err, os.ErrDeadlineExceeded)) {
		_ = c.Close()
		n.rt = nil
		cerr := ctx.Err()
		if cerr == nil {
			cerr = context.DeadlineExceeded
		}
		return fmt.Errorf("%w: %w", cerr, err)
	}
	return err
}

// openEthtool opens an ethtool client in the network namespace netns
// (0: here). ethtool.New has no namespace option, but a netlink socket
// belongs for life to the namespace of the thread that created it.
func openEthtool(netns int) (*ethtool.Client, error) {
	var c *ethtool.Client
	err := inNetNS(netns, func() (err error) {
		c, err = ethtool.New()
		return err
	})
	if err != nil && c != nil {
		_ = c.Close() // created, but the thread could not leave netns
		return nil, err
	}
	return c, err
}

// inNetNS runs fn inside the namespace (see netns.Do).
func inNetNS(fd int, fn func() error) error { return netns.Do(fd, fn) }

// kernelError is a kernel refusal mapped onto a core sentinel: errors.Is
// matches both, and the text stays the kernel's own.
type kernelError struct {
	kind, err error
}

func (e *kernelError) Error() string   { return e.err.Error() }
func (e *kernelError) Unwrap() []error { return []error{e.kind, e.err} }

// KernelErr maps errnos onto core's sentinels: ENODEV and ENOENT on
// ErrNotFound, EPERM and EACCES on ErrPermission, EEXIST on ErrConflict,
// EBUSY on ErrBusy, and the errnos in invalid, which mean a value the
// kernel refused in the request at hand, on ErrInvalid. Other errors are
// returned as they are. The DHCP client maps its kernel errors with it too.
func KernelErr(err error, invalid ...unix.Errno) error {
	if err == nil {
		return nil
	}
	var kind error
	switch {
	case errors.Is(err, unix.ENODEV), errors.Is(err, unix.ENOENT):
		kind = core.ErrNotFound
	case errors.Is(err, unix.EPERM), errors.Is(err, unix.EACCES):
		kind = core.ErrPermission
	case errors.Is(err, unix.EEXIST):
		kind = core.ErrConflict
	case errors.Is(err, unix.EBUSY):
		kind = core.ErrBusy
	case errors.Is(err, unix.EOPNOTSUPP):
		kind = core.ErrUnsupported
	}
	for _, e := range invalid {
		if kind == nil && errors.Is(err, e) {
			kind = core.ErrInvalid
		}
	}
	if kind == nil {
		return err
	}
	return &kernelError{kind: kind, err: err}
}
