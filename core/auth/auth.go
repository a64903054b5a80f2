// Package auth issues and checks the API tokens of edgeward.
//
// A token is 256 random bits shown to its owner once; the store keeps only
// its SHA-256. A slow password hash buys nothing for secrets this long, and
// a fast one lets every API request be checked with one map lookup.
package auth

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/edgeward/edgeward/core"
	"github.com/rs/xid"
)

// Roles.
const (
	RoleAdmin  = "admin"
	RoleViewer = "viewer"
	// RoleMetrics may only scrape /metrics: a monitoring system's token
	// reads nothing else, so a leaked scrape config leaks no peers.
	RoleMetrics = "metrics"
)

// prefix marks edgeward tokens so that secret scanners and humans can tell
// them apart from other secrets.
const prefix = "ewt_"

const keyPrefix = "token/"

// Token is a stored token: never the secret itself.
type Token struct {
	ID        string
	Name      string
	Role      string
	Hash      string // hex SHA-256 of the secret
	CreatedAt time.Time
}

// Tokens is the token registry. It is safe for concurrent use.
type Tokens struct {
	kv  core.KV
	now func() time.Time

	wmu    sync.Mutex
	mu     sync.RWMutex
	byID   map[string]*Token
	byHash map[string]*Token
}

// New loads the tokens from kv.
func New(ctx context.Context, kv core.KV, now func() time.Time) (*Tokens, error) {
	if now == nil {
		now = time.Now
	}
	t := &Tokens{kv: kv, now: now, byID: map[string]*Token{}, byHash: map[string]*Token{}}
	err := kv.View(ctx, func(tx core.Tx) error {
		return tx.Scan([]byte(keyPrefix), false, func(_, v []byte) error {
			tok := new(Token)
			if err := json.Unmarshal(v, tok); err != nil {
				return fmt.Errorf("decode token: %w", err)
			}
			t.byID[tok.ID], t.byHash[tok.Hash] = tok, tok
			return nil
		})
	})
	if err != nil {
		return nil, fmt.Errorf("load tokens: %w", err)
	}
	return t, nil
}

// Len returns how many tokens exist.
func (t *Tokens) Len() int {
	t.mu.RLock()
	defer t.mu.RUnlock()
	return len(t.byID)
}

// Create makes a token and returns it with its secret, which is not kept.
// Errors: ValidationError for an empty name or unknown role.
func (t *Tokens) Create(ctx context.Context, name, role string) (Token, string, error) {
	v := &core.ValidationError{}
	if strings.TrimSpace(name) == "" || len(name) > 255 {
		v.Add("name", "must be 1 to 255 bytes and not blank")
	}
	if role != RoleAdmin && role != RoleViewer && role != RoleMetrics {
		v.Add("role", "must be admin, viewer or metrics")
	}
	if err := v.Err(); err != nil {
		return Token{}, "", err
	}
	var raw [32]byte
	if _, err := rand.Read(raw[:]); err != nil {
		return Token{}, "", fmt.Errorf("read random token: %w", err)
	}
	secret := prefix + base64.RawURLEncoding.EncodeToString(raw[:])
	tok := &Token{ID: xid.New().String(), Name: name, Role: role, Hash: hash(secret), CreatedAt: t.now().UTC()}
	b, err := json.Marshal(tok)
	if err != nil {
		return Token{}, "", fmt.Errorf("encode token: %w", err)
	}
	t.wmu.Lock()
	defer t.wmu.Unlock()
	if err := t.kv.Update(ctx, func(tx core.Tx) error { return tx.Put([]byte(keyPrefix+tok.ID), b, 0) }); err != nil {
		return Token{}, "", fmt.Errorf("store token: %w", err)
	}
	t.mu.Lock()
	t.byID[tok.ID], t.byHash[tok.Hash] = tok, tok
	t.mu.Unlock()
	return *tok, secret, nil
}

func hash(secret string) string {
	sum := sha256.Sum256([]byte(secret))
	return hex.EncodeToString(sum[:])
}

// Check returns the token whose secret this is. Errors: ErrPermission.
func (t *Tokens) Check(secret string) (Token, error) {
	if !strings.HasPrefix(secret, prefix) {
		return Token{}, core.ErrPermission
	}
	h := hash(secret)
	t.mu.RLock()
	tok, ok := t.byHash[h]
	t.mu.RUnlock()
	// The map lookup is keyed by a hash of the secret, so its timing says
	// nothing about the secret; the compare is belt and braces.
	if !ok || subtle.ConstantTimeCompare([]byte(tok.Hash), []byte(h)) != 1 {
		return Token{}, core.ErrPermission
	}
	return *tok, nil
}

// List returns every token, oldest first.
func (t *Tokens) List() []Token {
	t.mu.RLock()
	defer t.mu.RUnlock()
	out := make([]Token, 0, len(t.byID))
	for _, tok := range t.byID {
		out = append(out, *tok)
	}
	slices.SortFunc(out, func(a, b Token) int { return strings.Compare(a.ID, b.ID) })
	return out
}

// Get returns one token. Errors: ErrNotFound.
func (t *Tokens) Get(id string) (Token, error) {
	t.mu.RLock()
	defer t.mu.RUnlock()
	tok, ok := t.byID[id]
	if !ok {
		return Token{}, core.NotFound("token not found: %s", id)
	}
	return *tok, nil
}

// Revoke deletes a token. The last admin token cannot be revoked, so the
// API can never lock its admins out. Errors: ErrNotFound, ErrConflict.
func (t *Tokens) Revoke(ctx context.Context, id string) error {
	t.wmu.Lock()
	defer t.wmu.Unlock()
	t.mu.RLock()
	tok, ok := t.byID[id]
	admins := 0
	for _, x := range t.byID {
		if x.Role == RoleAdmin {
			admins++
		}
	}
	t.mu.RUnlock()
	if !ok {
		return core.NotFound("token not found: %s", id)
	}
	if tok.Role == RoleAdmin && admins == 1 {
		return core.ConflictOn("id", "token %s is the last admin token; create another admin token first", id)
	}
	if err := t.kv.Update(ctx, func(tx core.Tx) error { return tx.Delete([]byte(keyPrefix + id)) }); err != nil {
		return fmt.Errorf("delete token: %w", err)
	}
	t.mu.Lock()
	delete(t.byID, id)
	delete(t.byHash, tok.Hash)
	t.mu.Unlock()
	return nil
}
