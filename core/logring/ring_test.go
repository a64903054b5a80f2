package logring

import (
	"bytes"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// asStrings makes chunk lists readable in diffs.
func asStrings(chunks [][]byte) []string {
	if chunks == nil {
		return nil
	}
	out := make([]string, len(chunks))
	for i, c := range chunks {
		out[i] = string(c)
	}
	return out
}

func TestWriteChunkBoundaries(t *testing.T) {
	tests := []struct {
		name      string
		chunkSize int
		chunks    int
		writes    []string
		want      []string
	}{
		{name: "nothing written", chunkSize: 8, chunks: 3, writes: nil, want: nil},
		{name: "empty write ignored", chunkSize: 8, chunks: 3, writes: []string{""}, want: nil},
		{name: "fits in one", chunkSize: 8, chunks: 3, writes: []string{"ab", "cd"}, want: []string{"abcd"}},
		{name: "exactly full", chunkSize: 4, chunks: 3, writes: []string{"ab", "cd"}, want: []string{"abcd"}},
		{name: "one byte over starts a chunk", chunkSize: 4, chunks: 3, writes: []string{"ab", "cde"},
			want: []string{"ab", "cde"}},
		{name: "write never split", chunkSize: 5, chunks: 3, writes: []string{"aaa", "bbb", "ccc"},
			want: []string{"aaa", "bbb", "ccc"}},
		{name: "oversized write alone", chunkSize: 4, chunks: 3, writes: []string{"ab", "0123456789", "cd"},
			want: []string{"ab", "0123456789", "cd"}},
		{name: "oversized first write", chunkSize: 4, chunks: 3, writes: []string{"0123456789", "ab"},
			want: []string{"0123456789", "ab"}},
		{name: "evicts oldest", chunkSize: 4, chunks: 2, writes: []string{"aaaa", "bbbb", "cccc", "dd"},
			want: []string{"cccc", "dd"}},
		{name: "single chunk ring", chunkSize: 4, chunks: 1, writes: []string{"aa", "bb", "cc"},
			want: []string{"cc"}},
		{name: "evicted oversized not reused", chunkSize: 4, chunks: 2,
			writes: []string{"0123456789", "aa", "bb", "cc", "dd"}, want: []string{"aabb", "ccdd"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := New(tt.chunkSize, tt.chunks)
			for _, w := range tt.writes {
				n, err := r.Write([]byte(w))
				if n != len(w) || err != nil {
					t.Fatalf("Write(%q) = %d, %v; want %d, nil", w, n, err, len(w))
				}
			}
			if diff := cmp.Diff(tt.want, asStrings(r.Chunks(100))); diff != "" {
				t.Errorf("Chunks (-want +got):\n%s", diff)
			}
		})
	}
}

func TestChunksN(t *testing.T) {
	r := New(4, 4)
	for _, w := range []string{"aaaa", "bbbb", "cccc", "dddd", "eeee", "ff"} {
		r.Write([]byte(w))
	}
	tests := []struct {
		name string
		n    int
		want []string
	}{
		{name: "newest only is partial chunk", n: 1, want: []string{"ff"}},
		{name: "two oldest first", n: 2, want: []string{"eeee", "ff"}},
		{name: "all", n: 4, want: []string{"cccc", "dddd", "eeee", "ff"}},
		{name: "more than held", n: 99, want: []string{"cccc", "dddd", "eeee", "ff"}},
		{name: "zero", n: 0, want: nil},
		{name: "negative", n: -3, want: nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if diff := cmp.Diff(tt.want, asStrings(r.Chunks(tt.n))); diff != "" {
				t.Errorf("Chunks(%d) (-want +got):\n%s", tt.n, diff)
			}
		})
	}
}

func TestChunksReturnsCopies(t *testing.T) {
	r := New(8, 2)
	r.Write([]byte("abcd"))
	got := r.Chunks(1)
	got[0][0] = 'X'
	got[0] = append(got[0], "tail"...)
	r.Write([]byte("ef")) // must not see or overwrite the caller's bytes
	if diff := cmp.Diff([]string{"abcdef"}, asStrings(r.Chunks(1))); diff != "" {
		t.Errorf("ring after mutating a result (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff("Xbcdtail", string(got[0])); diff != "" {
		t.Errorf("caller's copy (-want +got):\n%s", diff)
	}
}

// TestWholeRecords writes slog records through a Ring from many goroutines
// and checks that every chunk splits cleanly into complete records.
func TestWholeRecords(t *testing.T) {
	const writers, perWriter = 8, 200
	r := New(512, 1000)
	log := slog.New(slog.NewTextHandler(r, nil))
	var wg sync.WaitGroup
	for w := range writers {
		wg.Go(func() {
			for i := range perWriter {
				log.Info("peer connected", "writer", w, "i", i, "pad", strings.Repeat("x", i%97))
			}
		})
	}
	wg.Wait()

	records := 0
	for i, c := range r.Chunks(1000) {
		if len(c) > 512 {
			t.Errorf("chunk %d is %d bytes, over chunkSize", i, len(c))
		}
		if !bytes.HasSuffix(c, []byte("\n")) {
			t.Errorf("chunk %d does not end with a whole record: %q", i, c[max(len(c)-40, 0):])
		}
		for line := range bytes.Lines(c) {
			if !bytes.HasPrefix(line, []byte("time=")) {
				t.Errorf("chunk %d has a partial record: %q", i, line)
			}
			records++
		}
	}
	if records != writers*perWriter {
		t.Errorf("found %d records, want %d", records, writers*perWriter)
	}
}

func TestConcurrentWriteAndChunks(t *testing.T) {
	r := New(64, 4)
	var wg sync.WaitGroup
	for w := range 4 {
		wg.Go(func() {
			for i := range 1000 {
				fmt.Fprintf(r, "w%d record %d\n", w, i)
			}
		})
	}
	wg.Go(func() {
		for range 200 {
			for _, c := range r.Chunks(3) {
				if len(c) > 0 && c[len(c)-1] != '\n' {
					t.Errorf("partial record at chunk end: %q", c)
				}
			}
		}
	})
	wg.Wait()
	if got := len(r.Chunks(100)); got != 4 {
		t.Errorf("len(Chunks(100)) = %d, want 4", got)
	}
}

func TestNewPanicsOnBadSize(t *testing.T) {
	for _, tt := range []struct{ chunkSize, chunks int }{{0, 1}, {1, 0}, {-1, -1}} {
		t.Run(fmt.Sprintf("%d_%d", tt.chunkSize, tt.chunks), func(t *testing.T) {
			defer func() {
				if recover() == nil {
					t.Errorf("New(%d, %d) did not panic", tt.chunkSize, tt.chunks)
				}
			}()
			New(tt.chunkSize, tt.chunks)
		})
	}
}

var _ io.Writer = (*Ring)(nil)

func BenchmarkWrite(b *testing.B) {
	r := New(64<<10, 8)
	rec := []byte(strings.Repeat("x", 199) + "\n")
	b.SetBytes(int64(len(rec)))
	b.ReportAllocs()
	for b.Loop() {
		r.Write(rec)
	}
}
