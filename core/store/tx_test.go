package store

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/edgeward/edgeward/core"
)

// getPutDeleteCases run fn in one Update, then Get key.
var getPutDeleteCases = []struct {
	name    string
	fn      func(tx core.Tx) error
	key     string
	want    string
	wantErr error
}{
	{
		name: "put then get",
		fn:   func(tx core.Tx) error { return tx.Put([]byte("a"), []byte("1"), 0) },
		key:  "a",
		want: "1",
	},
	{
		name:    "missing key",
		fn:      func(core.Tx) error { return nil },
		key:     "a",
		wantErr: core.ErrNotFound,
	},
	{
		name: "overwrite",
		fn: func(tx core.Tx) error {
			return errors.Join(tx.Put([]byte("a"), []byte("1"), 0), tx.Put([]byte("a"), []byte("2"), 0))
		},
		key:  "a",
		want: "2",
	},
	{
		name: "delete",
		fn: func(tx core.Tx) error {
			return errors.Join(tx.Put([]byte("a"), []byte("1"), 0), tx.Delete([]byte("a")))
		},
		key:     "a",
		wantErr: core.ErrNotFound,
	},
	{
		name:    "delete missing key",
		fn:      func(tx core.Tx) error { return tx.Delete([]byte("a")) },
		key:     "a",
		wantErr: core.ErrNotFound,
	},
	{
		name: "caller reuses buffers before commit",
		fn: func(tx core.Tx) error {
			k, v := []byte("a"), []byte("1")
			err := tx.Put(k, v, 0)
			copy(k, "b")
			copy(v, "9")
			return err
		},
		key:  "a",
		want: "1",
	},
}

func TestGetPutDelete(t *testing.T) {
	for _, tt := range getPutDeleteCases {
		t.Run(tt.name, func(t *testing.T) {
			db := openT(t, t.TempDir(), nil)
			mustUpdate(t, db, tt.fn)
			got, err := get(t, db, tt.key)
			if diff := cmp.Diff(tt.wantErr, err, cmpopts.EquateErrors()); diff != "" {
				t.Errorf("Get(%q) error (-want +got):\n%s", tt.key, diff)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("Get(%q) (-want +got):\n%s", tt.key, diff)
			}
		})
	}
}

func TestGetReturnsCopy(t *testing.T) {
	db := openT(t, t.TempDir(), nil)
	putAll(t, db, map[string]string{"a": "1"})
	var first []byte
	err := db.View(context.Background(), func(tx core.Tx) error {
		var err error
		first, err = tx.Get([]byte("a"))
		return err
	})
	if err != nil {
		t.Fatalf("View: %v", err)
	}
	first[0] = 'x'
	got, err := get(t, db, "a")
	if err != nil {
		t.Fatalf("Get: %v", err)
	}
	if diff := cmp.Diff("1", got); diff != "" {
		t.Errorf("Get after changing an earlier result (-want +got):\n%s", diff)
	}
}

func TestScan(t *testing.T) {
	db := openT(t, t.TempDir(), nil)
	putAll(t, db, map[string]string{
		"pe": "0", "peer/a": "1", "peer/b": "2", "peer/c": "3",
		"peers/x": "4", "peerz": "5", "policy/1": "6",
	})
	tests := []struct {
		name    string
		prefix  string
		reverse bool
		want    []kv
	}{
		{"prefix", "peer/", false, []kv{{"peer/a", "1"}, {"peer/b", "2"}, {"peer/c", "3"}}},
		{"prefix reverse", "peer/", true, []kv{{"peer/c", "3"}, {"peer/b", "2"}, {"peer/a", "1"}}},
		{"longer sibling prefix", "peers/", false, []kv{{"peers/x", "4"}}},
		{"longer sibling prefix reverse", "peers/", true, []kv{{"peers/x", "4"}}},
		{"shared beginning", "peer", false, []kv{
			{"peer/a", "1"}, {"peer/b", "2"}, {"peer/c", "3"}, {"peers/x", "4"}, {"peerz", "5"},
		}},
		{"shared beginning reverse", "peer", true, []kv{
			{"peerz", "5"}, {"peers/x", "4"}, {"peer/c", "3"}, {"peer/b", "2"}, {"peer/a", "1"},
		}},
		{"prefix equal to a key", "pe", false, []kv{
			{"pe", "0"}, {"peer/a", "1"}, {"peer/b", "2"}, {"peer/c", "3"}, {"peers/x", "4"}, {"peerz", "5"},
		}},
		{"no match", "route/", false, nil},
		{"no match reverse", "route/", true, nil},
		{"everything reverse", "", true, []kv{
			{"policy/1", "6"}, {"peerz", "5"}, {"peers/x", "4"}, {"peer/c", "3"},
			{"peer/b", "2"}, {"peer/a", "1"}, {"pe", "0"}, {SchemaVersionKey, "1"},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got []kv
			err := db.View(context.Background(), func(tx core.Tx) error {
				got = scan(t, tx, tt.prefix, tt.reverse)
				return nil
			})
			if err != nil {
				t.Fatalf("View: %v", err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("Scan(%q, reverse=%v) (-want +got):\n%s", tt.prefix, tt.reverse, diff)
			}
		})
	}
}

func TestScanSeesOwnWritesAndStopsOnError(t *testing.T) {
	db := openT(t, t.TempDir(), nil)
	putAll(t, db, map[string]string{"peer/a": "1", "peer/c": "3"})
	var all, visited []kv
	err := db.Update(context.Background(), func(tx core.Tx) error {
		if err := tx.Put([]byte("peer/b"), []byte("2"), 0); err != nil {
			return err
		}
		all = scan(t, tx, "peer/", false)
		return tx.Scan([]byte("peer/"), true, func(k, v []byte) error {
			visited = append(visited, kv{string(k), string(v)})
			return errBoom
		})
	})
	if diff := cmp.Diff(errBoom, err, cmpopts.EquateErrors()); diff != "" {
		t.Errorf("Update error (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]kv{{"peer/a", "1"}, {"peer/b", "2"}, {"peer/c", "3"}}, all); diff != "" {
		t.Errorf("Scan in Update (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]kv{{"peer/c", "3"}}, visited); diff != "" {
		t.Errorf("keys visited before the error (-want +got):\n%s", diff)
	}
}

func TestTTL(t *testing.T) {
	t.Parallel()
	db := openT(t, t.TempDir(), nil)
	mustUpdate(t, db, func(tx core.Tx) error {
		return errors.Join(
			tx.Put([]byte("t/short"), []byte("1"), time.Second),
			// Badger alone may expire this at once (whole-second expiry).
			// A TTL of 1ns would only promise 1ns: read across a second
			// boundary, such a key is rightly gone.
			tx.Put([]byte("t/tiny"), []byte("2"), 500*time.Millisecond),
			tx.Put([]byte("t/forever"), []byte("3"), 0),
		)
	})
	list := func() []kv {
		var got []kv
		if err := db.View(context.Background(), func(tx core.Tx) error {
			got = scan(t, tx, "t/", false)
			return nil
		}); err != nil {
			t.Fatalf("View: %v", err)
		}
		return got
	}
	want := []kv{{"t/forever", "3"}, {"t/short", "1"}, {"t/tiny", "2"}}
	if diff := cmp.Diff(want, list()); diff != "" {
		t.Errorf("before expiry (-want +got):\n%s", diff)
	}
	time.Sleep(2100 * time.Millisecond) // a 1s TTL lives at most 2s
	if diff := cmp.Diff([]kv{{"t/forever", "3"}}, list()); diff != "" {
		t.Errorf("after expiry (-want +got):\n%s", diff)
	}
	_, err := get(t, db, "t/short")
	if diff := cmp.Diff(core.ErrNotFound, err, cmpopts.EquateErrors()); diff != "" {
		t.Errorf("Get expired key error (-want +got):\n%s", diff)
	}
}

func TestTooBig(t *testing.T) {
	onlyOn(t, "badger", "bbolt has no transaction size limit")
	db := openT(t, t.TempDir(), nil)
	val := bytes.Repeat([]byte("v"), 1000)
	err := db.Update(context.Background(), func(tx core.Tx) error {
		for i := range 1000 { // about 1 MB; the limit is 15% of 4 MiB
			if err := tx.Put(fmt.Appendf(nil, "big/%04d", i), val, 0); err != nil {
				return err
			}
		}
		return nil
	})
	type result struct {
		Invalid bool
		Msg     string
	}
	var pub *core.Error
	if !errors.As(err, &pub) {
		t.Fatalf("Update error = %v, want a *core.Error", err)
	}
	got := result{Invalid: errors.Is(err, core.ErrInvalid), Msg: pub.Msg}
	want := result{Invalid: true, Msg: "change too large for one transaction"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Update error (-want +got):\n%s", diff)
	}
}
