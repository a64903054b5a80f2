package ui

import (
	"strconv"
	"testing"
	"time"
)

// TestRefusalsOnlyCountRefusals: a source over the limit that keeps
// trying every second is turned away without being counted, so it gets
// in as soon as its first refusal is a minute old, however busy it is.
func TestRefusalsOnlyCountRefusals(t *testing.T) {
	now := time.Unix(1_800_000_000, 0)
	r := newRefusals(LoginLimit, time.Minute)
	r.now = func() time.Time { return now }
	for range LoginLimit {
		if d := r.wait("192.0.2.1"); d != 0 {
			t.Fatalf("refused before the limit: wait %s", d)
		}
		r.refuse("192.0.2.1")
		now = now.Add(time.Second)
	}
	last := now.Add(-time.Second)
	if d := r.wait("192.0.2.1"); d <= 0 || d > time.Minute {
		t.Fatalf("over the limit: wait %s, want (0, 1m]", d)
	}
	if d := r.wait("192.0.2.2"); d != 0 {
		t.Errorf("another source waits %s", d)
	}
	// Busy: tries every second while limited.
	for now.Before(last.Add(time.Minute - 4*time.Second)) {
		if r.wait("192.0.2.1") == 0 {
			t.Fatalf("let in at %s, before its first refusal aged out", now.Sub(last))
		}
		now = now.Add(time.Second)
	}
	if d := r.wait("192.0.2.1"); d != 0 {
		t.Errorf("a minute after its first refusal: wait %s, want 0", d)
	}
	now = last.Add(time.Minute)
	r.wait("192.0.2.1")
	// Old refusals leave the table.
	r.mu.Lock()
	n := len(r.seen)
	r.mu.Unlock()
	if n != 0 {
		t.Errorf("%d sources kept after their refusals aged out", n)
	}
}

// TestRefusalsBounded: a flood of sources never grows the table past
// maxSources.
func TestRefusalsBounded(t *testing.T) {
	r := newRefusals(LoginLimit, time.Minute)
	for i := range maxSources + 500 {
		r.refuse("198.51.100." + strconv.Itoa(i))
	}
	if len(r.seen) > maxSources {
		t.Errorf("%d sources kept, want at most %d", len(r.seen), maxSources)
	}
}
