package backup_test

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/edgeward/edgeward/core"
	"github.com/edgeward/edgeward/core/backup"
	"github.com/edgeward/edgeward/core/store"
)

// box is a data dir with a store in it and the backup service over it.
type box struct {
	dir      string
	db       *store.DB
	svc      *backup.Service
	restarts int
}

func newBox(t *testing.T) *box {
	t.Helper()
	b := &box{dir: t.TempDir()}
	b.open(t)
	return b
}

func (b *box) storeDir() string { return filepath.Join(b.dir, "store") }

func (b *box) open(t *testing.T) {
	t.Helper()
	db, err := store.Open(context.Background(), store.Options{Dir: b.storeDir()}, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	b.db = db
	b.svc = backup.New(backup.Config{Store: db, Dir: b.dir, StoreDir: b.storeDir(), Schema: 1,
		Version: "v1.2.3", NodeID: "node-1", NodeName: "edge-1",
		Load: func(ctx context.Context, dir string, r io.Reader) (int, error) {
			return store.Restore(ctx, dir, r, nil)
		},
		Restart: func() { b.restarts++ },
		Now:     func() time.Time { return time.Date(2025, 3, 4, 5, 6, 7, 0, time.UTC) }})
}

func (b *box) put(t *testing.T, key, val string, ttl time.Duration) {
	t.Helper()
	err := b.db.Update(context.Background(), func(tx core.Tx) error { return tx.Put([]byte(key), []byte(val), ttl) })
	if err != nil {
		t.Fatal(err)
	}
}

// dump is every key and value but the schema version.
func (b *box) dump(t *testing.T) map[string]string {
	t.Helper()
	got := map[string]string{}
	err := b.db.View(context.Background(), func(tx core.Tx) error {
		return tx.Scan(nil, false, func(k, v []byte) error {
			got[string(k)] = string(v)
			return nil
		})
	})
	if err != nil {
		t.Fatal(err)
	}
	return got
}

// reopen closes the store, applies a staged restore as the binary does at
// start, and opens the store again.
func (b *box) reopen(t *testing.T) bool {
	t.Helper()
	if err := b.db.Close(); err != nil {
		t.Fatal(err)
	}
	applied, err := backup.Apply(b.dir, b.storeDir())
	if err != nil {
		t.Fatal(err)
	}
	b.open(t)
	return applied
}

func TestBackupRestoreRoundTrip(t *testing.T) {
	ctx := context.Background()
	src := newBox(t)
	src.put(t, "peers/a", "alice", 0)
	src.put(t, "acl/ban/192.0.2.1", "1", time.Hour)
	want := src.dump(t)
	var archive bytes.Buffer
	m, err := src.svc.Backup(ctx, &archive)
	if err != nil {
		t.Fatal(err)
	}
	if m.Format != backup.Format || m.Schema != 1 || m.NodeID != "node-1" || m.Version != "v1.2.3" ||
		m.Secrets != backup.Secrets || m.StoreBytes == 0 || len(m.StoreSHA256) != 64 {
		t.Errorf("manifest = %+v", m)
	}

	dst := newBox(t)
	dst.put(t, "peers/b", "bob, made after the backup", 0)
	got, err := dst.svc.Restore(ctx, bytes.NewReader(archive.Bytes()))
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(m, got); diff != "" {
		t.Errorf("restore manifest (-want +got):\n%s", diff)
	}
	if dst.restarts != 1 {
		t.Errorf("restarts = %d, want 1", dst.restarts)
	}
	// Staged only: the live store is untouched until Apply.
	if _, ok := dst.dump(t)["peers/b"]; !ok {
		t.Error("the live store changed before the restore was applied")
	}
	if !dst.reopen(t) {
		t.Fatal("Apply found no staged restore")
	}
	if diff := cmp.Diff(want, dst.dump(t)); diff != "" {
		t.Errorf("restored store (-want +got):\n%s", diff)
	}
	if dst.reopen(t) {
		t.Error("Apply applied the same restore twice")
	}
	if _, err := os.Stat(filepath.Join(dst.dir, backup.BeforeRestore)); err != nil {
		t.Errorf("the replaced store is not kept: %v", err)
	}
}

// TestApplyAfterCrash: a crash between Apply's two renames leaves no store
// and a staged one; the next Apply finishes the job.
func TestApplyAfterCrash(t *testing.T) {
	ctx := context.Background()
	src := newBox(t)
	src.put(t, "k", "from backup", 0)
	var archive bytes.Buffer
	if _, err := src.svc.Backup(ctx, &archive); err != nil {
		t.Fatal(err)
	}
	dst := newBox(t)
	if _, err := dst.svc.Restore(ctx, &archive); err != nil {
		t.Fatal(err)
	}
	if err := dst.db.Close(); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(dst.storeDir(), filepath.Join(dst.dir, backup.BeforeRestore)); err != nil {
		t.Fatal(err) // the first rename, then the "crash"
	}
	applied, err := backup.Apply(dst.dir, dst.storeDir())
	if err != nil || !applied {
		t.Fatalf("Apply = %v, %v; want true, nil", applied, err)
	}
	dst.open(t)
	if got := dst.dump(t)["k"]; got != "from backup" {
		t.Errorf("k = %q after the resumed restore", got)
	}
}

// archive builds a tar.gz of name/content pairs.
func archive(t *testing.T, files ...string) []byte {
	t.Helper()
	var buf bytes.Buffer
	gz := gzip.NewWriter(&buf)
	tw := tar.NewWriter(gz)
	for i := 0; i < len(files); i += 2 {
		if err := tw.WriteHeader(&tar.Header{Name: files[i], Mode: 0o600, Size: int64(len(files[i+1]))}); err != nil {
			t.Fatal(err)
		}
		if _, err := tw.Write([]byte(files[i+1])); err != nil {
			t.Fatal(err)
		}
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	if err := gz.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// rewrite returns a copy of a real archive with its manifest changed by
// edit and its snapshot replaced when snap is not nil.
func rewrite(t *testing.T, real []byte, edit func(m map[string]any), snap []byte) []byte {
	t.Helper()
	gz, err := gzip.NewReader(bytes.NewReader(real))
	if err != nil {
		t.Fatal(err)
	}
	tr := tar.NewReader(gz)
	var files []string
	for {
		hdr, err := tr.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(tr)
		if hdr.Name == "manifest.json" {
			m := map[string]any{}
			if err := json.Unmarshal(b, &m); err != nil {
				t.Fatal(err)
			}
			edit(m)
			b, _ = json.Marshal(m)
		} else if snap != nil {
			b = snap
		}
		files = append(files, hdr.Name, string(b))
	}
	return archive(t, files...)
}

func TestRestoreRefuses(t *testing.T) {
	ctx := context.Background()
	src := newBox(t)
	src.put(t, "k", "v", 0)
	var good bytes.Buffer
	if _, err := src.svc.Backup(ctx, &good); err != nil {
		t.Fatal(err)
	}
	same := func(map[string]any) {}
	tests := []struct {
		name    string
		file    []byte
		want    error
		message string
	}{
		{"garbage", []byte("hello, not a backup"), core.ErrInvalid, "not a gzip archive"},
		{"foreign tar", archive(t, "etc/passwd", "root:x:0:0"), core.ErrInvalid, "no manifest.json first"},
		{"foreign manifest", archive(t, "manifest.json", `{"format":"other"}`), core.ErrInvalid, "manifest is not one"},
		{"newer schema", rewrite(t, good.Bytes(), func(m map[string]any) { m["schema"] = 2 }, nil), core.ErrUnsupported, "schema version 2 is newer"},
		{"newer format", rewrite(t, good.Bytes(), func(m map[string]any) { m["format_version"] = 9 }, nil), core.ErrUnsupported, "format version 9"},
		{"tampered snapshot", rewrite(t, good.Bytes(), same, []byte("not the snapshot")), core.ErrInvalid, "does not match"},
		{"cut short", good.Bytes()[:good.Len()/2], core.ErrInvalid, "damaged"},
		{"no snapshot", archive(t, "manifest.json", `{"format":"edgeward-backup","format_version":1,"schema":1}`), core.ErrInvalid, "no store checksum"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dst := newBox(t)
			dst.put(t, "live", "kept", 0)
			_, err := dst.svc.Restore(ctx, bytes.NewReader(tt.file))
			if !errors.Is(err, tt.want) {
				t.Fatalf("err = %v, want %v", err, tt.want)
			}
			var pub *core.Error
			if !errors.As(err, &pub) || !strings.Contains(pub.Msg, tt.message) || pub.Field != "file" {
				t.Errorf("err = %#v, want a public error on field file saying %q", err, tt.message)
			}
			if dst.restarts != 0 {
				t.Errorf("a refused restore asked for a restart")
			}
			if dst.reopen(t) {
				t.Error("a refused restore was staged")
			}
			if got := dst.dump(t)["live"]; got != "kept" {
				t.Errorf("live data after a refused restore: %q", got)
			}
			left, _ := filepath.Glob(filepath.Join(dst.dir, ".restore-*"))
			if len(left) > 0 {
				t.Errorf("scratch files left: %v", left)
			}
		})
	}
}
