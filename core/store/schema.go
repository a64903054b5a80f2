package store

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"

	"github.com/edgeward/edgeward/core"
)

// SchemaVersionKey holds the store's schema version as a decimal string.
const SchemaVersionKey = "meta/schema_version"

// Migration upgrades stored data from Version-1 to Version. Apply runs in
// its own transaction, which also records Version, so a failed migration
// leaves the data and the version as they were and is retried on the next
// Open.
type Migration struct {
	Version int // ≥ 1, unique within the list
	Name    string
	Apply   func(tx core.Tx) error
}

// SchemaVersion returns the version recorded in the store.
func (db *DB) SchemaVersion(ctx context.Context) (int, error) {
	var v int
	err := db.View(ctx, func(tx core.Tx) error {
		var err error
		v, err = readVersion(tx)
		return err
	})
	return v, err
}

// migrate brings the schema up to the newest migration. A new store gets
// that version directly: whatever creates its data writes the current shape.
func (db *DB) migrate(ctx context.Context, migrations []Migration) error {
	ms, err := sortMigrations(migrations)
	if err != nil {
		return err
	}
	latest := Latest(ms)
	current, err := db.SchemaVersion(ctx)
	if errors.Is(err, core.ErrNotFound) {
		return db.Update(ctx, func(tx core.Tx) error { return writeVersion(tx, latest) })
	}
	if err != nil {
		return err
	}
	if current > latest {
		return &core.Error{
			Kind: core.ErrUnsupported,
			Msg:  fmt.Sprintf("store schema version %d is newer than this binary supports (%d)", current, latest),
		}
	}
	for _, m := range ms {
		if m.Version <= current {
			continue
		}
		err := db.Update(ctx, func(tx core.Tx) error {
			if err := m.Apply(tx); err != nil {
				return err
			}
			return writeVersion(tx, m.Version)
		})
		if err != nil {
			return fmt.Errorf("migrate store to version %d (%s): %w", m.Version, m.Name, err)
		}
		db.log.Info("store migrated", "version", m.Version, "name", m.Name)
	}
	return nil
}

// sortMigrations returns a sorted copy and refuses lists that could run a
// step twice or not at all.
func sortMigrations(migrations []Migration) ([]Migration, error) {
	ms := slices.Clone(migrations)
	slices.SortFunc(ms, func(a, b Migration) int { return cmp.Compare(a.Version, b.Version) })
	for i, m := range ms {
		switch {
		case m.Version < 1:
			return nil, fmt.Errorf("migration %q: version %d below 1: %w", m.Name, m.Version, core.ErrInvalid)
		case m.Apply == nil:
			return nil, fmt.Errorf("migration %q: no apply func: %w", m.Name, core.ErrInvalid)
		case i > 0 && ms[i-1].Version == m.Version:
			return nil, fmt.Errorf("migration %q: version %d used twice: %w", m.Name, m.Version, core.ErrInvalid)
		}
	}
	return ms, nil
}

func readVersion(tx core.Tx) (int, error) {
	raw, err := tx.Get([]byte(SchemaVersionKey))
	if err != nil {
		return 0, err
	}
	v, err := strconv.Atoi(string(raw))
	if err != nil {
		return 0, fmt.Errorf("parse schema version %q: %w", raw, err)
	}
	return v, nil
}

func writeVersion(tx core.Tx, v int) error {
	return tx.Put([]byte(SchemaVersionKey), []byte(strconv.Itoa(v)), 0)
}

// Latest is the schema version a store reaches once migrations ran: the
// highest migration's version, or 1 without any.
func Latest(migrations []Migration) int {
	latest := 1
	for _, m := range migrations {
		latest = max(latest, m.Version)
	}
	return latest
}
