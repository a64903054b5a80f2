package golden

import (
	"context"
	"testing"

	"github.com/edgeward/edgeward/core"
	"github.com/edgeward/edgeward/core/store"
	"github.com/google/go-cmp/cmp"
)

func open(t *testing.T) *store.DB {
	t.Helper()
	db, err := store.Open(context.Background(), store.Options{InMemory: true}, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

func TestDumpLoadRoundTrip(t *testing.T) {
	ctx := context.Background()
	recs := map[string]string{
		"rec/b-random-1": `{"ID":"random-1","Tags":["x","y"],"N":3}`,
		"rec/a":          `"a JSON string"`,
		"text":           "198.51.100.7:51820",
		"bin":            "\x00\x01\xff",
		"empty":          "",
	}
	src := open(t)
	err := src.Update(ctx, func(tx core.Tx) error {
		for k, v := range recs {
			if err := tx.Put([]byte(k), []byte(v), 0); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	got, err := Dump(ctx, src, map[string]string{"random-1": "id-1", "random": "never used: the longer match wins"})
	if err != nil {
		t.Fatal(err)
	}
	want := `-- "bin" hex
0001ff
-- "empty" text
""
-- "meta/schema_version" json
1
-- "rec/a" json
"a JSON string"
-- "rec/b-id-1" json
{
	"ID": "id-1",
	"Tags": [
		"x",
		"y"
	],
	"N": 3
}
-- "text" text
"198.51.100.7:51820"
`
	if diff := cmp.Diff(want, string(got)); diff != "" {
		t.Fatalf("dump (-want +got):\n%s", diff)
	}
	// Loaded into a fresh store and dumped again, the dump is the same.
	dst := open(t)
	if err := Load(ctx, dst, append([]byte("# a comment line\n"), got...)); err != nil {
		t.Fatal(err)
	}
	again, err := Dump(ctx, dst, nil)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(string(got), string(again)); diff != "" {
		t.Errorf("dump after load (-want +got):\n%s", diff)
	}
	var v string
	_ = dst.View(ctx, func(tx core.Tx) error {
		b, err := tx.Get([]byte("rec/b-id-1"))
		v = string(b)
		return err
	})
	if want := `{"ID":"id-1","Tags":["x","y"],"N":3}`; v != want {
		t.Errorf("loaded value %q, want the compact stored encoding %q", v, want)
	}
}

func TestLoadRefusesBadRecords(t *testing.T) {
	tests := []struct{ name, dump string }{
		{"bad json", "-- \"k\" json\n{\n"},
		{"bad hex", "-- \"k\" hex\nzz\n"},
		{"unknown encoding", "-- \"k\" yaml\na: 1\n"},
		{"unquoted key", "-- k json\n1\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := Load(context.Background(), open(t), []byte(tt.dump)); err == nil {
				t.Fatal("Load accepted it")
			}
		})
	}
}
