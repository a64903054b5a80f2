// Package golden holds the test support for golden files in testdata/:
// Check compares a test's output with its file (or rewrites the file when
// the package's -update flag is set), and Dump and Load turn a store into
// that text and back, so that what the kernel and the store receive is
// reviewed as a diff and a renamed field cannot drop stored data unseen.
package golden

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/edgeward/edgeward/core"
	"github.com/edgeward/edgeward/core/store"
	"github.com/google/go-cmp/cmp"
)

// Check compares got with the file at path and fails t on a difference.
// With update it writes got to path instead (creating its directory), so
// that `go test -update` rewrites the files and the reviewer reads the
// diff.
func Check(t testing.TB, update bool, path string, got []byte) {
	t.Helper()
	if update {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatalf("create golden dir: %v", err)
		}
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatalf("write golden file: %v", err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("read golden file (run the test with -update to create it): %v", err)
	}
	if diff := cmp.Diff(string(want), string(got)); diff != "" {
		t.Errorf("%s (-want +got); if the change is meant, rerun with -update and review the diff:\n%s", path, diff)
	}
}

// CheckStore dumps kv (see Dump) below note, a comment saying what the
// test normalised and how to rewrite the file, and compares the result
// with the file at path (see Check).
func CheckStore(t testing.TB, update bool, path string, kv core.KV, repl map[string]string, note string) {
	t.Helper()
	dump, err := Dump(context.Background(), kv, repl)
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	for line := range strings.Lines(strings.TrimSpace(note)) {
		b.WriteString("# " + strings.TrimSpace(line) + "\n")
	}
	b.Write(dump)
	Check(t, update, path, []byte(b.String()))
}

// RecordsFile is where a package keeps the golden dump of its stored
// records.
var RecordsFile = filepath.Join("testdata", "records.golden")

// LoadStore writes the records of the dump at path into a new store in
// dir (see Load) and closes it, so that the service under test opens the
// records as it would after a restart.
func LoadStore(t testing.TB, path, dir string) {
	t.Helper()
	dump, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("read golden store dump: %v", err)
	}
	db, err := store.Open(context.Background(), store.Options{Dir: dir}, nil)
	if err != nil {
		t.Fatal(err)
	}
	err = Load(context.Background(), db, dump)
	if cerr := db.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		t.Fatalf("load %s: %v", path, err)
	}
}
