package store

import (
	"bytes"
	"errors"
	"fmt"
	"time"

	bolt "go.etcd.io/bbolt"
	bolterr "go.etcd.io/bbolt/errors"

	"github.com/edgeward/edgeward/core"
)

// boltTx is a core.Tx over one bbolt transaction.
type boltTx struct {
	b *bolt.Bucket
	// now is fixed per transaction, so a key cannot expire halfway through.
	now time.Time
	// writes counts Puts and Deletes; Scan re-seeks its cursor after one,
	// because bbolt cursors are not valid across changes to the bucket.
	writes int
}

var _ core.Tx = (*boltTx)(nil)

func mapBoltErr(err error) error {
	switch {
	case errors.Is(err, bolterr.ErrKeyRequired), errors.Is(err, bolterr.ErrKeyTooLarge),
		errors.Is(err, bolterr.ErrValueTooLarge):
		return fmt.Errorf("%w: %w", core.ErrInvalid, err)
	}
	return err
}

// Get returns a copy of the value: bbolt's slices point into the mmap and
// die with the transaction.
func (t *boltTx) Get(key []byte) ([]byte, error) {
	val, ok := decodeValue(t.b.Get(key), t.now)
	if !ok {
		return nil, fmt.Errorf("key %q: %w", key, core.ErrNotFound)
	}
	return bytes.Clone(val), nil
}

// Put copies key: bbolt keeps it until commit, and callers may reuse their
// buffers before that. encodeValue copies val.
func (t *boltTx) Put(key, val []byte, ttl time.Duration) error {
	var exp time.Time
	if ttl > 0 {
		exp = t.now.Add(ttl)
	}
	if err := t.b.Put(bytes.Clone(key), encodeValue(val, exp)); err != nil {
		return fmt.Errorf("put %q: %w", key, mapBoltErr(err))
	}
	t.writes++
	return nil
}

// Delete removes key; deleting a missing key is not an error.
func (t *boltTx) Delete(key []byte) error {
	if err := t.b.Delete(bytes.Clone(key)); err != nil {
		return fmt.Errorf("delete %q: %w", key, mapBoltErr(err))
	}
	t.writes++
	return nil
}

// Scan visits the live keys with prefix in order (or reverse order) and
// stops at the first error from fn, which it returns unchanged. fn may
// write in the same transaction: the cursor then finds its place again
// from the last key visited.
func (t *boltTx) Scan(prefix []byte, reverse bool, fn func(key, val []byte) error) error {
	c := t.b.Cursor()
	k, v := t.first(c, prefix, reverse)
	for k != nil && bytes.HasPrefix(k, prefix) {
		writes := t.writes
		if val, ok := decodeValue(v, t.now); ok {
			if err := fn(k, val); err != nil {
				return err
			}
		}
		if t.writes != writes {
			k, v = t.after(c, bytes.Clone(k), reverse)
			continue
		}
		if reverse {
			k, v = c.Prev()
		} else {
			k, v = c.Next()
		}
	}
	return nil
}

// first places c on the first key of the scan.
func (t *boltTx) first(c *bolt.Cursor, prefix []byte, reverse bool) ([]byte, []byte) {
	if !reverse {
		return c.Seek(prefix)
	}
	end := prefixEnd(prefix)
	if end == nil {
		return c.Last()
	}
	// Seek lands on the first key >= end, so the one before is the last
	// key with the prefix (or a smaller one, which the caller stops at).
	if k, _ := c.Seek(end); k == nil {
		return c.Last()
	}
	return c.Prev()
}

// after places c on the key following last in scan order, after the
// bucket changed (last itself may be gone).
func (t *boltTx) after(c *bolt.Cursor, last []byte, reverse bool) ([]byte, []byte) {
	k, v := c.Seek(last)
	switch {
	case !reverse && k != nil && bytes.Equal(k, last):
		return c.Next()
	case !reverse:
		return k, v
	case k == nil:
		return c.Last()
	default:
		return c.Prev()
	}
}

// prefixEnd is the smallest key greater than every key with prefix, or nil
// when there is none (an empty prefix or one of 0xFF bytes only).
func prefixEnd(prefix []byte) []byte {
	end := bytes.Clone(prefix)
	for i := len(end) - 1; i >= 0; i-- {
		if end[i] < 0xFF {
			end[i]++
			return end[:i+1]
		}
	}
	return nil
}
