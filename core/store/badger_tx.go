//go:build !(386 || arm || mips || mipsle || bbolt)

package store

import (
	"bytes"
	"errors"
	"fmt"
	"time"

	"github.com/dgraph-io/badger/v4"

	"github.com/edgeward/edgeward/core"
)

// tx is a core.Tx over one Badger transaction.
type tx struct {
	txn *badger.Txn
}

var _ core.Tx = tx{}

var (
	errTooBig = &core.Error{Kind: core.ErrInvalid, Msg: "change too large for one transaction"}
	// A retry usually succeeds, so ErrConflict (not ErrBusy) lets the API
	// tell the client to reload and try again.
	errConflict = &core.Error{Kind: core.ErrConflict, Msg: "changed concurrently, try again"}
)

// mapErr turns Badger's errors into core sentinels where the caller can act
// on them; the rest stay internal.
func mapErr(err error) error {
	switch {
	case errors.Is(err, badger.ErrTxnTooBig):
		// 15% of MemTableSize: about 600 KiB with the router options.
		return errTooBig
	case errors.Is(err, badger.ErrConflict):
		return errConflict
	case errors.Is(err, badger.ErrEmptyKey), errors.Is(err, badger.ErrInvalidKey):
		return fmt.Errorf("%w: %w", core.ErrInvalid, err)
	}
	return err
}

// Get returns a copy of the value, so it stays valid after the transaction.
func (t tx) Get(key []byte) ([]byte, error) {
	item, err := t.txn.Get(key)
	if errors.Is(err, badger.ErrKeyNotFound) {
		return nil, fmt.Errorf("key %q: %w", key, core.ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("get %q: %w", key, mapErr(err))
	}
	val, err := item.ValueCopy(nil)
	if err != nil {
		return nil, fmt.Errorf("read %q: %w", key, err)
	}
	return val, nil
}

// Put copies key and val: Badger keeps the slices until commit, and callers
// may reuse their buffers before that.
func (t tx) Put(key, val []byte, ttl time.Duration) error {
	e := badger.NewEntry(bytes.Clone(key), bytes.Clone(val))
	if ttl > 0 {
		// Badger truncates the expiry to whole Unix seconds and expires a key
		// when that second starts, so WithTTL(ttl) can live up to a second
		// less than ttl (a 500ms TTL may expire at once). One extra second
		// makes the key live at least ttl, at most ttl+1s.
		e = e.WithTTL(ttl + time.Second)
	}
	if err := t.txn.SetEntry(e); err != nil {
		return fmt.Errorf("put %q: %w", key, mapErr(err))
	}
	return nil
}

// Delete removes key; deleting a missing key is not an error.
func (t tx) Delete(key []byte) error {
	if err := t.txn.Delete(bytes.Clone(key)); err != nil {
		return fmt.Errorf("delete %q: %w", key, mapErr(err))
	}
	return nil
}

// Scan visits the keys with prefix in order (or reverse order) and stops at
// the first error from fn, which it returns unchanged.
func (t tx) Scan(prefix []byte, reverse bool, fn func(key, val []byte) error) error {
	it := t.txn.NewIterator(badger.IteratorOptions{
		// Values are read in the callback; prefetching would copy each one.
		PrefetchValues: false,
		Reverse:        reverse,
		// Lets Badger skip tables that cannot hold the prefix.
		Prefix: prefix,
	})
	defer it.Close()

	start := prefix
	if reverse {
		// A reverse seek lands on the last key <= start. Keys are text, so
		// prefix+0xFF sorts after every key with the prefix.
		start = append(bytes.Clone(prefix), 0xFF)
	}
	for it.Seek(start); it.ValidForPrefix(prefix); it.Next() {
		item := it.Item()
		var fnErr error
		err := item.Value(func(val []byte) error {
			fnErr = fn(item.Key(), val)
			return nil
		})
		if err != nil {
			return fmt.Errorf("read %q: %w", item.Key(), err)
		}
		if fnErr != nil {
			return fnErr
		}
	}
	return nil
}
