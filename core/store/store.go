// Package store implements the core.KV storage port on Badger v4.
//
// It is tuned for a 64-bit router with 128 MiB of RAM and flash storage:
// small memtables and tables, no caches, no compression, and an fsync on
// every commit, because writes are rare admin changes that must survive a
// power cut. 32-bit targets need another backend (Badger fails at run time
// there). Store owns the schema version key and runs migrations on Open.
package store

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"time"

	"github.com/dgraph-io/badger/v4"
	"github.com/dgraph-io/badger/v4/options"

	"github.com/edgeward/edgeward/core"
)

// Options configures Open. The zero value is not usable: set Dir or InMemory.
type Options struct {
	// Dir holds the Badger files. It is ignored when InMemory is set.
	Dir string
	// InMemory keeps everything in RAM (tests, and state that may be lost
	// on reboot); nothing touches flash.
	InMemory bool
	// Logger receives Badger's warnings and errors; nil discards them.
	Logger *slog.Logger
}

// DB is a Badger-backed core.KV. It is safe for concurrent use.
type DB struct {
	bdb *badger.DB
	log *slog.Logger
}

var _ core.KV = (*DB)(nil)

// Open opens or creates the store, then brings its schema up to date with
// migrations (see Migration). It returns an error matching core.ErrBusy when
// another process holds the directory, and core.ErrUnsupported when the
// stored schema is newer than the newest migration.
func Open(ctx context.Context, opts Options, migrations []Migration) (*DB, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if !opts.InMemory && opts.Dir == "" {
		return nil, fmt.Errorf("open store: dir is empty: %w", core.ErrInvalid)
	}
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	log = log.With("component", "core/store")
	bdb, err := openBadger(Options{Dir: opts.Dir, InMemory: opts.InMemory, Logger: log})
	if err != nil {
		return nil, err
	}
	db := &DB{bdb: bdb, log: log}
	if err := db.migrate(ctx, migrations); err != nil {
		return nil, errors.Join(err, db.Close())
	}
	return db, nil
}

// openBadger opens Badger with the router options; opts.Logger must be set.
func openBadger(opts Options) (*badger.DB, error) {
	bdb, err := badger.Open(badgerOptions(opts, opts.Logger))
	if err != nil {
		// Badger's flock error carries no sentinel; its text is all we have.
		if strings.Contains(err.Error(), "Cannot acquire directory lock") {
			return nil, core.Busy("store %s is in use by another edgeward process", opts.Dir)
		}
		return nil, fmt.Errorf("open store %s: %w", opts.Dir, err)
	}
	return bdb, nil
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

// Close flushes and closes the store. The DB must not be used afterwards.
func (db *DB) Close() error {
	if err := db.bdb.Close(); err != nil {
		return fmt.Errorf("close store: %w", err)
	}
	return nil
}

// Update runs fn in a read-write transaction and commits it with an fsync.
// If fn returns an error, nothing is written and that error is returned
// unchanged. A concurrent change to the same keys gives core.ErrConflict, a
// change too large for one transaction core.ErrInvalid.
func (db *DB) Update(ctx context.Context, fn func(core.Tx) error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
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

// View runs fn in a read-only snapshot. fn's error is returned unchanged.
func (db *DB) View(ctx context.Context, fn func(core.Tx) error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	txn := db.bdb.NewTransaction(false)
	defer txn.Discard()
	return fn(tx{txn: txn})
}

// RunGC runs value log garbage collection every interval until ctx is done.
// With ValueThreshold at 1 KiB almost no value reaches the value log, so it
// rarely finds work, but a few large values (certificates, backups) could
// otherwise leave dead vlog files on flash forever. It returns at once for
// an in-memory store. Run it in its own goroutine.
func (db *DB) RunGC(ctx context.Context, every time.Duration) {
	core.Every(ctx, every, func() bool { return db.gcOnce(ctx) })
}

// gcOnce rewrites value log files until Badger finds nothing more to
// reclaim. It reports whether GC can ever do work on this store.
func (db *DB) gcOnce(ctx context.Context) bool {
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

// Backup writes a full dump of the store (Badger's backup format, readable
// by badger.DB.Load) to w. It stops with ctx.Err() when ctx is done.
func (db *DB) Backup(ctx context.Context, w io.Writer) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	// Badger's Backup takes no context; failing the next write stops it.
	cw := writeFunc(func(p []byte) (int, error) {
		if err := ctx.Err(); err != nil {
			return 0, err
		}
		return w.Write(p)
	})
	if _, err := db.bdb.Backup(cw, 0); err != nil {
		return fmt.Errorf("backup store: %w", err)
	}
	return nil
}

// writeFunc adapts a function to io.Writer.
type writeFunc func(p []byte) (int, error)

func (f writeFunc) Write(p []byte) (int, error) { return f(p) }
