// Package slots keeps two update slots (a and b) for the edgeward binary
// and the small state file that says which one runs, the gokrazy A/B flow
// for a single binary: a signed upload is written to the inactive slot
// while it is hashed, fsynced, verified, then started on trial; the trial
// version commits itself after its health check, or the next start goes
// back to the slot that ran before. The binary the box was installed with
// is never overwritten: it is the launcher and the fallback ("" slot).
package slots

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sync"
	"time"

	"aead.dev/minisign"

	"github.com/edgeward/edgeward/core"
	"github.com/edgeward/edgeward/core/durable"
)

// Name of the binary inside a slot directory.
const binName = "edgeward"

// State is what the state file holds.
type State struct {
	// Active is the committed slot: "a", "b", or "" for the installed
	// binary.
	Active string `json:"active"`
	// Trial is the slot on trial, "" when none.
	Trial string `json:"trial,omitempty"`
	// Deadline is when the trial must have committed; zero until the
	// launcher first starts it.
	Deadline time.Time `json:"deadline,omitzero"`
	// Attempts counts the starts of the trial slot.
	Attempts int `json:"attempts,omitempty"`
	// RequireFirewall is true when the version that installed the trial
	// had its firewall installed: the trial must too.
	RequireFirewall bool `json:"require_firewall,omitempty"`
	// Versions and SHA256 describe what each slot holds.
	Versions map[string]string `json:"versions,omitempty"`
	SHA256   map[string]string `json:"sha256,omitempty"`
	// RolledBack says why the last trial was abandoned, "" when the last
	// one committed.
	RolledBack string `json:"rolled_back,omitempty"`
	// Updated is when the last update was installed or committed.
	Updated time.Time `json:"updated,omitzero"`
}

// Config configures the slots.
type Config struct {
	// Dir holds a/edgeward, b/edgeward and state.json.
	Dir string
	// Key verifies uploads; nil refuses every upload.
	Key *minisign.PublicKey
	// Installed is the binary the box was installed with (the "" slot).
	Installed string
	// FirewallUp reports whether the running version installed its
	// firewall; nil means it did not.
	FirewallUp func() bool
	// Now is the clock; nil is time.Now.
	Now func() time.Time
}

// Slots is the pair of slots and their state file. Its methods are safe
// for concurrent use within one process; only one upload runs at a time.
type Slots struct {
	cfg     Config
	mu      sync.Mutex // guards the state file
	install sync.Mutex // one upload at a time
}

// New returns the slots under cfg.Dir, creating the directories.
func New(cfg Config) (*Slots, error) {
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	for _, d := range []string{"a", "b"} {
		if err := os.MkdirAll(filepath.Join(cfg.Dir, d), 0o755); err != nil {
			return nil, fmt.Errorf("create slot %s: %w", d, err)
		}
	}
	return &Slots{cfg: cfg}, nil
}

// Binary is the path of slot's binary; the "" slot is the installed one.
func (s *Slots) Binary(slot string) string {
	if slot == "" {
		return s.cfg.Installed
	}
	return filepath.Join(s.cfg.Dir, slot, binName)
}

// HasKey reports whether uploads can be verified at all.
func (s *Slots) HasKey() bool { return s.cfg.Key != nil }

// State reads the state file; a missing file is the zero State.
func (s *Slots) State() (State, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.read()
}

func (s *Slots) read() (State, error) {
	var st State
	b, err := os.ReadFile(filepath.Join(s.cfg.Dir, "state.json"))
	if errors.Is(err, fs.ErrNotExist) {
		return st, nil
	}
	if err != nil {
		return st, fmt.Errorf("read update state: %w", err)
	}
	if err := json.Unmarshal(b, &st); err != nil {
		// A torn or garbled file must not keep the box from starting:
		// durable writes make this unlikely, and the installed binary
		// is always there.
		return State{}, nil
	}
	return st, nil
}

func (s *Slots) write(st State) error {
	b, err := json.MarshalIndent(st, "", "  ")
	if err != nil {
		return err
	}
	return durable.WriteFile(filepath.Join(s.cfg.Dir, "state.json"), append(b, '\n'), 0o644)
}

// change applies fn to the state under the lock and writes it back.
func (s *Slots) change(fn func(*State) error) (State, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	st, err := s.read()
	if err != nil {
		return st, err
	}
	if err := fn(&st); err != nil {
		return st, err
	}
	return st, s.write(st)
}

// inactive is the slot an upload goes to: the one neither active nor on
// trial.
func inactive(st State) string {
	if st.Active == "a" {
		return "b"
	}
	return "a"
}

// Commit makes slot, which must be on trial, the active one. It is what
// the trial version calls once its health check passed; committing a
// slot that is not on trial (it was rolled back meanwhile) is
// core.ErrConflict.
func (s *Slots) Commit(slot string) error {
	_, err := s.change(func(st *State) error {
		if st.Trial == "" || st.Trial != slot {
			return core.Conflict("slot %q is not on trial", slot)
		}
		st.Active, st.Trial, st.Attempts, st.Deadline, st.RolledBack = slot, "", 0, time.Time{}, ""
		st.Updated = s.cfg.Now()
		return nil
	})
	return err
}

// Abandon ends the trial of slot, if it still is on trial, recording why:
// the next start runs the active slot again.
func (s *Slots) Abandon(slot, why string) error {
	_, err := s.change(func(st *State) error {
		if st.Trial == slot && slot != "" {
			st.Trial, st.Attempts, st.Deadline, st.RolledBack = "", 0, time.Time{}, why
		}
		return nil
	})
	return err
}

// Start picks the slot a start of the launcher runs and records the
// start: the trial slot while it has starts left and its deadline has
// not passed (the first start sets the deadline to window from now),
// else the active one, rolling the trial back. So a version that crashes
// at start or never commits cannot keep the box from coming back.
func (s *Slots) Start(maxStarts int, window time.Duration) (slot string, trial bool, err error) {
	now := s.cfg.Now()
	st, err := s.change(func(st *State) error {
		if st.Trial == "" {
			return nil
		}
		switch {
		case st.Attempts >= maxStarts:
			st.RolledBack = fmt.Sprintf("slot %s started %d times without committing", st.Trial, st.Attempts)
		case !st.Deadline.IsZero() && now.After(st.Deadline):
			st.RolledBack = fmt.Sprintf("slot %s did not commit before its deadline", st.Trial)
		default:
			st.Attempts++
			if st.Deadline.IsZero() {
				st.Deadline = now.Add(window)
			}
			return nil
		}
		st.Trial, st.Attempts, st.Deadline = "", 0, time.Time{}
		return nil
	})
	if err != nil {
		return "", false, err
	}
	if st.Trial != "" {
		return st.Trial, true, nil
	}
	if st.Active != "" {
		if _, err := os.Stat(s.Binary(st.Active)); err != nil {
			// A lost slot binary falls back to the installed one.
			return "", false, nil
		}
	}
	return st.Active, false, nil
}
