package core

import (
	"context"
	"encoding/json"
	"fmt"
	"time"
)

// KV is the storage port: a transactional, ordered key-value store. The
// Badger backend in core/store implements it for 64-bit targets; a second
// backend (bbolt for 32-bit routers) only has to implement these methods.
//
// Update runs fn in a read-write transaction and returns only after the
// change is durable: a process killed right after Update returns nil keeps
// it. If fn returns an error nothing is written. View runs fn in a
// read-only snapshot. Both are safe for concurrent use.
type KV interface {
	Update(ctx context.Context, fn func(Tx) error) error
	View(ctx context.Context, fn func(Tx) error) error
}

// Tx is one transaction. Slices passed to callbacks are valid only during
// the callback. Get returns ErrNotFound for a missing key.
type Tx interface {
	Get(key []byte) ([]byte, error)
	// Put stores val under key; ttl > 0 makes the key expire after ttl.
	Put(key, val []byte, ttl time.Duration) error
	Delete(key []byte) error
	// Scan calls fn for each key with the prefix, in key order (reverse
	// order when reverse is set), until fn returns an error.
	Scan(prefix []byte, reverse bool, fn func(key, val []byte) error) error
}

// PutJSON stores v as JSON under key, for good.
func PutJSON(tx Tx, key string, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("encode %s: %w", key, err)
	}
	if err := tx.Put([]byte(key), b, 0); err != nil {
		return fmt.Errorf("put %s: %w", key, err)
	}
	return nil
}
