package admin

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/edgeward/edgeward/core"
)

// codeAlphabet leaves out 0/o, 1/l/i and u, so a code read off a console
// can be typed back without guessing: 30 symbols.
const codeAlphabet = "abcdefghjkmnpqrstvwxyz23456789"

// codeLen is the number of symbols in a setup code: 16 × log2(30) ≈ 78 bits.
const codeLen = 16

// setupRecord is the stored setup code.
type setupRecord struct {
	Hash   string // SHA-256 of the normalised code
	Issued time.Time
}

// IssueSetupCode makes a new one-time setup code, replacing any earlier
// one, and returns it: the store keeps only its hash, so the caller must
// hand it to the installer now (edgeward writes it to DIR/setup.code).
// The code is shown in groups of four ("abcd-efgh-jkmn-pqrs"); Setup
// ignores dashes, spaces and case. Errors: ErrConflict once a password is set.
func (s *Service) IssueSetupCode(ctx context.Context) (string, error) {
	if !s.NeedsSetup() {
		return "", core.Conflict("the admin password is already set")
	}
	var raw [codeLen]byte
	if _, err := rand.Read(raw[:]); err != nil {
		return "", fmt.Errorf("read random setup code: %w", err)
	}
	var b strings.Builder
	for i, r := range raw {
		if i > 0 && i%4 == 0 {
			b.WriteByte('-')
		}
		// 256 is not a multiple of 30: the first 16 symbols come up a
		// little more often (9 in 256 against 8), which costs well under
		// a bit of the code's 78.
		b.WriteByte(codeAlphabet[int(r)%len(codeAlphabet)])
	}
	code := b.String()
	rec := setupRecord{Hash: digest(normaliseCode(code)), Issued: s.now().UTC()}
	s.wmu.Lock()
	defer s.wmu.Unlock()
	if err := s.kv.Update(ctx, func(tx core.Tx) error { return core.PutJSON(tx, keySetupCode, rec) }); err != nil {
		return "", fmt.Errorf("store setup code: %w", err)
	}
	return code, nil
}

func normaliseCode(code string) string {
	return strings.Map(func(r rune) rune {
		if r == '-' || r == ' ' || r == '\t' {
			return -1
		}
		if 'A' <= r && r <= 'Z' {
			return r + ('a' - 'A')
		}
		return r
	}, code)
}

// Setup sets the first password when code is the current setup code,
// consumes the code and opens a session, so the installer lands logged in.
// Errors: a ValidationError on field "password" for a bad password; an
// ErrPermission *core.Error on field "code" for a wrong code; ErrConflict
// once a password is set.
func (s *Service) Setup(ctx context.Context, code, password string) (Session, error) {
	if !s.NeedsSetup() {
		return Session{}, core.Conflict("the admin password is already set")
	}
	if err := checkPassword("password", password); err != nil {
		return Session{}, err
	}
	// Hash before taking the write lock: Argon2 is the slow part.
	rec, err := s.hashPassword(password)
	if err != nil {
		return Session{}, err
	}
	sess, srec, err := s.newSession()
	if err != nil {
		return Session{}, err
	}
	want := digest(normaliseCode(code))
	s.wmu.Lock()
	defer s.wmu.Unlock()
	err = s.kv.Update(ctx, func(tx core.Tx) error {
		if _, err := tx.Get([]byte(keyPassword)); err == nil {
			return core.Conflict("the admin password is already set")
		}
		b, err := tx.Get([]byte(keySetupCode))
		if errors.Is(err, core.ErrNotFound) {
			return wrongCode()
		}
		if err != nil {
			return err
		}
		var sr setupRecord
		if err := json.Unmarshal(b, &sr); err != nil {
			return fmt.Errorf("decode setup code: %w", err)
		}
		if subtle.ConstantTimeCompare([]byte(sr.Hash), []byte(want)) != 1 {
			return wrongCode()
		}
		if err := core.PutJSON(tx, keyPassword, rec); err != nil {
			return err
		}
		if err := tx.Delete([]byte(keySetupCode)); err != nil {
			return err
		}
		return putSession(tx, sess.ID, srec)
	})
	if err != nil {
		var pub *core.Error
		if errors.As(err, &pub) {
			return Session{}, err
		}
		return Session{}, fmt.Errorf("set admin password: %w", err)
	}
	s.hasPassword.Store(true)
	return sess, nil
}

func wrongCode() error {
	return &core.Error{Kind: core.ErrPermission, Field: "code", Msg: "wrong setup code"}
}
