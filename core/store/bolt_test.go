package store

import (
	"context"
	"errors"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/edgeward/edgeward/core"
)

// TestScanWhileWriting checks what bbolt's cursors make hard: deleting and
// adding keys from inside a Scan callback (callers delete expired or
// replaced records as they list them). Badger passes it as well.
func TestScanWhileWriting(t *testing.T) {
	for _, reverse := range []bool{false, true} {
		db := openT(t, t.TempDir(), nil)
		putAll(t, db, map[string]string{"p/a": "1", "p/b": "2", "p/c": "3", "p/d": "4", "q": "x"})
		var visited []string
		mustUpdate(t, db, func(tx core.Tx) error {
			return tx.Scan([]byte("p/"), reverse, func(k, v []byte) error {
				visited = append(visited, string(k))
				if string(k) == "p/b" || string(k) == "p/c" {
					return tx.Delete(k)
				}
				return tx.Put(append([]byte("r/"), k...), v, 0)
			})
		})
		want := []string{"p/a", "p/b", "p/c", "p/d"}
		if reverse {
			want = []string{"p/d", "p/c", "p/b", "p/a"}
		}
		if diff := cmp.Diff(want, visited); diff != "" {
			t.Errorf("reverse=%v: keys visited (-want +got):\n%s", reverse, diff)
		}
		var got []kv
		if err := db.View(context.Background(), func(tx core.Tx) error {
			got = scan(t, tx, "", false)
			return nil
		}); err != nil {
			t.Fatalf("View: %v", err)
		}
		wantKV := []kv{{SchemaVersionKey, "1"}, {"p/a", "1"}, {"p/d", "4"}, {"q", "x"}, {"r/p/a", "1"}, {"r/p/d", "4"}}
		if diff := cmp.Diff(wantKV, got); diff != "" {
			t.Errorf("reverse=%v: store after (-want +got):\n%s", reverse, diff)
		}
	}
}

// TestSweepRemovesExpired checks that upkeep deletes expired keys (reads
// skip them either way) and keeps live ones.
func TestSweepRemovesExpired(t *testing.T) {
	onlyOn(t, "bbolt", "Badger drops expired keys in compaction")
	db := openT(t, t.TempDir(), nil)
	mustUpdate(t, db, func(tx core.Tx) error {
		if err := tx.Put([]byte("t/gone"), []byte("1"), time.Nanosecond); err != nil {
			return err
		}
		return tx.Put([]byte("t/live"), []byte("2"), time.Hour)
	})
	time.Sleep(time.Millisecond)
	if !db.eng.gc(context.Background()) {
		t.Fatal("gc says it can never work")
	}
	var raw []string
	if err := db.eng.(*boltDB).db.View(func(btx *bolt.Tx) error {
		return btx.Bucket(boltBucket).ForEach(func(k, _ []byte) error {
			raw = append(raw, string(k))
			return nil
		})
	}); err != nil {
		t.Fatalf("View: %v", err)
	}
	if diff := cmp.Diff([]string{SchemaVersionKey, "t/live"}, raw); diff != "" {
		t.Errorf("keys in the file (-want +got):\n%s", diff)
	}
}

// TestRestoreRefusesForeignStream: a stream that is not a bbolt file (such
// as a Badger backup from a 64-bit box) is refused and leaves no file.
func TestRestoreRefusesForeignStream(t *testing.T) {
	onlyOn(t, "bbolt", "Badger's Load has its own format checks")
	dir := filepath.Join(t.TempDir(), "restored")
	_, err := restore(context.Background(), dir, strings.NewReader(strings.Repeat("not bolt", 2048)),
		slog.New(slog.DiscardHandler), testRestoreEngine())
	if diff := cmp.Diff(core.ErrInvalid, err, cmpopts.EquateErrors()); diff != "" {
		t.Errorf("restore error (-want +got):\n%s", diff)
	}
	if _, err := os.Stat(filepath.Join(dir, boltFile)); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("file after a refused restore: %v", err)
	}
}
