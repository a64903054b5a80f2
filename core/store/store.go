// Package store implements the core.KV storage port, on Badger v4 for
// 64-bit targets and on bbolt for 32-bit ones.
//
// It is tuned for a router with 128 MiB of RAM and flash storage: writes
// are rare admin changes, each fsynced before Update returns, so that they
// survive a power cut. Badger fails at run time on 32-bit ARM and MIPS
// (corrupt reads, SIGBUS, 2 GiB mmaps), so the engine is chosen by GOARCH
// at build time (engine_badger.go, engine_bolt.go) and a 32-bit binary does
// not link Badger at all. The build tag bbolt picks bbolt on 64-bit targets
// too (5.8 MB smaller on arm64). Both engines pass the same test suite. Store owns the
// schema version key and runs migrations on Open.
package store

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"time"

	"github.com/edgeward/edgeward/core"
	"github.com/edgeward/edgeward/core/durable"
)

// Options configures Open. The zero value is not usable: set Dir or InMemory.
type Options struct {
	// Dir holds the store's files. It is ignored when InMemory is set.
	Dir string
	// InMemory keeps everything out of Dir (tests, and state that may be
	// lost on reboot). Badger keeps it in RAM; bbolt, which needs a file to
	// mmap, keeps it in a temporary directory (tmpfs on OpenWrt) removed
	// on Close.
	InMemory bool
	// Logger receives the engine's warnings and errors; nil discards them.
	Logger *slog.Logger
	// Reserve is the bytes kept free on Dir's filesystem: Update refuses
	// with core.ErrNoSpace while fewer are free, as Badger's mmapped files
	// crash the process (SIGBUS) instead of failing when the disk fills.
	// It should exceed what one flush and compaction write: 16 MiB with
	// the router options. 0 checks nothing.
	Reserve uint64
}

// engine is what a storage engine gives DB: the KV itself plus upkeep.
// DB checks ctx before calling Update, View and backup.
type engine interface {
	core.KV
	// gc does one round of upkeep (Badger's value log GC, bbolt's sweep of
	// expired keys) and reports whether another round can ever do work.
	gc(ctx context.Context) bool
	// backup writes a consistent snapshot in the engine's own format.
	backup(w io.Writer) error
	Close() error
}

// openEngine opens an engine for opts; log is already tagged.
type openEngine func(opts Options, log *slog.Logger) (engine, error)

// restoreEngine builds a new engine in the empty opts.Dir from a stream
// its backup wrote, and returns it open.
type restoreEngine func(opts Options, r io.Reader, log *slog.Logger) (engine, error)

// DB is a core.KV on the engine built for this GOARCH. It is safe for
// concurrent use.
type DB struct {
	eng   engine
	log   *slog.Logger
	space durable.Space
}

var _ core.KV = (*DB)(nil)

// Open opens or creates the store, then brings its schema up to date with
// migrations (see Migration). It returns an error matching core.ErrBusy when
// another process holds the directory, and core.ErrUnsupported when the
// stored schema is newer than the newest migration.
func Open(ctx context.Context, opts Options, migrations []Migration) (*DB, error) {
	return open(ctx, opts, migrations, openDefault)
}

func open(ctx context.Context, opts Options, migrations []Migration, openEng openEngine) (*DB, error) {
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
	eng, err := openEng(opts, log)
	if err != nil {
		return nil, err
	}
	db := &DB{eng: eng, log: log}
	if !opts.InMemory {
		db.space = durable.Space{Dir: opts.Dir, Reserve: opts.Reserve}
	}
	if err := db.migrate(ctx, migrations); err != nil {
		return nil, errors.Join(err, db.Close())
	}
	return db, nil
}

// Close flushes and closes the store. The DB must not be used afterwards.
func (db *DB) Close() error {
	if err := db.eng.Close(); err != nil {
		return fmt.Errorf("close store: %w", err)
	}
	return nil
}

// Update runs fn in a read-write transaction and commits it with an fsync.
// If fn returns an error, nothing is written and that error is returned
// unchanged. A concurrent change to the same keys gives core.ErrConflict
// (Badger; bbolt runs writers one at a time, so never), a change too large
// for one transaction core.ErrInvalid, a full filesystem (less than
// Options.Reserve free, or ENOSPC) core.ErrNoSpace.
func (db *DB) Update(ctx context.Context, fn func(core.Tx) error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if err := db.space.Check(); err != nil {
		return err
	}
	return durable.NoSpace(db.eng.Update(ctx, fn))
}

// View runs fn in a read-only snapshot. fn's error is returned unchanged.
func (db *DB) View(ctx context.Context, fn func(core.Tx) error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	return db.eng.View(ctx, fn)
}

// RunGC runs the engine's upkeep every interval until ctx is done: value
// log GC on Badger (rarely any work, as values up to 1 KiB stay in the LSM
// tree, but a few large values could otherwise leave dead files on flash
// forever), removal of expired keys on bbolt (reads already skip them).
// It returns at once when upkeep can never do work (in-memory Badger). Run
// it in its own goroutine.
func (db *DB) RunGC(ctx context.Context, every time.Duration) {
	core.Every(ctx, every, func() bool { return db.eng.gc(ctx) })
}

// Backup writes a full, consistent dump of the store to w in the engine's
// format: Badger's backup stream (read by badger.DB.Load) on 64-bit
// targets, a copy of the bbolt file on 32-bit ones. It stops with
// ctx.Err() when ctx is done.
func (db *DB) Backup(ctx context.Context, w io.Writer) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	// Neither engine's backup takes a context; failing the next write
	// stops it.
	cw := writeFunc(func(p []byte) (int, error) {
		if err := ctx.Err(); err != nil {
			return 0, err
		}
		return w.Write(p)
	})
	if err := db.eng.backup(cw); err != nil {
		return fmt.Errorf("backup store: %w", err)
	}
	return nil
}

// writeFunc adapts a function to io.Writer.
type writeFunc func(p []byte) (int, error)

func (f writeFunc) Write(p []byte) (int, error) { return f(p) }
