package admin

import (
	"context"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/edgeward/edgeward/core"
)

// Username is the admin account's name, as API clients that sign in with
// a user name and password send it (Qumulo's qq and Terraform provider
// default to "admin" too).
const Username = "admin"

// APISessionTTL is how long a bearer token from LoginAPI lives. It does
// not slide: a script signs in again, a lost token is dead within the hour.
const APISessionTTL = time.Hour

// keyAPISessionPre sits under keySessionPre, so that a password change or
// a reset (dropSessions) ends the API sessions with the browser ones; the
// distinct prefix keeps a bearer token from working as a cookie and back.
const keyAPISessionPre = keySessionPre + "api/"

// LoginAPI checks the user name and password and opens an API session,
// whose ID is a bearer token stored only as its SHA-256.
// Errors: an ErrPermission *core.Error on field "password" for a wrong
// user name or password (the same for both, so names cannot be probed),
// or while no password is set.
func (s *Service) LoginAPI(ctx context.Context, username, password string) (Session, error) {
	if subtle.ConstantTimeCompare([]byte(username), []byte(Username)) != 1 {
		return Session{}, wrongPassword("password")
	}
	if err := s.checkPassword(ctx, password); err != nil {
		return Session{}, err
	}
	sess, _, err := s.newSession()
	if err != nil {
		return Session{}, err
	}
	now := s.now().UTC()
	r := sessionRecord{Created: now, Expires: now.Add(APISessionTTL)}
	sess.Expires = r.Expires
	b, err := json.Marshal(r)
	if err != nil {
		return Session{}, fmt.Errorf("encode api session: %w", err)
	}
	s.wmu.Lock()
	defer s.wmu.Unlock()
	err = s.kv.Update(ctx, func(tx core.Tx) error {
		return tx.Put([]byte(keyAPISessionPre+digest(sess.ID)), b, APISessionTTL)
	})
	if err != nil {
		return Session{}, fmt.Errorf("store api session: %w", err)
	}
	return sess, nil
}

// CheckAPI returns the live API session with this bearer token.
// Errors: ErrPermission for an unknown, expired or ended one.
func (s *Service) CheckAPI(ctx context.Context, token string) (Session, error) {
	if token == "" {
		return Session{}, core.ErrPermission
	}
	var r sessionRecord
	err := s.kv.View(ctx, func(tx core.Tx) error {
		b, err := tx.Get([]byte(keyAPISessionPre + digest(token)))
		if err != nil {
			return err
		}
		return json.Unmarshal(b, &r)
	})
	if errors.Is(err, core.ErrNotFound) {
		return Session{}, core.ErrPermission
	}
	if err != nil {
		return Session{}, fmt.Errorf("load api session: %w", err)
	}
	if !s.now().UTC().Before(r.Expires) {
		return Session{}, core.ErrPermission
	}
	return Session{ID: token, Expires: r.Expires}, nil
}

// LogoutAPI ends the API session with this bearer token. Ending an
// unknown one is not an error.
func (s *Service) LogoutAPI(ctx context.Context, token string) error {
	return s.endSession(ctx, keyAPISessionPre, token, "end api session")
}
