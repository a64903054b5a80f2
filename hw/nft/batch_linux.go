package nft

import (
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"time"

	"github.com/google/nftables"
	"github.com/mdlayher/netlink"
	"golang.org/x/sys/unix"
)

// A transaction is sent by the Firewall itself, not by the library's
// Flush: element messages are encoded here (v0.3.0 of the library builds
// a tree of netlink attributes per element, most of the CPU and
// allocations of a 100,000-element Install), and the library has no way
// to add a message it did not encode to its batch. The library still
// encodes everything else: its messages are queued on a recording
// connection (f.q) and taken from it, in order, whenever an element
// message is queued and before the batch is sent.

// newRecorder returns a connection whose Flush hands the messages queued
// on it to f.record instead of the kernel.
func (f *Firewall) newRecorder() {
	q, err := nftables.New(nftables.WithTestDial(f.record))
	if err != nil {
		panic(fmt.Sprintf("nft: recording connection: %v", err)) // no socket is opened: cannot fail
	}
	f.q = q
}

// record takes the library's batch as it would be sent, and acknowledges
// every message so that its Flush succeeds.
func (f *Firewall) record(req []netlink.Message) ([]netlink.Message, error) {
	if len(req) < 2 || req[0].Header.Type != netlink.HeaderType(unix.NFNL_MSG_BATCH_BEGIN) {
		return nil, nil // the library reading an ack it already got
	}
	acks := make([]netlink.Message, 0, len(req)-2)
	for _, m := range req[1 : len(req)-1] {
		// The real socket numbers them afresh.
		m.Header.Length, m.Header.Sequence, m.Header.PID = 0, 0, 0
		f.pending = append(f.pending, m)
		acks = append(acks, netlink.Message{Header: netlink.Header{Type: netlink.Error}, Data: make([]byte, 4)})
	}
	return acks, nil
}

// take moves what the library queued on f.q to f.pending. It returns the
// library's serialisation error, if any.
func (f *Firewall) take() error {
	if err := f.q.Flush(); err != nil {
		return fmt.Errorf("encode messages: %w", err)
	}
	return nil
}

// queueElems queues an element message of type typ (NFT_MSG_NEWSETELEM
// or NFT_MSG_DELSETELEM) with body data, from elemWriter.
func (f *Firewall) queueElems(typ int, data []byte) error {
	if err := f.take(); err != nil {
		return err
	}
	f.pending = append(f.pending, elemMessage(typ, data))
	return nil
}

func elemMessage(typ int, data []byte) netlink.Message {
	// The flags are the library's, Create included, so the kernel
	// treats both kinds of message exactly as before.
	return netlink.Message{Header: netlink.Header{
		Type:  netlink.HeaderType(unix.NFNL_SUBSYS_NFTABLES<<8 | typ),
		Flags: netlink.Request | netlink.Acknowledge | netlink.Create,
	}, Data: data}
}

// discard drops everything queued and not sent.
func (f *Firewall) discard() {
	f.pending = nil
	f.newRecorder() // also clears the library's sticky serialisation error
}

// flush sends f.pending as one batch on the lasting socket and reads one
// acknowledgement (or error) per message, as the library's Flush does.
func (f *Firewall) flush() error {
	if err := f.take(); err != nil {
		return err
	}
	msgs := f.pending
	f.pending = nil
	if len(msgs) == 0 {
		return nil
	}
	if f.sock == nil {
		return errors.New("no nftables socket")
	}
	b := make([]netlink.Message, 0, len(msgs)+2)
	b = append(b, batchMark(unix.NFNL_MSG_BATCH_BEGIN))
	b = append(b, msgs...)
	b = append(b, batchMark(unix.NFNL_MSG_BATCH_END))
	if _, err := f.sock.SendMessages(b); err != nil {
		return fmt.Errorf("send batch: %w", err)
	}
	var errs error
	for n := 0; n < len(msgs); {
		replies, err := f.sock.Receive()
		if err != nil {
			if errors.Is(err, os.ErrPermission) || errors.Is(err, unix.ENOBUFS) {
				return err // the kernel sends no more
			}
			errs = errors.Join(errs, err)
			n++
			continue
		}
		if len(replies) == 0 {
			break // only a fake transport runs dry
		}
		for _, m := range replies {
			if m.Header.Type == netlink.Error {
				n++
			}
		}
	}
	if errs != nil {
		return fmt.Errorf("receive acks: %w", errs)
	}
	return nil
}

func batchMark(typ int) netlink.Message {
	return netlink.Message{Header: netlink.Header{Type: netlink.HeaderType(typ), Flags: netlink.Request},
		Data: []byte{unix.AF_UNSPEC, unix.NFNETLINK_V0, 0, unix.NFNL_SUBSYS_NFTABLES}}
}

// elemWriter encodes the body of one NEWSETELEM/DELSETELEM message,
// byte for byte as v0.3.0 of the library does for elements with a key,
// optionally a timeout and an interval-end flag: the nfgenmsg header, the
// set's name, ID and table, and the nested element list, each element's
// attribute numbered from 1.
type elemWriter struct {
	b          []byte
	list       int // offset of the element list attribute
	n          int // elements written
	hasTimeout bool
}

// Attribute sizes, for sizing a message before writing it.
const (
	nlaHeader   = 4
	maxElemSize = nlaHeader + (nlaHeader + 4) + (nlaHeader + nlaHeader + maxKeyLen) + (nlaHeader + 8)
)

func newElemWriter(s *nftables.Set, n int) *elemWriter {
	w := &elemWriter{hasTimeout: s.HasTimeout}
	size := 4 + 3*nlaHeader + align(len(s.Name)+1) + 4 + align(len(s.Table.Name)+1) + nlaHeader + n*maxElemSize
	w.b = make([]byte, 0, size)
	w.b = append(w.b, byte(s.Table.Family), unix.NFNETLINK_V0, 0, 0)
	w.b = appendStrAttr(w.b, unix.NFTA_SET_ELEM_LIST_SET, s.Name)
	w.b = appendAttr(w.b, unix.NFTA_SET_ELEM_LIST_SET_ID, binary.BigEndian.AppendUint32(nil, s.ID))
	w.b = appendStrAttr(w.b, unix.NFTA_SET_ELEM_LIST_TABLE, s.Table.Name)
	w.list = len(w.b)
	w.b = appendHeader(w.b, unix.NFTA_SET_ELEM_LIST_ELEMENTS|unix.NLA_F_NESTED)
	return w
}

// add appends one element. A zero timeout, or a set without timeouts,
// writes none, as the library does.
func (w *elemWriter) add(key []byte, timeout time.Duration, intervalEnd bool) {
	w.n++
	at := len(w.b)
	w.b = appendHeader(w.b, uint16(w.n)|unix.NLA_F_NESTED)
	if intervalEnd {
		// The library sends the flags with the nested bit: kept, so the
		// bytes stay the same.
		w.b = appendAttr(w.b, unix.NFTA_SET_ELEM_FLAGS|unix.NLA_F_NESTED,
			binary.BigEndian.AppendUint32(nil, unix.NFT_SET_ELEM_INTERVAL_END))
	}
	keyAt := len(w.b)
	w.b = appendHeader(w.b, unix.NFTA_SET_ELEM_KEY|unix.NLA_F_NESTED)
	w.b = appendAttr(w.b, unix.NFTA_DATA_VALUE, key)
	w.setLen(keyAt)
	if w.hasTimeout && timeout != 0 {
		w.b = appendHeaderLen(w.b, unix.NFTA_SET_ELEM_TIMEOUT, nlaHeader+8)
		w.b = binary.BigEndian.AppendUint64(w.b, uint64(timeout.Milliseconds()))
	}
	w.setLen(at)
}

// bytes returns the finished body.
func (w *elemWriter) bytes() []byte {
	w.setLen(w.list)
	return w.b
}

// setLen writes the length of the attribute starting at off: everything
// after it so far.
func (w *elemWriter) setLen(off int) {
	binary.NativeEndian.PutUint16(w.b[off:], uint16(len(w.b)-off))
}

func align(n int) int { return (n + 3) &^ 3 }

func appendHeader(b []byte, typ uint16) []byte { return appendHeaderLen(b, typ, 0) }

func appendHeaderLen(b []byte, typ uint16, n int) []byte {
	b = binary.NativeEndian.AppendUint16(b, uint16(n))
	return binary.NativeEndian.AppendUint16(b, typ)
}

// appendAttr appends a complete attribute, padded to 4 bytes.
func appendAttr(b []byte, typ uint16, data []byte) []byte {
	b = appendHeaderLen(b, typ, nlaHeader+len(data))
	b = append(b, data...)
	return append(b, make([]byte, align(len(data))-len(data))...)
}

func appendStrAttr(b []byte, typ uint16, s string) []byte {
	b = appendHeaderLen(b, typ, nlaHeader+len(s)+1)
	b = append(b, s...)
	return append(b, make([]byte, align(len(s)+1)-len(s))...)
}
