//go:build !(386 || arm || mips || mipsle || bbolt)

package store

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strings"

	"github.com/dgraph-io/badger/v4"
	"github.com/dgraph-io/badger/v4/options"

	"github.com/edgeward/edgeward/core"
)

// badgerDB is the Badger engine. Badger's CI covers amd64 and arm64 only,
// and on 32-bit ARM and MIPS it returns wrong data or crashes, hence the
// build constraint.
type badgerDB struct {
	bdb *badger.DB
	log *slog.Logger
}

func openBadger(opts Options, log *slog.Logger) (engine, error) {
	bdb, err := badger.Open(badgerOptions(opts, log))
	if err != nil {
		// Badger's flock error carries no sentinel; its text is all we have.
		if strings.Contains(err.Error(), "Cannot acquire directory lock") {
			return nil, core.Busy("store %s is in use by another edgeward process", opts.Dir)
		}
		return nil, fmt.Errorf("open store %s: %w", opts.Dir, err)
	}
	return &badgerDB{bdb: bdb, log: log}, nil
}

// restoreBadger opens a new Badger store in opts.Dir and loads a backup
// stream into it.
func restoreBadger(opts Options, r io.Reader, log *slog.Logger) (engine, error) {
	eng, err := openBadger(opts, log)
	if err != nil {
		return nil, err
	}
	db := eng.(*badgerDB)
	// 16 pending batches: Badger's own default in its restore tool.
	if err := db.bdb.Load(r, 16); err != nil {
		return nil, errors.Join(fmt.Errorf("load backup stream: %w", err), db.Close())
	}
	return db, nil
}

// badgerOptions is the "router" option set from the appliance notes. The
// defaults assume a server: 64 MiB memtables, a 256 MiB block cache and
// 1 GiB value log files would not fit in 128 MiB of RAM.
func badgerOptions(opts Options, log *slog.Logger) badger.Options {
	bo := badger.DefaultOptions(opts.Dir)
	if opts.InMemory {
		bo = badger.DefaultOptions("").WithInMemory(true) // Badger refuses a Dir here
	}
	return bo.
		// The memtable arena plus a WAL mmapped at twice this size; 4 MiB
		// (default 64) caps that at about 12 MiB per memtable.
		WithMemTableSize(4 << 20).
		// One being written and one being flushed is enough for rare writes.
		WithNumMemtables(2).
		// Kept in step with NumMemtables so L0 is compacted early.
		WithNumLevelZeroTables(2).
		// Stall writes at 4 L0 tables (default 15) rather than grow memory.
		WithNumLevelZeroTablesStall(4).
		// Small tables and levels keep each compaction short and its
		// buffers small (defaults 2 MiB and 10 MiB).
		WithBaseTableSize(1 << 20).
		WithBaseLevelSize(4 << 20).
		// Each vlog file is mmapped at twice its size; the default 1 GiB
		// would reserve 2 GiB of address space.
		WithValueLogFileSize(8 << 20).
		WithValueLogMaxEntries(100_000).
		// Values up to 1 KiB live in the LSM tree, so deletes are reclaimed
		// by compaction and value log GC has little to do.
		WithValueThreshold(1 << 10).
		// Compression needs a block cache (Badger panics without one); the
		// data is small, so we drop both and save RAM.
		WithCompression(options.None).
		WithBlockCacheSize(0).
		WithIndexCacheSize(0).
		// Two compactors is the minimum Badger accepts (1 is an error).
		WithNumCompactors(2).
		// Two cores on a typical router; the default is 8.
		WithNumGoroutines(2).
		// expvar metrics cost memory and nothing reads them.
		WithMetricsEnabled(false).
		// Concurrent Updates touching the same keys fail with
		// core.ErrConflict instead of losing one of the writes.
		WithDetectConflicts(true).
		// Every commit is fsynced before Update returns: the API acknowledges
		// a change only once it survives kill -9 and a power cut, and
		// writes are rare admin changes, so the cost does not matter.
		WithSyncWrites(true).
		// Replaces Badger's stderr logger; slogLogger drops INFO and DEBUG.
		WithLogger(slogLogger{log: log})
}

func (db *badgerDB) Close() error { return db.bdb.Close() }

func (db *badgerDB) Update(_ context.Context, fn func(core.Tx) error) error {
	txn := db.bdb.NewTransaction(true)
	defer txn.Discard()
	if err := fn(tx{txn: txn}); err != nil {
		return err
	}
	if err := txn.Commit(); err != nil {
		return fmt.Errorf("commit: %w", mapErr(err))
	}
	return nil
}

func (db *badgerDB) View(_ context.Context, fn func(core.Tx) error) error {
	txn := db.bdb.NewTransaction(false)
	defer txn.Discard()
	return fn(tx{txn: txn})
}

// gc rewrites value log files until Badger finds nothing more to reclaim.
func (db *badgerDB) gc(ctx context.Context) bool {
	for ctx.Err() == nil {
		// 0.5: rewrite a file once half of it is garbage, Badger's advice.
		err := db.bdb.RunValueLogGC(0.5)
		switch {
		case err == nil:
			continue
		case errors.Is(err, badger.ErrNoRewrite), errors.Is(err, badger.ErrRejected):
			return true
		case errors.Is(err, badger.ErrGCInMemoryMode):
			return false
		default:
			db.log.Warn("value log gc", "err", err)
			return true
		}
	}
	return true
}

func (db *badgerDB) backup(w io.Writer) error {
	_, err := db.bdb.Backup(w, 0)
	return err
}
