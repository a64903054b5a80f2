// Package admin keeps the appliance's one admin account for the web pages:
// its password, the one-time setup code that sets the first password, and
// the login sessions.
//
// Nothing secret is stored in the clear. The password is hashed with
// Argon2id (19 MiB, 2 passes, 1 thread: the OWASP minimum, which a 128 MiB
// router can afford for a handful of logins a day); the setup code and the
// session ids are long random strings, so their SHA-256 is enough, as for
// API tokens (core/auth).
package admin

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"
	"unicode/utf8"

	"golang.org/x/crypto/argon2"

	"github.com/edgeward/edgeward/core"
)

// Password limits. The upper bound only keeps the hash input sane.
const (
	MinPassword = 10
	MaxPassword = 1024
)

// Argon2id parameters for new passwords. Stored hashes carry their own,
// so these can be raised later without locking anyone out.
const (
	argonTime    = 2
	argonMemory  = 19 * 1024 // KiB
	argonThreads = 1
	argonKeyLen  = 32
	saltLen      = 16
)

const (
	keyPassword   = "admin/password"
	keySetupCode  = "admin/setup_code"
	keySessionPre = "admin/session/"
)

// Service is the admin account. It is safe for concurrent use.
type Service struct {
	kv  core.KV
	now func() time.Time

	// wmu serialises writes; hashMu lets one Argon2 hash run at a time, so
	// a burst of logins costs 19 MiB, not 19 MiB each.
	wmu    sync.Mutex
	hashMu sync.Mutex
	// hasPassword mirrors whether the store holds a password.
	hasPassword atomic.Bool
}

// New loads the account state from kv. now may be nil (time.Now).
func New(ctx context.Context, kv core.KV, now func() time.Time) (*Service, error) {
	if now == nil {
		now = time.Now
	}
	s := &Service{kv: kv, now: now}
	err := kv.View(ctx, func(tx core.Tx) error {
		_, err := tx.Get([]byte(keyPassword))
		return err
	})
	switch {
	case err == nil:
		s.hasPassword.Store(true)
	case !errors.Is(err, core.ErrNotFound):
		return nil, fmt.Errorf("load admin password: %w", err)
	}
	return s, nil
}

// NeedsSetup reports whether no password has been set yet: until then the
// pages offer only the setup form.
func (s *Service) NeedsSetup() bool { return !s.hasPassword.Load() }

// passwordRecord is the stored password hash with its parameters.
type passwordRecord struct {
	Salt    []byte
	Hash    []byte
	Time    uint32
	Memory  uint32 // KiB
	Threads uint8
	SetAt   time.Time
}

func (s *Service) hashPassword(password string) (passwordRecord, error) {
	r := passwordRecord{Salt: make([]byte, saltLen), Time: argonTime, Memory: argonMemory, Threads: argonThreads, SetAt: s.now().UTC()}
	if _, err := rand.Read(r.Salt); err != nil {
		return passwordRecord{}, fmt.Errorf("read random salt: %w", err)
	}
	r.Hash = s.argon(password, r)
	return r, nil
}

// matches reports whether password hashes to r, in constant time.
func (s *Service) matches(password string, r passwordRecord) bool {
	got := s.argon(password, r)
	return subtle.ConstantTimeCompare(got, r.Hash) == 1
}

func (s *Service) argon(password string, r passwordRecord) []byte {
	s.hashMu.Lock()
	defer s.hashMu.Unlock()
	return argon2.IDKey([]byte(password), r.Salt, r.Time, r.Memory, r.Threads, argonKeyLen)
}

// checkPassword validates a new password; field names the form field.
func checkPassword(field, password string) error {
	n := utf8.RuneCountInString(password)
	if n < MinPassword {
		return core.Invalid(field, "must be at least %d characters", MinPassword)
	}
	if len(password) > MaxPassword {
		return core.Invalid(field, "must be at most %d bytes", MaxPassword)
	}
	return nil
}

func (s *Service) loadPassword(ctx context.Context) (passwordRecord, error) {
	var r passwordRecord
	err := s.kv.View(ctx, func(tx core.Tx) error {
		b, err := tx.Get([]byte(keyPassword))
		if err != nil {
			return err
		}
		return json.Unmarshal(b, &r)
	})
	if err != nil {
		return passwordRecord{}, fmt.Errorf("load admin password: %w", err)
	}
	return r, nil
}

// ChangePassword replaces the password after checking the current one, and
// ends every session: a stolen session must not outlive the password it
// was opened with. It returns a new session for the caller.
// Errors: an ErrPermission *core.Error on field "current" for a wrong
// current password; a ValidationError on field "new" for a bad new one.
func (s *Service) ChangePassword(ctx context.Context, current, next string) (Session, error) {
	if err := checkPassword("new", next); err != nil {
		return Session{}, err
	}
	if s.NeedsSetup() {
		return Session{}, wrongPassword("current")
	}
	old, err := s.loadPassword(ctx)
	if err != nil {
		return Session{}, err
	}
	if !s.matches(current, old) {
		return Session{}, wrongPassword("current")
	}
	rec, err := s.hashPassword(next)
	if err != nil {
		return Session{}, err
	}
	sess, srec, err := s.newSession()
	if err != nil {
		return Session{}, err
	}
	s.wmu.Lock()
	defer s.wmu.Unlock()
	err = s.kv.Update(ctx, func(tx core.Tx) error {
		if err := core.PutJSON(tx, keyPassword, rec); err != nil {
			return err
		}
		if err := dropSessions(tx); err != nil {
			return err
		}
		return putSession(tx, sess.ID, srec)
	})
	if err != nil {
		return Session{}, fmt.Errorf("change admin password: %w", err)
	}
	return sess, nil
}

func wrongPassword(field string) error {
	return &core.Error{Kind: core.ErrPermission, Field: field, Msg: "wrong password"}
}

// digest is the stored form of a long random secret.
func digest(secret string) string {
	sum := sha256.Sum256([]byte(secret))
	return hex.EncodeToString(sum[:])
}

// dropSessions deletes every session.
func dropSessions(tx core.Tx) error {
	var keys [][]byte
	err := tx.Scan([]byte(keySessionPre), false, func(k, _ []byte) error {
		keys = append(keys, append([]byte(nil), k...))
		return nil
	})
	if err != nil {
		return err
	}
	for _, k := range keys {
		if err := tx.Delete(k); err != nil {
			return err
		}
	}
	return nil
}

// Reset forgets the admin password and every session, for an admin who
// lost the password: the next start issues a new setup code, which only
// someone who can read the data directory gets.
func (s *Service) Reset(ctx context.Context) error {
	s.wmu.Lock()
	defer s.wmu.Unlock()
	err := s.kv.Update(ctx, func(tx core.Tx) error {
		if err := tx.Delete([]byte(keyPassword)); err != nil {
			return err
		}
		if err := tx.Delete([]byte(keySetupCode)); err != nil {
			return err
		}
		return dropSessions(tx)
	})
	if err != nil {
		return fmt.Errorf("reset admin password: %w", err)
	}
	s.hasPassword.Store(false)
	return nil
}
