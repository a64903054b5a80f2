package admin

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/edgeward/edgeward/core"
)

// SessionTTL is how long a session lives after its last use.
const SessionTTL = 30 * time.Minute

// refreshEvery bounds how often Check rewrites a session's expiry: every
// write is an fsync on flash, and a page load every second must not cost
// one each.
const refreshEvery = time.Minute

// Session is a logged-in browser.
type Session struct {
	// ID is the secret the browser presents (a cookie); the store keeps
	// only its SHA-256.
	ID      string
	Expires time.Time
}

// sessionRecord is a stored session, keyed by the digest of its id.
type sessionRecord struct {
	Created time.Time
	Expires time.Time
}

func (s *Service) newSession() (Session, sessionRecord, error) {
	var raw [32]byte
	if _, err := rand.Read(raw[:]); err != nil {
		return Session{}, sessionRecord{}, fmt.Errorf("read random session id: %w", err)
	}
	now := s.now().UTC()
	r := sessionRecord{Created: now, Expires: now.Add(SessionTTL)}
	return Session{ID: base64.RawURLEncoding.EncodeToString(raw[:]), Expires: r.Expires}, r, nil
}

func putSession(tx core.Tx, id string, r sessionRecord) error {
	b, err := json.Marshal(r)
	if err != nil {
		return fmt.Errorf("encode session: %w", err)
	}
	// The store's TTL drops sessions nobody logs out of; Check also
	// compares Expires, so an injected clock is honoured.
	return tx.Put([]byte(keySessionPre+digest(id)), b, SessionTTL)
}

// Login checks the password and opens a session.
// Errors: an ErrPermission *core.Error on field "password" for a wrong
// password, or while no password is set.
func (s *Service) Login(ctx context.Context, password string) (Session, error) {
	if err := s.checkPassword(ctx, password); err != nil {
		return Session{}, err
	}
	return s.openSession(ctx)
}

// checkPassword is the password check of Login and LoginAPI: a wrong
// password, or none set yet, is the same ErrPermission on "password".
func (s *Service) checkPassword(ctx context.Context, password string) error {
	if s.NeedsSetup() || len(password) > MaxPassword {
		return wrongPassword("password")
	}
	rec, err := s.loadPassword(ctx)
	if err != nil {
		return err
	}
	if !s.matches(password, rec) {
		return wrongPassword("password")
	}
	return nil
}

func (s *Service) openSession(ctx context.Context) (Session, error) {
	sess, r, err := s.newSession()
	if err != nil {
		return Session{}, err
	}
	s.wmu.Lock()
	defer s.wmu.Unlock()
	if err := s.kv.Update(ctx, func(tx core.Tx) error { return putSession(tx, sess.ID, r) }); err != nil {
		return Session{}, fmt.Errorf("store session: %w", err)
	}
	return sess, nil
}

// Check returns the live session with this id and slides its expiry
// forward (at most once a minute). Errors: ErrPermission for an unknown,
// expired or ended session.
func (s *Service) Check(ctx context.Context, id string) (Session, error) {
	r, now, err := s.live(ctx, id)
	if err != nil {
		return Session{}, err
	}
	key := []byte(keySessionPre + digest(id))
	if r.Expires.Sub(now) > SessionTTL-refreshEvery {
		return Session{ID: id, Expires: r.Expires}, nil
	}
	r.Expires = now.Add(SessionTTL)
	s.wmu.Lock()
	defer s.wmu.Unlock()
	err = s.kv.Update(ctx, func(tx core.Tx) error {
		// A logout or password change may have ended it meanwhile.
		if _, err := tx.Get(key); err != nil {
			return err
		}
		return putSession(tx, id, r)
	})
	if errors.Is(err, core.ErrNotFound) {
		return Session{}, core.ErrPermission
	}
	if err != nil {
		return Session{}, fmt.Errorf("refresh session: %w", err)
	}
	return Session{ID: id, Expires: r.Expires}, nil
}

// Peek is Check without sliding the expiry: what a page polls or streams
// in the background must not keep an unattended browser logged in.
func (s *Service) Peek(ctx context.Context, id string) (Session, error) {
	r, _, err := s.live(ctx, id)
	if err != nil {
		return Session{}, err
	}
	return Session{ID: id, Expires: r.Expires}, nil
}

// live loads the unexpired session with this id. Errors: ErrPermission.
func (s *Service) live(ctx context.Context, id string) (sessionRecord, time.Time, error) {
	if id == "" {
		return sessionRecord{}, time.Time{}, core.ErrPermission
	}
	var r sessionRecord
	err := s.kv.View(ctx, func(tx core.Tx) error {
		b, err := tx.Get([]byte(keySessionPre + digest(id)))
		if err != nil {
			return err
		}
		return json.Unmarshal(b, &r)
	})
	if errors.Is(err, core.ErrNotFound) {
		return sessionRecord{}, time.Time{}, core.ErrPermission
	}
	if err != nil {
		return sessionRecord{}, time.Time{}, fmt.Errorf("load session: %w", err)
	}
	now := s.now().UTC()
	if !now.Before(r.Expires) {
		return sessionRecord{}, time.Time{}, core.ErrPermission
	}
	return r, now, nil
}

// Logout ends the session with this id. Ending an unknown session is not
// an error, so a double logout is harmless.
func (s *Service) Logout(ctx context.Context, id string) error {
	return s.endSession(ctx, keySessionPre, id, "end session")
}

// endSession deletes the session record of secret under prefix; an empty
// secret has none.
func (s *Service) endSession(ctx context.Context, prefix, secret, what string) error {
	if secret == "" {
		return nil
	}
	s.wmu.Lock()
	defer s.wmu.Unlock()
	err := s.kv.Update(ctx, func(tx core.Tx) error { return tx.Delete([]byte(prefix + digest(secret))) })
	if err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	return nil
}
