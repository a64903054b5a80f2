package slots

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"

	"aead.dev/minisign"
	"github.com/google/go-cmp/cmp"

	"github.com/edgeward/edgeward/core"
	"github.com/edgeward/edgeward/firmware/slots/slotstest"
)

// clock is a settable Now.
type clock struct{ t time.Time }

func (c *clock) now() time.Time { return c.t }

// TestStart walks the launcher's choices: a trial gets its starts, then
// rolls back; a trial past its deadline rolls back; a commit makes the
// trial slot active.
func TestStart(t *testing.T) {
	c := &clock{t: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
	s, err := New(Config{Dir: t.TempDir(), Installed: "/usr/bin/edgeward", Now: c.now})
	if err != nil {
		t.Fatal(err)
	}
	put := func(st State) {
		t.Helper()
		if _, err := s.change(func(old *State) error { *old = st; return nil }); err != nil {
			t.Fatal(err)
		}
	}
	start := func(wantSlot string, wantTrial bool) {
		t.Helper()
		slot, trial, err := s.Start(2, time.Minute)
		if err != nil || slot != wantSlot || trial != wantTrial {
			t.Fatalf("Start = %q, %v, %v; want %q, %v", slot, trial, err, wantSlot, wantTrial)
		}
	}
	start("", false) // nothing installed yet: the installed binary
	if got := s.Binary(""); got != "/usr/bin/edgeward" {
		t.Errorf("Binary(\"\") = %q", got)
	}

	// A trial that keeps exiting: two starts, then back to "".
	put(State{Trial: "a"})
	start("a", true)
	start("a", true)
	start("", false)
	st, _ := s.State()
	if diff := cmp.Diff(State{RolledBack: "slot a started 2 times without committing"}, st); diff != "" {
		t.Errorf("after the starts ran out (-want +got):\n%s", diff)
	}

	// A trial that runs past its deadline.
	put(State{Trial: "a"})
	start("a", true)
	c.t = c.t.Add(2 * time.Minute)
	start("", false)
	if st, _ := s.State(); st.RolledBack != "slot a did not commit before its deadline" {
		t.Errorf("rolled back: %q", st.RolledBack)
	}

	// A trial that commits becomes the active slot; its binary must exist.
	put(State{Trial: "a"})
	start("a", true)
	if err := s.Commit("b"); !errors.Is(err, core.ErrConflict) {
		t.Errorf("Commit of a slot not on trial: %v, want ErrConflict", err)
	}
	if err := s.Commit("a"); err != nil {
		t.Fatal(err)
	}
	start("", false) // a/edgeward is missing: the installed binary
	if err := os.WriteFile(s.Binary("a"), []byte("x"), 0o755); err != nil {
		t.Fatal(err)
	}
	start("a", false)
	if err := s.Abandon("a", "no"); err != nil {
		t.Fatal(err)
	}
	if st, _ := s.State(); st.Active != "a" || st.RolledBack != "" {
		t.Errorf("Abandon of a committed slot changed the state: %+v", st)
	}
}

// TestInstall checks the refusals and a good upload of a shell script
// that answers "version".
func TestInstall(t *testing.T) {
	pub, priv := slotstest.Key(t)
	_, other := slotstest.Key(t)
	file := []byte("#!/bin/sh\necho edgeward v9\n")
	sig := func(k minisign.PrivateKey, b []byte) []byte { return slotstest.Sign(t, k, b) }
	good := sig(priv, file)
	tests := []struct {
		name      string
		key       *minisign.PublicKey
		trial     string
		file, sig []byte
		sha       string
		wantKind  error
		wantField string
	}{
		{"no key", nil, "", file, good, "", core.ErrPermission, ""},
		{"no signature", &pub, "", file, nil, "", core.ErrInvalid, "signature"},
		{"other key", &pub, "", file, sig(other, file), "", core.ErrInvalid, "signature"},
		{"tampered", &pub, "", append(bytes.Clone(file), '\n'), good, "", core.ErrInvalid, "signature"},
		{"wrong sha256", &pub, "", file, good, "00", core.ErrInvalid, "sha256"},
		{"does not run", &pub, "", []byte("\x7fELF junk"), sig(priv, []byte("\x7fELF junk")), "", core.ErrInvalid, "file"},
		{"trial pending", &pub, "b", file, good, "", core.ErrConflict, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			s, err := New(Config{Dir: dir, Key: tt.key})
			if err != nil {
				t.Fatal(err)
			}
			if tt.trial != "" {
				_, _ = s.change(func(st *State) error { st.Trial = tt.trial; return nil })
			}
			_, err = s.Install(context.Background(), bytes.NewReader(tt.file), tt.sig, tt.sha)
			var ce *core.Error
			if !errors.Is(err, tt.wantKind) || !errors.As(err, &ce) || ce.Field != tt.wantField {
				t.Fatalf("Install: %v, want kind %v on field %q", err, tt.wantKind, tt.wantField)
			}
			for _, d := range []string{"a", "b"} {
				if es, _ := os.ReadDir(filepath.Join(dir, d)); len(es) != 0 {
					t.Errorf("refused upload left %s/%s", d, es[0].Name())
				}
			}
		})
	}

	s, err := New(Config{Dir: t.TempDir(), Key: &pub, FirewallUp: func() bool { return true }})
	if err != nil {
		t.Fatal(err)
	}
	got, err := s.Install(context.Background(), bytes.NewReader(file), good, "")
	if err != nil {
		t.Fatal(err)
	}
	want := Installed{Slot: "a", SHA256: got.SHA256, Size: int64(len(file)), Version: "v9"}
	if diff := cmp.Diff(want, got); diff != "" || len(got.SHA256) != 64 {
		t.Errorf("Install (-want +got):\n%s", diff)
	}
	st, _ := s.State()
	if st.Trial != "a" || !st.RequireFirewall || st.Versions["a"] != "v9" || st.SHA256["a"] != got.SHA256 {
		t.Errorf("state after Install: %+v", st)
	}
}
