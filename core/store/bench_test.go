package store

import (
	"bytes"
	"context"
	"fmt"
	"testing"

	"github.com/edgeward/edgeward/core"
)

// BenchmarkPut measures one fsynced Update per key, the cost of an admin
// change; it is bound by the disk's fsync latency.
func BenchmarkPut(b *testing.B) {
	db := openT(b, b.TempDir(), nil)
	ctx := context.Background()
	val := bytes.Repeat([]byte("v"), 300)
	i := 0
	b.ReportAllocs()
	for b.Loop() {
		key := fmt.Appendf(nil, "bench/%08d", i)
		i++
		if err := db.Update(ctx, func(tx core.Tx) error { return tx.Put(key, val, 0) }); err != nil {
			b.Fatalf("Update: %v", err)
		}
	}
}

// BenchmarkScan1k measures listing 1000 records of 300 bytes, about the
// size of a large peer or ban list page.
func BenchmarkScan1k(b *testing.B) {
	db := openT(b, b.TempDir(), nil)
	ctx := context.Background()
	val := bytes.Repeat([]byte("v"), 300)
	mustUpdate(b, db, func(tx core.Tx) error {
		for i := range 1000 {
			if err := tx.Put(fmt.Appendf(nil, "peer/%08d", i), val, 0); err != nil {
				return err
			}
		}
		return nil
	})
	b.ReportAllocs()
	for b.Loop() {
		n := 0
		err := db.View(ctx, func(tx core.Tx) error {
			return tx.Scan([]byte("peer/"), false, func(_, v []byte) error {
				n += len(v)
				return nil
			})
		})
		if err != nil {
			b.Fatalf("View: %v", err)
		}
		if n != 1000*300 {
			b.Fatalf("scanned %d bytes, want %d", n, 1000*300)
		}
	}
}
