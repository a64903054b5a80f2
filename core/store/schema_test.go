package store

import (
	"context"
	"errors"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/edgeward/edgeward/core"
)

// step describes one test migration; it writes the key "m/<name>".
type step struct {
	version int
	name    string
	fail    bool
}

// buildMigrations builds Migrations from steps and records, in *ran, the name of
// each one applied.
func buildMigrations(ran *[]string, steps ...step) []Migration {
	ms := make([]Migration, len(steps))
	for i, s := range steps {
		ms[i] = Migration{Version: s.version, Name: s.name, Apply: func(tx core.Tx) error {
			*ran = append(*ran, s.name)
			if err := tx.Put([]byte("m/"+s.name), []byte("done"), 0); err != nil {
				return err
			}
			if s.fail {
				return errBoom
			}
			return nil
		}}
	}
	return ms
}

// rawState reads the version key and the migration keys straight from
// the engine, so that it works whatever version the store holds.
func rawState(t *testing.T, dir string) (version string, keys []string) {
	t.Helper()
	db := rawEngine(t, Options{Dir: dir})
	defer db.Close()
	err := db.View(context.Background(), func(tx core.Tx) error {
		raw, err := tx.Get([]byte(SchemaVersionKey))
		version = string(raw)
		if err != nil && !errors.Is(err, core.ErrNotFound) {
			return err
		}
		return tx.Scan([]byte("m/"), false, func(k, _ []byte) error {
			keys = append(keys, string(k))
			return nil
		})
	})
	if err != nil {
		t.Fatalf("read %s: %v", dir, err)
	}
	return version, keys
}

// schemaCase opens a store with the before steps (nil: skip), closes it and
// opens it again with the after steps.
type schemaCase struct {
	name        string
	before      []step
	after       []step
	wantRan     []string
	wantErr     error
	wantMsg     string
	wantVersion string
	wantKeys    []string
}

var schemaCases = []schemaCase{
	{
		name:        "fresh store without migrations",
		after:       nil,
		wantVersion: "1",
	},
	{
		name:        "fresh store is current without running migrations",
		after:       []step{{3, "three", false}, {1, "one", false}, {2, "two", false}},
		wantVersion: "3",
	},
	{
		name:        "runs newer migrations in order",
		before:      []step{{1, "one", false}},
		after:       []step{{3, "three", false}, {1, "one", false}, {2, "two", false}},
		wantRan:     []string{"two", "three"},
		wantVersion: "3",
		wantKeys:    []string{"m/three", "m/two"},
	},
	{
		name:        "up to date",
		before:      []step{{1, "one", false}, {2, "two", false}},
		after:       []step{{1, "one", false}, {2, "two", false}},
		wantVersion: "2",
	},
	{
		name:        "failing migration keeps version and writes nothing",
		before:      []step{{1, "one", false}},
		after:       []step{{1, "one", false}, {2, "two", true}},
		wantRan:     []string{"two"},
		wantErr:     errBoom,
		wantMsg:     "migrate store to version 2 (two): boom",
		wantVersion: "1",
	},
	{
		name:        "stops at the first failure",
		before:      []step{{1, "one", false}},
		after:       []step{{2, "two", false}, {3, "three", true}, {4, "four", false}},
		wantRan:     []string{"two", "three"},
		wantErr:     errBoom,
		wantMsg:     "migrate store to version 3 (three): boom",
		wantVersion: "2",
		wantKeys:    []string{"m/two"},
	},
	{
		name:        "newer stored version is refused",
		before:      []step{{1, "one", false}, {3, "three", false}},
		after:       []step{{1, "one", false}, {2, "two", false}},
		wantErr:     core.ErrUnsupported,
		wantMsg:     "store schema version 3 is newer than this binary supports (2)",
		wantVersion: "3",
	},
}

func TestSchema(t *testing.T) {
	for _, tt := range schemaCases {
		t.Run(tt.name, func(t *testing.T) { runSchemaCase(t, tt) })
	}
}

func runSchemaCase(t *testing.T, tt schemaCase) {
	t.Helper()
	dir := t.TempDir()
	var ran []string
	if tt.before != nil {
		db, err := testOpen(context.Background(), Options{Dir: dir}, buildMigrations(&ran, tt.before...))
		if err != nil {
			t.Fatalf("first Open: %v", err)
		}
		if err := db.Close(); err != nil {
			t.Fatalf("Close: %v", err)
		}
	}
	ran = nil
	db, err := testOpen(context.Background(), Options{Dir: dir}, buildMigrations(&ran, tt.after...))
	if db != nil {
		if err := db.Close(); err != nil {
			t.Fatalf("Close: %v", err)
		}
	}
	if diff := cmp.Diff(tt.wantErr, err, cmpopts.EquateErrors()); diff != "" {
		t.Errorf("Open error (-want +got):\n%s", diff)
	}
	gotMsg := ""
	if err != nil {
		gotMsg = err.Error()
	}
	if diff := cmp.Diff(tt.wantMsg, gotMsg); diff != "" {
		t.Errorf("Open error message (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(tt.wantRan, ran); diff != "" {
		t.Errorf("migrations applied (-want +got):\n%s", diff)
	}
	version, keys := rawState(t, dir)
	if diff := cmp.Diff(tt.wantVersion, version); diff != "" {
		t.Errorf("stored version (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(tt.wantKeys, keys); diff != "" {
		t.Errorf("migration keys (-want +got):\n%s", diff)
	}
}

func TestSchemaVersion(t *testing.T) {
	var ran []string
	db := openT(t, t.TempDir(), buildMigrations(&ran, step{1, "one", false}, step{7, "seven", false}))
	got, err := db.SchemaVersion(context.Background())
	if err != nil {
		t.Fatalf("SchemaVersion: %v", err)
	}
	if diff := cmp.Diff(7, got); diff != "" {
		t.Errorf("SchemaVersion (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff("7", mustGet(t, db, SchemaVersionKey)); diff != "" {
		t.Errorf("raw version key (-want +got):\n%s", diff)
	}
}

func mustGet(t *testing.T, db *DB, key string) string {
	t.Helper()
	v, err := get(t, db, key)
	if err != nil {
		t.Fatalf("Get(%q): %v", key, err)
	}
	return v
}

func TestOpenRefusesBadInput(t *testing.T) {
	noop := func(core.Tx) error { return nil }
	tests := []struct {
		name       string
		noDir      bool
		inMemory   bool
		migrations []Migration
	}{
		{"no dir", true, false, nil},
		{"version below 1", false, false, []Migration{{Version: 0, Name: "zero", Apply: noop}}},
		{"version used twice", false, true, []Migration{
			{Version: 2, Name: "a", Apply: noop}, {Version: 2, Name: "b", Apply: noop},
		}},
		{"no apply func", false, false, []Migration{{Version: 1, Name: "one"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			opts := Options{Dir: t.TempDir(), InMemory: tt.inMemory}
			if tt.noDir {
				opts.Dir = ""
			}
			db, err := testOpen(context.Background(), opts, tt.migrations)
			if db != nil {
				_ = db.Close()
			}
			if diff := cmp.Diff(core.ErrInvalid, err, cmpopts.EquateErrors()); diff != "" {
				t.Errorf("Open error (-want +got):\n%s", diff)
			}
		})
	}
}
