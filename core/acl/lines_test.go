package acl

import (
	"context"
	"errors"
	"net/netip"
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

func TestTargetSet(t *testing.T) {
	set := newTargetSet(4)
	for _, tc := range []struct {
		entry string
		fresh bool
	}{
		{"192.0.2.1", true},
		{"192.0.2.1", false},
		{"192.0.2.1:22", true}, // a port makes another target
		{"192.0.2.1:22", false},
		{"192.0.2.1:23", true},
		{"192.0.2.0/24", true}, // ranges and IPv6 go the other way
		{"192.0.2.0/24", false},
		{"2001:db8::1", true},
		{"[2001:db8::1]:22", true},
		{"2001:db8::1", false},
		{"::ffff:192.0.2.1", false}, // unmapped: the same address
	} {
		target, err := ParseTarget(tc.entry)
		if err != nil {
			t.Fatal(err)
		}
		if got := set.add(target); got != tc.fresh {
			t.Errorf("add(%s) = %v, want %v", tc.entry, got, tc.fresh)
		}
	}
}

// TestBulkOverBulk: a large bulk ban into a list of bans builds the map
// aside (grownBans) and keeps every ban there was; a small one sets them
// one by one. Both ways end with every ban held and banned.
func TestBulkOverBulk(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	first := benchAddrs(3000)
	if n, err := f.svc.Bulk(ctx, Ban, first, time.Hour, "tok", Guard{}); err != nil || n != 3000 {
		t.Fatalf("first bulk = %d, %v", n, err)
	}
	second := append(benchAddrs(4000)[2000:], "198.51.100.0/24") // half old, a range
	if n, err := f.svc.Bulk(ctx, Ban, second, 0, "tok", Guard{}); err != nil || n != 2001 {
		t.Fatalf("second bulk = %d, %v", n, err)
	}
	if _, err := f.svc.Bulk(ctx, Ban, []string{"203.0.113.7"}, 0, "tok", Guard{}); err != nil {
		t.Fatalf("small bulk: %v", err)
	}
	if got := f.svc.Counts().Bans; got != 4002 {
		t.Errorf("%d bans, want 4002", got)
	}
	for _, a := range []string{"10.0.0.0", "10.0.11.183", "10.0.15.159", "198.51.100.9", "203.0.113.7"} {
		if !f.svc.Banned(netip.MustParseAddr(a)) {
			t.Errorf("%s is not banned", a)
		}
	}
	f.restart(t)
	if got := f.svc.Counts().Bans; got != 4002 {
		t.Errorf("after a restart: %d bans, want 4002", got)
	}
}
