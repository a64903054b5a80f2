package acl

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/edgeward/edgeward/core"
)

func TestSplitEntries(t *testing.T) {
	entries, lines := SplitEntries("# bans\n192.0.2.1\n\n  198.51.100.0/24  \n# end\n203.0.113.5:22")
	if diff := cmp.Diff([]string{"192.0.2.1", "198.51.100.0/24", "203.0.113.5:22"}, entries); diff != "" {
		t.Errorf("entries (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]int{2, 4, 6}, lines); diff != "" {
		t.Errorf("lines (-want +got):\n%s", diff)
	}
}

// TestBulkByLine: a refused list names the lines of its bad entries.
func TestBulkByLine(t *testing.T) {
	f := newFixture(t)
	entries, lines := SplitEntries("192.0.2.1\n# skip\nnot-an-address\n\n192.0.2.300")
	_, err := f.svc.Bulk(context.Background(), Ban, entries, 0, "tok", Guard{})
	var ve *core.ValidationError
	if !errors.As(ByLine(err, lines), &ve) {
		t.Fatalf("bulk: %v, want a ValidationError", err)
	}
	var got []string
	for _, fe := range ve.Fields {
		got = append(got, fe.Field)
	}
	if diff := cmp.Diff([]string{"line 3", "line 5"}, got); diff != "" {
		t.Errorf("fields (-want +got):\n%s", diff)
	}
	if other := errors.New("x"); ByLine(other, lines) != other {
		t.Error("ByLine changed an error that is no ValidationError")
	}
}

func TestBulkMaxTTL(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	for _, tc := range []struct {
		ttl time.Duration
		ok  bool
	}{{MaxTTL, true}, {MaxTTL + time.Second, false}} {
		_, err := f.svc.Bulk(ctx, Ban, []string{"192.0.2.9"}, tc.ttl, "tok", Guard{})
		var ve *core.ValidationError
		if tc.ok != (err == nil) || (!tc.ok && (!errors.As(err, &ve) || ve.Fields[0].Field != "ttl")) {
			t.Errorf("ttl %s: %v, want ok=%v (or a ttl field error)", tc.ttl, err, tc.ok)
		}
	}
}
