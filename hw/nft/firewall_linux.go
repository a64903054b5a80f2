package nft

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/edgeward/edgeward/core"
	"github.com/edgeward/edgeward/core/acl"
	"github.com/google/nftables"
	"github.com/mdlayher/netlink"
	"github.com/mdlayher/netlink/nltest"
	"golang.org/x/sys/unix"
)

// Socket buffer sizes. The kernel answers a whole batch only after it
// processed it, one ack per message, all queued on the receive buffer at
// once: 4 MiB holds thousands of them (an ack takes about 1 KiB of buffer
// accounting). The send buffer must hold a whole batch in one sendmsg; it
// grows before a large batch (SO_SNDBUFFORCE, which needs CAP_NET_ADMIN as
// nftables writes do anyway). v0.3.0 of the library sizes neither.
const (
	recvBuffer    = 4 << 20
	initialSend   = 1 << 20
	batchOverhead = 64 << 10 // table, sets, chain and rules of an Install
)

// defaultTimeout bounds a kernel call whose context has no deadline, so a
// lost reply never blocks the writer for good.
const defaultTimeout = time.Minute

// whyOutside is Check's reason when only the generation gave a change away.
const whyOutside = "ruleset changed outside edgeward"

var errClosed = errors.New("nft firewall closed")

// Firewall drives table inet edgeward. It implements acl.Firewall. Its
// methods are safe for concurrent use; writes are serialised. Close does
// not remove the table: it keeps enforcing while the daemon restarts.
type Firewall struct {
	log  *slog.Logger
	nsFD int
	dial nltest.Func // a fake kernel in unit tests; nil for the real one

	mu      sync.Mutex
	conn    *nftables.Conn    // queries; its socket sends our batches
	q       *nftables.Conn    // records what the library encodes (see batch_linux.go)
	pending []netlink.Message // the transaction being built
	sock    *netlink.Conn     // conn's socket, caught when dialled, for deadlines and buffers
	sendBuf int               // sock's send buffer as last set
	gen     *netlink.Conn     // a second socket for NFT_MSG_GETGEN
	lay     *layout           // nil until the first Install
	pol     *overlay          // the last installed overlay policy, current members; nil: none
	genID   uint32            // the generation after our last write or Check
	drift   string            // a change noticed while writing, for the next Check
	closed  bool
}

var _ acl.Firewall = (*Firewall)(nil)

// New opens the netlink sockets into opts.NetNS and reads the ruleset
// generation. It does not touch the table: Install does. Without
// CAP_NET_ADMIN it returns an error matching core.ErrPermission.
func New(opts Options) (*Firewall, error) {
	return newFirewall(opts, nil)
}

func newFirewall(opts Options, dial nltest.Func) (*Firewall, error) {
	log := opts.Log
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	f := &Firewall{log: log.With("component", "hw/nft"), nsFD: opts.NetNS, dial: dial}
	f.newRecorder()
	if err := f.connect(); err != nil {
		return nil, fmt.Errorf("open nftables socket: %w", mapErr(err))
	}
	var err error
	if f.gen, err = f.dialGen(); err != nil {
		_ = f.conn.CloseLasting()
		return nil, fmt.Errorf("open netfilter socket: %w", mapErr(err))
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if f.genID, err = f.generation(ctx); err != nil {
		_ = f.Close()
		return nil, fmt.Errorf("read nftables generation: %w", mapErr(err))
	}
	return f, nil
}

// Close closes the sockets. The table stays in the kernel. Close is
// idempotent; other methods return an error after it.
func (f *Firewall) Close() error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.closed {
		return nil
	}
	f.closed = true
	var errs []error
	if f.conn != nil {
		errs = append(errs, f.conn.CloseLasting())
	}
	if f.gen != nil {
		errs = append(errs, f.gen.Close())
	}
	return errors.Join(errs...)
}

// connect opens a fresh lasting connection. A fresh one is also how queued
// but unsent messages are dropped, and how the library's sticky
// serialisation error is cleared.
func (f *Firewall) connect() error {
	opts := []nftables.ConnOption{nftables.AsLasting(), nftables.WithSockOptions(f.catch)}
	if f.nsFD != 0 {
		opts = append(opts, nftables.WithNetNSFd(f.nsFD))
	}
	if f.dial != nil {
		opts = append(opts, nftables.WithTestDial(f.dial))
	}
	c, err := nftables.New(opts...)
	if err != nil {
		f.conn, f.sock = nil, nil
		return err
	}
	f.conn = c
	return nil
}

// catch runs when the library dials: it keeps the socket and sizes it.
func (f *Firewall) catch(c *netlink.Conn) error {
	f.sock, f.sendBuf = c, 0
	// Without CAP_ACK the error reply to a 60 KiB element message would
	// echo all of it into the receive buffer.
	_ = c.SetOption(netlink.CapAcknowledge, true)
	// Buffer sizes are best effort: the fake transport of unit tests has
	// none, and a smaller buffer only limits the batch size.
	_ = c.SetReadBuffer(recvBuffer)
	f.growSend(initialSend)
	return nil
}

func (f *Firewall) growSend(n int) {
	if f.sock == nil || n <= f.sendBuf {
		return
	}
	if err := f.sock.SetWriteBuffer(n); err == nil {
		f.sendBuf = n
	}
}

// reconnect replaces the connection after a failed exchange, whose
// unread replies would otherwise answer the next request.
func (f *Firewall) reconnect() {
	f.discard()
	if f.conn != nil {
		_ = f.conn.CloseLasting()
	}
	if err := f.connect(); err != nil {
		f.log.Warn("reopen nftables socket", "err", err)
	}
}

// ready reports whether the Firewall can talk to the kernel. Callers hold mu.
func (f *Firewall) ready() error {
	if f.closed {
		return errClosed
	}
	if f.conn == nil {
		if err := f.connect(); err != nil {
			return fmt.Errorf("open nftables socket: %w", mapErr(err))
		}
	}
	return nil
}

// deadline applies ctx's deadline (or defaultTimeout) to c. Errors are
// ignored: the fake transport of unit tests has no deadlines.
func deadline(ctx context.Context, c *netlink.Conn) {
	d, ok := ctx.Deadline()
	if !ok {
		d = time.Now().Add(defaultTimeout)
	}
	if c != nil {
		_ = c.SetDeadline(d)
	}
}

// commit sends the queued messages as one transaction of about size bytes.
// The generation read afterwards tells whether anyone else committed since
// our last write: ours moves it by exactly one. Then the next Check reports
// drift. A reinstall forgives changes made before it.
func (f *Firewall) commit(ctx context.Context, size int, reinstall bool) error {
	if err := ctx.Err(); err != nil {
		f.reconnect() // drops the queued messages
		return err
	}
	f.growSend(size)
	deadline(ctx, f.sock)
	if err := f.flush(); err != nil {
		f.reconnect()
		return err
	}
	after, err := f.generation(ctx)
	if err != nil {
		// The transaction is in; only the bookkeeping is behind. The next
		// Check meets a generation it does not know and reports drift, and
		// the reinstall that follows is harmless.
		f.log.Warn("read nftables generation after a write", "err", err)
		return nil
	}
	switch {
	case reinstall:
		f.drift = ""
	case after != nextGen(f.genID) && f.drift == "":
		f.drift = whyOutside
	}
	f.genID = after
	return nil
}

// nextGen is the generation after one commit: the kernel skips zero.
func nextGen(g uint32) uint32 {
	if g+1 == 0 {
		return 1
	}
	return g + 1
}

func (f *Firewall) dialGen() (*netlink.Conn, error) {
	if f.dial != nil {
		return nltest.Dial(f.dial), nil
	}
	return netlink.Dial(unix.NETLINK_NETFILTER, &netlink.Config{NetNS: f.nsFD})
}

var genHeader = netlink.HeaderType(unix.NFNL_SUBSYS_NFTABLES<<8 | unix.NFT_MSG_NEWGEN)

// generation asks the kernel for the ruleset generation, which every
// committed nftables transaction (anyone's) bumps and packet-path set
// updates do not.
func (f *Firewall) generation(ctx context.Context) (uint32, error) {
	if f.gen == nil {
		var err error
		if f.gen, err = f.dialGen(); err != nil {
			return 0, err
		}
	}
	deadline(ctx, f.gen)
	msgs, err := f.gen.Execute(netlink.Message{
		Header: netlink.Header{Type: netlink.HeaderType(unix.NFNL_SUBSYS_NFTABLES<<8 | unix.NFT_MSG_GETGEN),
			Flags: netlink.Request},
		Data: []byte{unix.AF_UNSPEC, unix.NFNETLINK_V0, 0, 0},
	})
	if err != nil {
		// A late reply would answer the next request: start afresh.
		_ = f.gen.Close()
		f.gen = nil
		return 0, err
	}
	for _, m := range msgs {
		if m.Header.Type == genHeader {
			return parseGen(m.Data)
		}
	}
	return 0, errors.New("no generation in the kernel's reply")
}

// parseGen reads NFTA_GEN_ID after the nfgenmsg header.
func parseGen(b []byte) (uint32, error) {
	if len(b) < 4 {
		return 0, errors.New("short generation message")
	}
	ad, err := netlink.NewAttributeDecoder(b[4:])
	if err != nil {
		return 0, err
	}
	ad.ByteOrder = binary.BigEndian
	for ad.Next() {
		if ad.Type() == unix.NFTA_GEN_ID {
			return ad.Uint32(), nil
		}
	}
	if err := ad.Err(); err != nil {
		return 0, err
	}
	return 0, errors.New("generation message without NFTA_GEN_ID")
}

// mapErr makes a kernel EPERM match core.ErrPermission.
func mapErr(err error) error {
	if err != nil && errors.Is(err, unix.EPERM) && !errors.Is(err, core.ErrPermission) {
		return fmt.Errorf("%w: %w", core.ErrPermission, err)
	}
	return err
}
