package store

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/edgeward/edgeward/core"
)

var errBoom = errors.New("boom")

// openT opens a store in dir and closes it when the test ends.
func openT(t testing.TB, dir string, migrations []Migration) *DB {
	t.Helper()
	db, err := testOpen(context.Background(), Options{Dir: dir}, migrations)
	if err != nil {
		t.Fatalf("Open(%s): %v", dir, err)
	}
	t.Cleanup(func() { _ = db.Close() })
	return db
}

func mustUpdate(t testing.TB, db *DB, fn func(core.Tx) error) {
	t.Helper()
	if err := db.Update(context.Background(), fn); err != nil {
		t.Fatalf("Update: %v", err)
	}
}

func putAll(t testing.TB, db *DB, pairs map[string]string) {
	t.Helper()
	mustUpdate(t, db, func(tx core.Tx) error {
		for k, v := range pairs {
			if err := tx.Put([]byte(k), []byte(v), 0); err != nil {
				return err
			}
		}
		return nil
	})
}

// get reads one key; a missing key gives "" and core.ErrNotFound.
func get(t testing.TB, db *DB, key string) (string, error) {
	t.Helper()
	var val []byte
	err := db.View(context.Background(), func(tx core.Tx) error {
		var err error
		val, err = tx.Get([]byte(key))
		return err
	})
	return string(val), err
}

type kv struct{ Key, Val string }

func scan(t testing.TB, tx core.Tx, prefix string, reverse bool) []kv {
	t.Helper()
	var got []kv
	err := tx.Scan([]byte(prefix), reverse, func(k, v []byte) error {
		got = append(got, kv{string(k), string(v)})
		return nil
	})
	if err != nil {
		t.Fatalf("Scan(%q): %v", prefix, err)
	}
	return got
}

func TestUpdateErrorWritesNothing(t *testing.T) {
	db := openT(t, t.TempDir(), nil)
	putAll(t, db, map[string]string{"keep": "old"})
	err := db.Update(context.Background(), func(tx core.Tx) error {
		if err := tx.Put([]byte("new"), []byte("1"), 0); err != nil {
			return err
		}
		if err := tx.Put([]byte("keep"), []byte("changed"), 0); err != nil {
			return err
		}
		return errBoom
	})
	if diff := cmp.Diff(errBoom, err, cmpopts.EquateErrors()); diff != "" {
		t.Errorf("Update error (-want +got):\n%s", diff)
	}
	var got []kv
	if err := db.View(context.Background(), func(tx core.Tx) error {
		got = scan(t, tx, "", false)
		return nil
	}); err != nil {
		t.Fatalf("View: %v", err)
	}
	want := []kv{{"keep", "old"}, {SchemaVersionKey, "1"}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("store after failed Update (-want +got):\n%s", diff)
	}
}

func TestReopenKeepsData(t *testing.T) {
	dir := t.TempDir()
	db, err := testOpen(context.Background(), Options{Dir: dir}, nil)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	putAll(t, db, map[string]string{"a": "1"})
	if err := db.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	db = openT(t, dir, nil)
	got, err := get(t, db, "a")
	if err != nil {
		t.Fatalf("Get after reopen: %v", err)
	}
	if diff := cmp.Diff("1", got); diff != "" {
		t.Errorf("Get after reopen (-want +got):\n%s", diff)
	}
}

const helperDirEnv = "EDGEWARD_STORE_HELPER_DIR"

// TestHelperProcess is the child of TestKilledProcessKeepsUpdate: it commits
// one key, says "ok" and waits to be killed.
func TestHelperProcess(t *testing.T) {
	dir := os.Getenv(helperDirEnv)
	if dir == "" {
		t.Skip("only runs as the child of TestKilledProcessKeepsUpdate")
	}
	db, err := testOpen(context.Background(), Options{Dir: dir}, nil)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	putAll(t, db, map[string]string{"durable": "yes"})
	fmt.Println("ok")
	time.Sleep(time.Hour)
}

func TestKilledProcessKeepsUpdate(t *testing.T) {
	dir := t.TempDir()
	cmd := exec.CommandContext(t.Context(), os.Args[0], "-test.run=^TestHelperProcess$", "-test.count=1")
	cmd.Env = append(os.Environ(), helperDirEnv+"="+dir)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatalf("StdoutPipe: %v", err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatalf("start child: %v", err)
	}
	var lines []string
	sc := bufio.NewScanner(out)
	for sc.Scan() && sc.Text() != "ok" {
		lines = append(lines, sc.Text())
	}
	if sc.Text() != "ok" {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		t.Fatalf("child never said ok; stdout:\n%s\nstderr:\n%s", strings.Join(lines, "\n"), stderr.String())
	}
	if err := cmd.Process.Kill(); err != nil {
		t.Fatalf("kill child: %v", err)
	}
	_ = cmd.Wait() // "signal: killed"
	if got := cmd.ProcessState.ExitCode(); got != -1 {
		t.Fatalf("child exit code = %d, want -1 (killed by a signal)", got)
	}
	// Badger removes LOCK on a clean Close; it must still be there. (bbolt
	// holds a flock on its file, which the kernel drops; nothing to see.)
	if suiteEngine() == "badger" {
		if _, err := os.Stat(filepath.Join(dir, "LOCK")); err != nil {
			t.Fatalf("LOCK file after kill: %v", err)
		}
	}
	db := openT(t, dir, nil)
	got, err := get(t, db, "durable")
	if err != nil {
		t.Fatalf("Get after kill: %v", err)
	}
	if diff := cmp.Diff("yes", got); diff != "" {
		t.Errorf("Get after kill (-want +got):\n%s", diff)
	}
}

func TestOpenBusy(t *testing.T) {
	dir := t.TempDir()
	openT(t, dir, nil)
	db, err := testOpen(context.Background(), Options{Dir: dir}, nil)
	if db != nil {
		_ = db.Close()
		t.Fatal("second Open of the same dir succeeded")
	}
	if !errors.Is(err, core.ErrBusy) {
		t.Fatalf("second Open error = %v, want core.ErrBusy", err)
	}
	want := fmt.Sprintf("store %s is in use by another edgeward process", dir)
	if diff := cmp.Diff(want, err.Error()); diff != "" {
		t.Errorf("error message (-want +got):\n%s", diff)
	}
}

func TestContextDone(t *testing.T) {
	dir := t.TempDir()
	db := openT(t, dir, nil)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	ran := false
	fn := func(core.Tx) error { ran = true; return nil }
	tests := []struct {
		name string
		call func() error
	}{
		{"Open", func() error {
			db, err := testOpen(ctx, Options{Dir: t.TempDir()}, nil)
			if db != nil {
				_ = db.Close()
			}
			return err
		}},
		{"Update", func() error { return db.Update(ctx, fn) }},
		{"View", func() error { return db.View(ctx, fn) }},
		{"Backup", func() error { return db.Backup(ctx, io.Discard) }},
		{"SchemaVersion", func() error { _, err := db.SchemaVersion(ctx); return err }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ran = false
			err := tt.call()
			if diff := cmp.Diff(context.Canceled, err, cmpopts.EquateErrors()); diff != "" {
				t.Errorf("error (-want +got):\n%s", diff)
			}
			if ran {
				t.Error("fn ran although ctx was done")
			}
		})
	}
}

func TestBackup(t *testing.T) {
	db := openT(t, t.TempDir(), nil)
	putAll(t, db, map[string]string{"peer/a": "1", "peer/b": "2", "gone": "x"})
	mustUpdate(t, db, func(tx core.Tx) error { return tx.Delete([]byte("gone")) })
	var buf bytes.Buffer
	if err := db.Backup(context.Background(), &buf); err != nil {
		t.Fatalf("Backup: %v", err)
	}
	dir := filepath.Join(t.TempDir(), "restored")
	schema, err := restore(context.Background(), dir, &buf, slog.New(slog.DiscardHandler), testRestoreEngine())
	if err != nil {
		t.Fatalf("restore: %v", err)
	}
	if schema != 1 {
		t.Errorf("restored schema = %d, want 1", schema)
	}
	restored := openT(t, dir, nil)
	var got []kv
	if err := restored.View(context.Background(), func(tx core.Tx) error {
		got = scan(t, tx, "", false)
		return nil
	}); err != nil {
		t.Fatalf("View: %v", err)
	}
	want := []kv{{SchemaVersionKey, "1"}, {"peer/a", "1"}, {"peer/b", "2"}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("restored store (-want +got):\n%s", diff)
	}
}

func TestInMemory(t *testing.T) {
	db, err := testOpen(context.Background(), Options{InMemory: true}, nil)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() { _ = db.Close() })
	putAll(t, db, map[string]string{"a": "1"})
	got, err := get(t, db, "a")
	if err != nil {
		t.Fatalf("Get: %v", err)
	}
	if diff := cmp.Diff("1", got); diff != "" {
		t.Errorf("Get (-want +got):\n%s", diff)
	}
	if suiteEngine() != "badger" {
		return // bbolt's in-memory store is a file; its sweep always has a job
	}
	// Badger's GC can never work in memory, so RunGC must give up on its own.
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	db.RunGC(ctx, time.Millisecond)
	if err := ctx.Err(); err != nil {
		t.Errorf("RunGC on an in-memory store ran until ctx was done: %v", err)
	}
}

func TestRunGCStopsOnCancel(t *testing.T) {
	db := openT(t, t.TempDir(), nil)
	putAll(t, db, map[string]string{"big": strings.Repeat("v", 4<<10)}) // reaches the vlog
	mustUpdate(t, db, func(tx core.Tx) error { return tx.Delete([]byte("big")) })
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		db.RunGC(ctx, time.Millisecond)
		close(done)
	}()
	time.Sleep(50 * time.Millisecond) // let a few rounds run
	cancel()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("RunGC still running 10s after cancel")
	}
}

// A filesystem with less than the reserve free refuses writes with
// core.ErrNoSpace and still serves reads; once there is room again (here:
// a smaller reserve) writes go through.
func TestUpdateRefusedBelowReserve(t *testing.T) {
	dir := t.TempDir()
	db, err := testOpen(context.Background(), Options{Dir: dir, Reserve: 1 << 62}, nil)
	if !errors.Is(err, core.ErrNoSpace) {
		t.Fatalf("Open with an exabyte reserve: %v, want ErrNoSpace (the schema write is refused)", err)
	}
	if db != nil {
		db.Close()
	}
	db = openT(t, dir, nil)
	putAll(t, db, map[string]string{"kept": "yes"})
	db.space.Reserve = 1 << 62
	err = db.Update(context.Background(), func(tx core.Tx) error { return tx.Put([]byte("new"), []byte("no"), 0) })
	if !errors.Is(err, core.ErrNoSpace) || !strings.Contains(err.Error(), "kept in reserve") {
		t.Errorf("Update below the reserve: %v, want ErrNoSpace naming the reserve", err)
	}
	if got, err := get(t, db, "kept"); got != "yes" || err != nil {
		t.Errorf("read below the reserve: %q, %v; want \"yes\"", got, err)
	}
	db.space.Reserve = 1
	putAll(t, db, map[string]string{"new": "yes"})
	if got, err := get(t, db, "new"); got != "yes" || err != nil {
		t.Errorf("write after room was made: %q, %v; want \"yes\"", got, err)
	}
}
