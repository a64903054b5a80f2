package store

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"

	"github.com/edgeward/edgeward/core"
)

// Restore builds a new store in dir from a stream written by Backup (on a
// build with the same engine: the formats differ, see Backup) and
// returns the schema version the stream recorded. dir must be missing or
// empty: a restore never merges into live data. The store is closed, with
// every write synced, when Restore returns; it runs no migrations (the
// next Open does). A stream without a schema version is not one of ours
// and gives core.ErrInvalid.
func Restore(ctx context.Context, dir string, r io.Reader, log *slog.Logger) (schema int, err error) {
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	if entries, err := os.ReadDir(dir); err == nil && len(entries) > 0 {
		return 0, fmt.Errorf("restore store into %s: directory is not empty: %w", dir, core.ErrConflict)
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return restore(ctx, dir, r, log, restoreDefault)
}

func restore(ctx context.Context, dir string, r io.Reader, log *slog.Logger, restoreEng restoreEngine) (schema int, err error) {
	// Opened without migrations and without the schema key Open would write
	// on a new store: the stream brings its own.
	eng, err := restoreEng(Options{Dir: dir}, core.ContextReader(ctx, r), log)
	if err != nil {
		return 0, err
	}
	db := &DB{eng: eng, log: log}
	defer func() { err = errors.Join(err, db.Close()) }()
	v, err := db.SchemaVersion(ctx)
	if errors.Is(err, core.ErrNotFound) {
		return 0, &core.Error{Kind: core.ErrInvalid, Msg: "backup stream holds no schema version: not an edgeward store"}
	}
	return v, err
}
