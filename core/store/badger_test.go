//go:build !(386 || arm || mips || mipsle || bbolt)

package store

import (
	"io"
	"log/slog"
	"testing"

	"github.com/dgraph-io/badger/v4"

	"github.com/edgeward/edgeward/core"
)

// loadBadger loads a Badger backup stream into a new in-memory store.
func loadBadger(t *testing.T, r io.Reader) core.KV {
	t.Helper()
	discard := slog.New(slog.DiscardHandler)
	bdb, err := badger.Open(badgerOptions(Options{InMemory: true}, discard))
	if err != nil {
		t.Fatalf("open restore target: %v", err)
	}
	t.Cleanup(func() { _ = bdb.Close() })
	if err := bdb.Load(r, 16); err != nil {
		t.Fatalf("Load: %v", err)
	}
	return &DB{eng: &badgerDB{bdb: bdb, log: discard}, log: discard}
}
