package nft

import (
	"context"
	"errors"
	"fmt"

	"github.com/edgeward/edgeward/core"
	"github.com/edgeward/edgeward/core/acl"
	"github.com/google/nftables"
	"golang.org/x/sys/unix"
)

// maxTxElements caps the element operations of one Apply transaction.
// Larger deltas (a bulk import) go in several transactions: the kernel
// commits mid-sized transactions faster than large ones. Measured on 6.18
// with 100,000 elements: fresh adds took 85-98 ms in transactions of 8k,
// 90-110 ms of 16k and about 150 ms of 64k; re-adds (three operations an
// element) 250-260 ms at 8k-16k, 310 ms at 64k and 690 ms in one. The
// process also holds one smaller batch in memory at a time.
const maxTxElements = 1 << 13

// deltaPlan is a validated Delta.
type deltaPlan struct {
	removes *groups
	nets    map[string][]nftables.SetElement // nil: interval sets unchanged
	adds    *groups
	fresh   *groups // plain adds of elements the caller knows are absent
}

// Apply changes elements: removes first, then the interval sets when
// d.Nets is set (flushed and refilled with the merged prefixes), then adds.
// Everything goes in one transaction unless the delta has more than 65,536
// element operations. Every add is sent as add, delete, add of the same
// element in one transaction, so that a re-add always restarts the timeout,
// turns a temporary element permanent and the other way round, on every
// kernel.
//
// Removing an element the kernel no longer holds (its timeout ran out) is
// not an error: the removes are then retried in parts, and the elements
// that are gone are skipped. When a greylist set is full, the delta is
// applied without its greylist additions, and a warning is logged.
// Before the first Install, and when the table or a set is missing, Apply
// returns an error matching core.ErrNotFound: Install repairs that.
func (f *Firewall) Apply(ctx context.Context, d acl.Delta) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.ready(); err != nil {
		return err
	}
	if f.lay == nil {
		return fmt.Errorf("apply: table inet %s not installed by this process: %w", TableName, core.ErrNotFound)
	}
	p, err := f.planDelta(d)
	if err != nil {
		return fmt.Errorf("apply: %w", err)
	}
	err = f.applyPlan(ctx, p)
	if err != nil && errors.Is(err, unix.ENOENT) {
		if perr := f.setsPresent(ctx); perr != nil {
			err = perr // the table or a set is gone: only Install helps
		}
	}
	if err != nil {
		return fmt.Errorf("apply: %w", mapErr(err))
	}
	return nil
}

func (f *Firewall) planDelta(d acl.Delta) (*deltaPlan, error) {
	adds, err := f.lay.elementGroups(d.Add)
	if err != nil {
		return nil, err
	}
	removes, err := f.lay.elementGroups(d.Remove)
	if err != nil {
		return nil, err
	}
	fresh, err := f.lay.elementGroups(d.Fresh)
	if err != nil {
		return nil, err
	}
	p := &deltaPlan{removes: removes, adds: adds, fresh: fresh}
	if d.Nets != nil {
		if p.nets, err = f.lay.netElements(d.Nets.Trust, d.Nets.BanNets); err != nil {
			return nil, err
		}
	}
	return p, nil
}

// applyPlan sends p; when the kernel refuses it because a set is full and
// p adds to a greylist set, it sends p again without those additions.
func (f *Firewall) applyPlan(ctx context.Context, p *deltaPlan) error {
	err := f.send(ctx, p)
	if err == nil || !errors.Is(err, unix.ENFILE) {
		return err
	}
	grey := p.adds.count(setGrey4) + p.adds.count(setGrey6) + p.fresh.count(setGrey4) + p.fresh.count(setGrey6)
	if grey == 0 {
		return fmt.Errorf("a set is full: %w", err)
	}
	rest := *p
	rest.adds = p.adds.without(setGrey4, setGrey6)
	rest.fresh = p.fresh.without(setGrey4, setGrey6)
	if err := f.send(ctx, &rest); err != nil {
		return err
	}
	f.log.Warn("greylist set full: entries not added", "count", grey)
	return nil
}

// send queues p and commits it, in several transactions when it
// holds more than maxTxElements elements. Callers hold mu.
func (f *Firewall) send(ctx context.Context, p *deltaPlan) error {
	tx := &txWriter{f: f, ctx: ctx}
	for _, g := range p.removes.order {
		tx.group(g, opRemove)
	}
	for _, name := range netSets {
		if p.nets != nil {
			tx.flushSet(f.lay.sets[name])
			_ = encodeSet(f.lay.sets[name], p.nets[name], func(data []byte, n int) error {
				tx.queue(data, n, opAdd)
				return tx.err
			})
		}
	}
	for _, g := range p.fresh.order {
		tx.group(g, opAdd)
	}
	for _, g := range p.adds.order {
		tx.group(g, opRefresh)
	}
	return tx.commit()
}

type elemOp int

const (
	opAdd elemOp = iota
	// opRemove adds and then deletes: the add makes sure the delete finds
	// the element, so removing one that already expired (or that someone
	// deleted) never fails the transaction. A failed element delete would
	// abort the whole batch, and from kernel 6.18 a batch with thousands
	// of them is answered with more errors than the socket holds.
	opRemove
	// opRefresh adds, deletes and adds again in one transaction: the
	// first add makes sure the delete finds the element, the last one
	// creates it afresh with the new timeout. A plain re-add is not enough
	// on any kernel: before 6.12 it changes nothing, and from 6.12 on it
	// restarts the timeout only when the new timeout differs from the old
	// one (v0.3.0 of the library cannot send NFTA_SET_ELEM_EXPIRATION), and
	// it never gives a permanent element a timeout.
	opRefresh
)

// txWriter queues element messages and commits whenever a transaction
// reaches maxTxElements elements. It keeps the first error and then does
// nothing more.
type txWriter struct {
	f      *Firewall
	ctx    context.Context
	n      int // elements queued since the last commit
	queued bool
	err    error
}

// group queues g's elements chunk by chunk.
func (t *txWriter) group(g *group, op elemOp) {
	_ = g.encode(op == opRemove, func(data []byte, n int) error {
		t.queue(data, n, op)
		return t.err
	})
}

// queue queues one chunk of n elements (at most chunkSize), encoded by
// elemWriter. The messages of an op share the one body.
func (t *txWriter) queue(data []byte, n int, op elemOp) {
	if t.err != nil {
		return
	}
	f := t.f
	switch op {
	case opAdd:
		t.err = f.queueElems(unix.NFT_MSG_NEWSETELEM, data)
	case opRemove:
		t.err = errors.Join(f.queueElems(unix.NFT_MSG_NEWSETELEM, data), f.queueElems(unix.NFT_MSG_DELSETELEM, data))
	case opRefresh:
		t.err = errors.Join(f.queueElems(unix.NFT_MSG_NEWSETELEM, data), f.queueElems(unix.NFT_MSG_DELSETELEM, data),
			f.queueElems(unix.NFT_MSG_NEWSETELEM, data))
	}
	t.queued = true
	t.n += n
	switch op {
	case opRemove:
		t.n += n
	case opRefresh:
		t.n += 2 * n
	}
	if t.err == nil && t.n >= maxTxElements {
		t.err = t.commit()
	}
}

func (t *txWriter) flushSet(s *nftables.Set) {
	if t.err == nil {
		t.f.q.FlushSet(s)
		t.queued = true
	}
}

func (t *txWriter) commit() error {
	if t.err != nil {
		t.f.reconnect() // drop what was queued
		return t.err
	}
	if !t.queued {
		return nil
	}
	err := t.f.commit(t.ctx, t.n*elementBytes+batchOverhead, false)
	t.n, t.queued = 0, false
	return err
}

// setsPresent returns an error matching core.ErrNotFound when the table or
// one of its sets is missing. Callers hold mu.
func (f *Firewall) setsPresent(ctx context.Context) error {
	why, err := f.structure(ctx)
	if err != nil {
		return err
	}
	if why != "" {
		return fmt.Errorf("%s: %w", why, core.ErrNotFound)
	}
	return nil
}
