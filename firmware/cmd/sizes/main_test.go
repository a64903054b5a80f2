package main

import (
	"os"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestOwner(t *testing.T) {
	paths := []string{"github.com/dgraph-io/badger/v4", "github.com/edgeward/edgeward", "go.etcd.io/bbolt"}
	tests := []struct {
		sym, want string
	}{
		{"github.com/dgraph-io/badger/v4/table.(*Table).block", "github.com/dgraph-io/badger/v4"},
		{"github.com/dgraph-io/badger/v4.Open", "github.com/dgraph-io/badger/v4"},
		{"type:*github.com/edgeward/edgeward/core.Error", "github.com/edgeward/edgeward"},
		{"go:itab.*go.etcd.io/bbolt.DB,io.Closer", "go.etcd.io/bbolt"},
		{"crypto/tls.(*Conn).Read", "std"},
		{"runtime.mallocgc", "std"},
		{"go:func.*", "other"},
		{"github.com/other/mod.F", "other"},
	}
	for _, tt := range tests {
		t.Run(tt.sym, func(t *testing.T) {
			if diff := cmp.Diff(tt.want, owner(tt.sym, paths)); diff != "" {
				t.Errorf("owner(%q) (-want +got):\n%s", tt.sym, diff)
			}
		})
	}
}

func TestTargetEnv(t *testing.T) {
	tests := []struct {
		target  string
		want    []string
		wantErr bool
	}{
		{"linux/arm64", []string{"CGO_ENABLED=0", "GOOS=linux", "GOARCH=arm64"}, false},
		{"linux/arm/7", []string{"CGO_ENABLED=0", "GOOS=linux", "GOARCH=arm", "GOARM=7"}, false},
		{"linux/mipsle/softfloat", []string{"CGO_ENABLED=0", "GOOS=linux", "GOARCH=mipsle", "GOMIPS=softfloat"}, false},
		{"linux/amd64/v3", nil, true},
		{"arm64", nil, true},
	}
	for _, tt := range tests {
		t.Run(tt.target, func(t *testing.T) {
			got, err := targetEnv(tt.target)
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("targetEnv (-want +got):\n%s", diff)
			}
			if (err != nil) != tt.wantErr {
				t.Errorf("targetEnv error = %v, want error %v", err, tt.wantErr)
			}
		})
	}
}

// TestBSSRanges reads this test binary, which like every Go binary has a
// .bss and a .noptrbss section.
func TestBSSRanges(t *testing.T) {
	rs, err := bssRanges(os.Args[0])
	if err != nil {
		t.Fatal(err)
	}
	if len(rs) != 2 {
		t.Fatalf("bssRanges = %v, want .bss and .noptrbss", rs)
	}
	for _, r := range rs {
		if r[1] <= r[0] || !inRanges(r[0], rs) || inRanges(r[1], [][2]uint64{r}) {
			t.Errorf("range %x: want start inside, end outside", r)
		}
	}
}
