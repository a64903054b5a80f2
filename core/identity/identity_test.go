package identity_test

import (
	"context"
	"encoding/base64"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/edgeward/edgeward/core"
	"github.com/edgeward/edgeward/core/identity"
	"github.com/edgeward/edgeward/core/store"
	"github.com/edgeward/edgeward/core/wgkey"
)

const keyName = "node/private_key"

// openStore opens a Badger store in dir; it is closed when the test ends
// unless the caller closes it first through the returned func.
func openStore(t *testing.T, dir string) (*store.DB, func()) {
	t.Helper()
	db, err := store.Open(context.Background(), store.Options{Dir: dir}, nil)
	if err != nil {
		t.Fatalf("store.Open(%s): %v", dir, err)
	}
	var once sync.Once
	closeDB := func() {
		once.Do(func() {
			if err := db.Close(); err != nil {
				t.Errorf("Close: %v", err)
			}
		})
	}
	t.Cleanup(closeDB)
	return db, closeDB
}

func load(t *testing.T, kv core.KV) identity.Node {
	t.Helper()
	n, err := identity.Load(context.Background(), kv)
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	return n
}

// stored returns the raw value under the node key.
func stored(t *testing.T, kv core.KV) (string, error) {
	t.Helper()
	var v []byte
	err := kv.View(context.Background(), func(tx core.Tx) error {
		var err error
		v, err = tx.Get([]byte(keyName))
		return err
	})
	return string(v), err
}

func TestLoad(t *testing.T) {
	dir := t.TempDir()
	db, closeDB := openStore(t, dir)

	first := load(t, db)
	second := load(t, db)
	closeDB()
	db2, _ := openStore(t, dir)
	reopened := load(t, db2)
	raw, err := stored(t, db2)
	if err != nil {
		t.Fatalf("read stored key: %v", err)
	}

	pub, err := wgkey.Public(first.Private)
	if err != nil {
		t.Fatalf("Public: %v", err)
	}
	type facts struct {
		PublicDerived bool // Public is wgkey.Public(Private)
		Clamped       bool // Private is clamped as WireGuard expects
		NonZero       bool
		Stored        string // what the store holds under the node key
		Second        identity.Node
		Reopened      identity.Node
	}
	want := facts{
		PublicDerived: true,
		Clamped:       true,
		NonZero:       true,
		Stored:        first.Private.String(),
		Second:        first,
		Reopened:      first,
	}
	got := facts{
		PublicDerived: pub == first.Public,
		Clamped:       first.Private[0]&7 == 0 && first.Private[31]&128 == 0 && first.Private[31]&64 != 0,
		NonZero:       first.Private != wgkey.Key{} && first.Public != wgkey.Key{},
		Stored:        raw,
		Second:        second,
		Reopened:      reopened,
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Load (-want +got):\n%s", diff)
	}
}

func TestLoadDistinctStores(t *testing.T) {
	a, _ := openStore(t, t.TempDir())
	b, _ := openStore(t, t.TempDir())
	na, nb := load(t, a), load(t, b)
	if na.Private == nb.Private || na.Public == nb.Public {
		t.Errorf("two fresh stores got the same key pair: %s / %s", na.Public, nb.Public)
	}
}

func TestLoadKeepsImportedKey(t *testing.T) {
	priv, pub, err := wgkey.Generate()
	if err != nil {
		t.Fatalf("Generate: %v", err)
	}
	db, _ := openStore(t, t.TempDir())
	if err := db.Update(context.Background(), func(tx core.Tx) error {
		return tx.Put([]byte(keyName), []byte(priv.String()), 0)
	}); err != nil {
		t.Fatalf("Update: %v", err)
	}
	want := identity.Node{Private: priv, Public: pub}
	if diff := cmp.Diff(want, load(t, db)); diff != "" {
		t.Errorf("Load of a stored key (-want +got):\n%s", diff)
	}
}

func TestLoadCorrupt(t *testing.T) {
	tests := []struct {
		name    string
		val     string
		wantErr string
	}{
		{"garbage", "garbage!", "stored node key: not valid base64"},
		{"empty", "", "stored node key: must be base64 of exactly 32 bytes, got 0"},
		{"31 bytes", base64.StdEncoding.EncodeToString(make([]byte, 31)), "stored node key: must be base64 of exactly 32 bytes, got 31"},
		{"33 bytes", base64.StdEncoding.EncodeToString(make([]byte, 33)), "stored node key: must be base64 of exactly 32 bytes, got 33"},
		{"url alphabet", strings.Repeat("_", 43) + "=", "stored node key: not valid base64"},
		{"trailing space", base64.StdEncoding.EncodeToString(make([]byte, 32)) + " ", "stored node key: not valid base64"},
		{"raw bytes", string(make([]byte, 32)), "stored node key: not valid base64"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			db, _ := openStore(t, t.TempDir())
			if err := db.Update(context.Background(), func(tx core.Tx) error {
				return tx.Put([]byte(keyName), []byte(tt.val), 0)
			}); err != nil {
				t.Fatalf("Update: %v", err)
			}
			n, err := identity.Load(context.Background(), db)
			gotErr := ""
			if err != nil {
				gotErr = err.Error()
			}
			if diff := cmp.Diff(tt.wantErr, gotErr); diff != "" {
				t.Errorf("Load error (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(identity.Node{}, n); diff != "" {
				t.Errorf("Node returned with the error (-want +got):\n%s", diff)
			}
			// The node's identity is never silently replaced.
			raw, err := stored(t, db)
			if err != nil {
				t.Fatalf("read stored key: %v", err)
			}
			if diff := cmp.Diff(tt.val, raw); diff != "" {
				t.Errorf("stored key after a failed Load (-want +got):\n%s", diff)
			}
		})
	}
}

func TestLoadCanceled(t *testing.T) {
	db, _ := openStore(t, t.TempDir())
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	n, err := identity.Load(ctx, db)
	if diff := cmp.Diff(context.Canceled, err, cmpopts.EquateErrors()); diff != "" {
		t.Errorf("Load error (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(identity.Node{}, n); diff != "" {
		t.Errorf("Node returned with the error (-want +got):\n%s", diff)
	}
	if _, err := stored(t, db); !core.IsNotFound(err) {
		t.Errorf("stored key after a canceled Load: err = %v, want ErrNotFound", err)
	}
}
