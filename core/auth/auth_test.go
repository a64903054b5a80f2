package auth_test

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"github.com/rs/xid"

	"github.com/edgeward/edgeward/core"
	"github.com/edgeward/edgeward/core/auth"
	"github.com/edgeward/edgeward/core/store"
)

// openStore opens a Badger store in dir; it is closed when the test ends
// unless the caller closes it first through the returned func.
func openStore(t *testing.T, dir string) (*store.DB, func()) {
	t.Helper()
	db, err := store.Open(context.Background(), store.Options{Dir: dir}, nil)
	if err != nil {
		t.Fatalf("store.Open(%s): %v", dir, err)
	}
	var once sync.Once
	closeDB := func() {
		once.Do(func() {
			if err := db.Close(); err != nil {
				t.Errorf("Close: %v", err)
			}
		})
	}
	t.Cleanup(closeDB)
	return db, closeDB
}

// clock returns a now func that starts at a fixed time in a non-UTC zone
// and moves one minute on every call, so that CreatedAt values differ and
// must be converted to UTC.
func clock() func() time.Time {
	var mu sync.Mutex
	cur := time.Date(2025, 3, 30, 14, 0, 0, 123456789, time.FixedZone("CEST", 2*60*60))
	return func() time.Time {
		mu.Lock()
		defer mu.Unlock()
		now := cur
		cur = cur.Add(time.Minute)
		return now
	}
}

func newTokens(t *testing.T, kv core.KV, now func() time.Time) *auth.Tokens {
	t.Helper()
	toks, err := auth.New(context.Background(), kv, now)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return toks
}

func mustCreate(t *testing.T, toks *auth.Tokens, name, role string) (auth.Token, string) {
	t.Helper()
	tok, secret, err := toks.Create(context.Background(), name, role)
	if err != nil {
		t.Fatalf("Create(%q, %q): %v", name, role, err)
	}
	return tok, secret
}

func sha256Hex(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:])
}

// dump returns every key and value in the store.
func dump(t *testing.T, kv core.KV) []string {
	t.Helper()
	var out []string
	err := kv.View(context.Background(), func(tx core.Tx) error {
		return tx.Scan([]byte(""), false, func(k, v []byte) error {
			out = append(out, string(k), string(v))
			return nil
		})
	})
	if err != nil {
		t.Fatalf("scan store: %v", err)
	}
	return out
}

func containsAny(haystack []string, needle string) bool {
	for _, s := range haystack {
		if strings.Contains(s, needle) {
			return true
		}
	}
	return false
}

// created is what a test can know in advance about a new token and its
// secret; the ID and secret are random, so their properties are recorded.
type created struct {
	Name        string
	Role        string
	CreatedAt   string // RFC 3339, so that the zone is compared too
	IDIsXID     bool
	HashMatches bool // Hash is the hex SHA-256 of the secret
	Prefix      string
	DecodedLen  int // bytes of randomness after the prefix
}

func describe(tok auth.Token, secret string) created {
	_, idErr := xid.FromString(tok.ID)
	prefix, body, _ := strings.Cut(secret, "_")
	raw, err := base64.RawURLEncoding.Strict().DecodeString(body)
	if err != nil {
		raw = nil
	}
	return created{
		Name:        tok.Name,
		Role:        tok.Role,
		CreatedAt:   tok.CreatedAt.Format(time.RFC3339Nano),
		IDIsXID:     idErr == nil,
		HashMatches: tok.Hash == sha256Hex(secret),
		Prefix:      prefix + "_",
		DecodedLen:  len(raw),
	}
}

func TestCreate(t *testing.T) {
	tests := []struct {
		name     string
		tokName  string
		role     string
		wantName string
	}{
		{"admin", "ci deploy", auth.RoleAdmin, "ci deploy"},
		{"viewer", "dashboard", auth.RoleViewer, "dashboard"},
		{"name of 255 bytes", strings.Repeat("n", 255), auth.RoleAdmin, strings.Repeat("n", 255)},
		{"name of one byte", "x", auth.RoleViewer, "x"},
		{"name kept untrimmed", "  ops  ", auth.RoleViewer, "  ops  "},
		{"multi-byte name", "Prüfstand 東京", auth.RoleAdmin, "Prüfstand 東京"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			db, _ := openStore(t, t.TempDir())
			toks := newTokens(t, db, clock())
			tok, secret, err := toks.Create(context.Background(), tt.tokName, tt.role)
			if err != nil {
				t.Fatalf("Create: %v", err)
			}
			want := created{
				Name:        tt.wantName,
				Role:        tt.role,
				CreatedAt:   "2025-03-30T12:00:00.123456789Z",
				IDIsXID:     true,
				HashMatches: true,
				Prefix:      "ewt_",
				DecodedLen:  32,
			}
			if diff := cmp.Diff(want, describe(tok, secret)); diff != "" {
				t.Errorf("Create(%q, %q) (-want +got):\n%s", tt.tokName, tt.role, diff)
			}
			// 128 bits is the floor the package promises to stay above.
			if got := describe(tok, secret).DecodedLen; got < 16 {
				t.Errorf("secret carries %d random bytes, want at least 16", got)
			}
			if diff := cmp.Diff(1, toks.Len()); diff != "" {
				t.Errorf("Len after Create (-want +got):\n%s", diff)
			}
		})
	}
}

func TestCreateUnique(t *testing.T) {
	db, _ := openStore(t, t.TempDir())
	toks := newTokens(t, db, nil)
	const n = 50
	ids, secrets, hashes := map[string]bool{}, map[string]bool{}, map[string]bool{}
	for i := range n {
		tok, secret := mustCreate(t, toks, fmt.Sprintf("t%d", i), auth.RoleViewer)
		ids[tok.ID], secrets[secret], hashes[tok.Hash] = true, true, true
	}
	got := []int{len(ids), len(secrets), len(hashes), toks.Len()}
	if diff := cmp.Diff([]int{n, n, n, n}, got); diff != "" {
		t.Errorf("distinct ids, secrets, hashes, Len (-want +got):\n%s", diff)
	}
}

func TestCreateNilClockUsesNow(t *testing.T) {
	db, _ := openStore(t, t.TempDir())
	toks := newTokens(t, db, nil)
	before := time.Now()
	tok, _ := mustCreate(t, toks, "now", auth.RoleAdmin)
	after := time.Now()
	type result struct {
		InRange bool
		UTC     bool
	}
	got := result{
		InRange: !tok.CreatedAt.Before(before) && !tok.CreatedAt.After(after),
		UTC:     tok.CreatedAt.Location() == time.UTC,
	}
	if diff := cmp.Diff(result{InRange: true, UTC: true}, got); diff != "" {
		t.Errorf("CreatedAt %v with nil clock, between %v and %v (-want +got):\n%s", tok.CreatedAt, before, after, diff)
	}
}

func TestCreateValidation(t *testing.T) {
	tests := []struct {
		name       string
		tokName    string
		role       string
		wantFields []string
	}{
		{"empty name", "", auth.RoleAdmin, []string{"name"}},
		{"blank name", " \t\n ", auth.RoleViewer, []string{"name"}},
		{"name of 256 bytes", strings.Repeat("n", 256), auth.RoleAdmin, []string{"name"}},
		{"name of 128 runes but 256 bytes", strings.Repeat("é", 128), auth.RoleAdmin, []string{"name"}},
		{"unknown role", "ci", "root", []string{"role"}},
		{"empty role", "ci", "", []string{"role"}},
		{"role is case sensitive", "ci", "Admin", []string{"role"}},
		{"role with space", "ci", " viewer", []string{"role"}},
		{"both wrong", "", "owner", []string{"name", "role"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			db, _ := openStore(t, t.TempDir())
			toks := newTokens(t, db, clock())
			tok, secret, err := toks.Create(context.Background(), tt.tokName, tt.role)
			if diff := cmp.Diff(core.ErrInvalid, err, cmpopts.EquateErrors()); diff != "" {
				t.Errorf("Create error (-want +got):\n%s", diff)
			}
			var verr *core.ValidationError
			if !errors.As(err, &verr) {
				t.Fatalf("Create error = %v (%T), want a *core.ValidationError", err, err)
			}
			var fields []string
			for _, f := range verr.Fields {
				fields = append(fields, f.Field)
			}
			if diff := cmp.Diff(tt.wantFields, fields); diff != "" {
				t.Errorf("refused fields (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(auth.Token{}, tok); diff != "" {
				t.Errorf("token returned with the error (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff("", secret); diff != "" {
				t.Errorf("secret returned with the error (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(0, toks.Len()); diff != "" {
				t.Errorf("Len after a refused Create (-want +got):\n%s", diff)
			}
			if got := dump(t, db); containsAny(got, "token/") {
				t.Errorf("store after a refused Create holds a token: %q", got)
			}
		})
	}
}

func TestCheck(t *testing.T) {
	db, _ := openStore(t, t.TempDir())
	toks := newTokens(t, db, clock())
	admin, adminSecret := mustCreate(t, toks, "admin", auth.RoleAdmin)
	viewer, viewerSecret := mustCreate(t, toks, "viewer", auth.RoleViewer)
	body := strings.TrimPrefix(adminSecret, "ewt_")
	// A well-formed secret that was never issued.
	unknown := "ewt_" + base64.RawURLEncoding.EncodeToString(make([]byte, 32))

	tests := []struct {
		name    string
		secret  string
		want    auth.Token
		wantErr error
	}{
		{"admin secret", adminSecret, admin, nil},
		{"viewer secret", viewerSecret, viewer, nil},
		{"unknown secret", unknown, auth.Token{}, core.ErrPermission},
		{"empty", "", auth.Token{}, core.ErrPermission},
		{"prefix only", "ewt_", auth.Token{}, core.ErrPermission},
		{"without prefix", body, auth.Token{}, core.ErrPermission},
		{"other prefix", "ghp_" + body, auth.Token{}, core.ErrPermission},
		{"upper-case prefix", "EWT_" + body, auth.Token{}, core.ErrPermission},
		{"prefix twice", "ewt_" + adminSecret, auth.Token{}, core.ErrPermission},
		{"truncated", adminSecret[:len(adminSecret)-1], auth.Token{}, core.ErrPermission},
		{"trailing newline", adminSecret + "\n", auth.Token{}, core.ErrPermission},
		{"leading space", " " + adminSecret, auth.Token{}, core.ErrPermission},
		{"bearer scheme left in", "Bearer " + adminSecret, auth.Token{}, core.ErrPermission},
		{"stored hash instead of secret", admin.Hash, auth.Token{}, core.ErrPermission},
		{"prefixed stored hash", "ewt_" + admin.Hash, auth.Token{}, core.ErrPermission},
		{"token id", admin.ID, auth.Token{}, core.ErrPermission},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := toks.Check(tt.secret)
			if diff := cmp.Diff(tt.wantErr, err, cmpopts.EquateErrors()); diff != "" {
				t.Errorf("Check error (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("Check (-want +got):\n%s", diff)
			}
		})
	}
}

func TestCheckReturnsCopy(t *testing.T) {
	db, _ := openStore(t, t.TempDir())
	toks := newTokens(t, db, clock())
	want, secret := mustCreate(t, toks, "admin", auth.RoleAdmin)
	got, err := toks.Check(secret)
	if err != nil {
		t.Fatalf("Check: %v", err)
	}
	got.Role, got.Name, got.Hash = auth.RoleViewer, "changed", "changed"
	again, err := toks.Check(secret)
	if err != nil {
		t.Fatalf("Check after changing an earlier result: %v", err)
	}
	if diff := cmp.Diff(want, again); diff != "" {
		t.Errorf("Check after changing an earlier result (-want +got):\n%s", diff)
	}
}

func TestSecretNotStored(t *testing.T) {
	db, _ := openStore(t, t.TempDir())
	toks := newTokens(t, db, clock())
	var secrets []string
	for i, role := range []string{auth.RoleAdmin, auth.RoleViewer, auth.RoleViewer} {
		_, secret := mustCreate(t, toks, fmt.Sprintf("t%d", i), role)
		secrets = append(secrets, secret)
	}
	all := dump(t, db)
	if len(all) == 0 {
		t.Fatal("store is empty after Create")
	}
	type found struct {
		Secret    bool
		Body      bool // the random part without the prefix
		StdBase64 bool // the random part re-encoded in another alphabet
		Hash      bool
	}
	for _, secret := range secrets {
		raw, err := base64.RawURLEncoding.DecodeString(strings.TrimPrefix(secret, "ewt_"))
		if err != nil {
			t.Fatalf("decode secret: %v", err)
		}
		got := found{
			Secret:    containsAny(all, secret),
			Body:      containsAny(all, strings.TrimPrefix(secret, "ewt_")),
			StdBase64: containsAny(all, base64.StdEncoding.EncodeToString(raw)),
			Hash:      containsAny(all, sha256Hex(secret)),
		}
		if diff := cmp.Diff(found{Hash: true}, got); diff != "" {
			t.Errorf("what the store holds of a secret (-want +got):\n%s", diff)
		}
	}
}

func TestList(t *testing.T) {
	tests := []struct {
		name   string
		create [][2]string // name, role, in creation order
	}{
		{"none", nil},
		{"one", [][2]string{{"solo", auth.RoleAdmin}}},
		{"creation order, not name order", [][2]string{
			{"zulu", auth.RoleAdmin}, {"alpha", auth.RoleViewer}, {"mike", auth.RoleViewer}, {"bravo", auth.RoleAdmin},
		}},
		{"duplicate names", [][2]string{{"ci", auth.RoleViewer}, {"ci", auth.RoleViewer}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			db, _ := openStore(t, t.TempDir())
			toks := newTokens(t, db, clock())
			want := []auth.Token{}
			var secrets []string
			for _, c := range tt.create {
				tok, secret := mustCreate(t, toks, c[0], c[1])
				want = append(want, tok)
				secrets = append(secrets, secret)
			}
			got := toks.List()
			if diff := cmp.Diff(want, got, cmpopts.EquateEmpty()); diff != "" {
				t.Errorf("List (-want +got):\n%s", diff)
			}
			printed := fmt.Sprintf("%+v %#v", got, got)
			for _, s := range secrets {
				if strings.Contains(printed, s) || strings.Contains(printed, strings.TrimPrefix(s, "ewt_")) {
					t.Errorf("List output %s contains the secret %s", printed, s)
				}
			}
			if len(got) > 0 {
				got[0].Name, got[0].Role = "changed", "changed"
				if diff := cmp.Diff(want, toks.List()); diff != "" {
					t.Errorf("List after changing an earlier result (-want +got):\n%s", diff)
				}
			}
		})
	}
}

func TestGet(t *testing.T) {
	db, _ := openStore(t, t.TempDir())
	toks := newTokens(t, db, clock())
	mustCreate(t, toks, "admin", auth.RoleAdmin)
	ci, _ := mustCreate(t, toks, "ci", auth.RoleViewer)
	got, err := toks.Get(ci.ID)
	if err != nil {
		t.Fatalf("Get(%s): %v", ci.ID, err)
	}
	if diff := cmp.Diff(ci, got); diff != "" {
		t.Errorf("Get (-want +got):\n%s", diff)
	}
	if err := toks.Revoke(context.Background(), ci.ID); err != nil {
		t.Fatal(err)
	}
	for _, id := range []string{ci.ID, "", xid.New().String()} {
		if _, err := toks.Get(id); !errors.Is(err, core.ErrNotFound) {
			t.Errorf("Get(%q) = %v, want ErrNotFound", id, err)
		}
	}
}

// revokeCase creates tokens with the given roles (named t0, t1, ...), then
// revokes by index in order; -1 stands for an id that was never issued and
// -2 for the empty id.
type revokeCase struct {
	name     string
	roles    []string
	revoke   []int
	wantErrs []error
	wantLeft []string // names in List after the revocations
}

var revokeCases = []revokeCase{
	{
		name:     "viewer beside the only admin",
		roles:    []string{auth.RoleAdmin, auth.RoleViewer},
		revoke:   []int{1},
		wantErrs: []error{nil},
		wantLeft: []string{"t0"},
	},
	{
		name:     "only admin",
		roles:    []string{auth.RoleAdmin},
		revoke:   []int{0},
		wantErrs: []error{core.ErrConflict},
		wantLeft: []string{"t0"},
	},
	{
		name:     "only admin beside viewers",
		roles:    []string{auth.RoleViewer, auth.RoleAdmin, auth.RoleViewer},
		revoke:   []int{1},
		wantErrs: []error{core.ErrConflict},
		wantLeft: []string{"t0", "t1", "t2"},
	},
	{
		name:     "one of two admins, then the last",
		roles:    []string{auth.RoleAdmin, auth.RoleAdmin},
		revoke:   []int{0, 1},
		wantErrs: []error{nil, core.ErrConflict},
		wantLeft: []string{"t1"},
	},
	{
		name:     "every viewer",
		roles:    []string{auth.RoleAdmin, auth.RoleViewer, auth.RoleViewer},
		revoke:   []int{2, 1},
		wantErrs: []error{nil, nil},
		wantLeft: []string{"t0"},
	},
	{
		name:     "viewer when there is no admin",
		roles:    []string{auth.RoleViewer},
		revoke:   []int{0},
		wantErrs: []error{nil},
		wantLeft: nil,
	},
	{
		name:     "twice",
		roles:    []string{auth.RoleAdmin, auth.RoleViewer},
		revoke:   []int{1, 1},
		wantErrs: []error{nil, core.ErrNotFound},
		wantLeft: []string{"t0"},
	},
	{
		name:     "unknown id",
		roles:    []string{auth.RoleAdmin, auth.RoleViewer},
		revoke:   []int{-1},
		wantErrs: []error{core.ErrNotFound},
		wantLeft: []string{"t0", "t1"},
	},
	{
		name:     "empty id",
		roles:    []string{auth.RoleAdmin},
		revoke:   []int{-2},
		wantErrs: []error{core.ErrNotFound},
		wantLeft: []string{"t0"},
	},
	{
		name:     "unknown id in an empty registry",
		roles:    nil,
		revoke:   []int{-1},
		wantErrs: []error{core.ErrNotFound},
		wantLeft: nil,
	},
}

func TestRevoke(t *testing.T) {
	for _, tt := range revokeCases {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			db, closeDB := openStore(t, dir)
			toks := newTokens(t, db, clock())
			var ids, secrets []string
			for i, role := range tt.roles {
				tok, secret := mustCreate(t, toks, fmt.Sprintf("t%d", i), role)
				ids, secrets = append(ids, tok.ID), append(secrets, secret)
			}
			var errs []error
			for _, i := range tt.revoke {
				id := ""
				switch {
				case i >= 0:
					id = ids[i]
				case i == -1:
					id = xid.New().String()
				}
				errs = append(errs, toks.Revoke(context.Background(), id))
			}
			if diff := cmp.Diff(tt.wantErrs, errs, cmpopts.EquateErrors()); diff != "" {
				t.Errorf("Revoke errors (-want +got):\n%s", diff)
			}
			checkLeft(t, "after Revoke", toks, secrets, tt.wantLeft)

			// Revocations are durable: a reopened store agrees.
			closeDB()
			db2, _ := openStore(t, dir)
			checkLeft(t, "after reopen", newTokens(t, db2, clock()), secrets, tt.wantLeft)
		})
	}
}

// checkLeft asserts that exactly the tokens named left (t<i> for secrets[i])
// are listed and accepted by Check, and that the others are refused.
func checkLeft(t *testing.T, when string, toks *auth.Tokens, secrets, left []string) {
	t.Helper()
	var names []string
	for _, tok := range toks.List() {
		names = append(names, tok.Name)
	}
	if diff := cmp.Diff(left, names); diff != "" {
		t.Errorf("List names %s (-want +got):\n%s", when, diff)
	}
	if diff := cmp.Diff(len(left), toks.Len()); diff != "" {
		t.Errorf("Len %s (-want +got):\n%s", when, diff)
	}
	var wantChecks, gotChecks []string
	for i, secret := range secrets {
		name := fmt.Sprintf("t%d", i)
		want := "refused"
		for _, l := range left {
			if l == name {
				want = "accepted " + name
			}
		}
		wantChecks = append(wantChecks, want)
		got := "refused"
		tok, err := toks.Check(secret)
		switch {
		case err == nil:
			got = "accepted " + tok.Name
		case !errors.Is(err, core.ErrPermission):
			got = "error " + err.Error()
		}
		gotChecks = append(gotChecks, got)
	}
	if diff := cmp.Diff(wantChecks, gotChecks); diff != "" {
		t.Errorf("Check of each secret %s (-want +got):\n%s", when, diff)
	}
}

func TestRevokeLastAdminErrorNamesField(t *testing.T) {
	db, _ := openStore(t, t.TempDir())
	toks := newTokens(t, db, clock())
	admin, _ := mustCreate(t, toks, "admin", auth.RoleAdmin)
	err := toks.Revoke(context.Background(), admin.ID)
	var pub *core.Error
	if !errors.As(err, &pub) {
		t.Fatalf("Revoke error = %v (%T), want a *core.Error", err, err)
	}
	type result struct {
		Kind  error
		Field string
	}
	want := result{Kind: core.ErrConflict, Field: "id"}
	if diff := cmp.Diff(want, result{Kind: pub.Kind, Field: pub.Field}, cmpopts.EquateErrors()); diff != "" {
		t.Errorf("Revoke error (-want +got):\n%s", diff)
	}
}

func TestReopen(t *testing.T) {
	dir := t.TempDir()
	db, closeDB := openStore(t, dir)
	toks := newTokens(t, db, clock())
	var secrets []string
	for i, role := range []string{auth.RoleAdmin, auth.RoleViewer, auth.RoleAdmin} {
		_, secret := mustCreate(t, toks, fmt.Sprintf("t%d", i), role)
		secrets = append(secrets, secret)
	}
	before := toks.List()
	closeDB()

	db2, _ := openStore(t, dir)
	toks2 := newTokens(t, db2, clock())
	if diff := cmp.Diff(before, toks2.List()); diff != "" {
		t.Errorf("List after reopen (-want +got):\n%s", diff)
	}
	var got []auth.Token
	for _, s := range secrets {
		tok, err := toks2.Check(s)
		if err != nil {
			t.Errorf("Check after reopen: %v", err)
		}
		got = append(got, tok)
	}
	if diff := cmp.Diff(before, got); diff != "" {
		t.Errorf("Check of each secret after reopen (-want +got):\n%s", diff)
	}
	// The last-admin rule counts the reloaded tokens.
	errs := []error{
		toks2.Revoke(context.Background(), before[0].ID),
		toks2.Revoke(context.Background(), before[2].ID),
	}
	if diff := cmp.Diff([]error{nil, core.ErrConflict}, errs, cmpopts.EquateErrors()); diff != "" {
		t.Errorf("Revoke both admins after reopen (-want +got):\n%s", diff)
	}
}

func TestNewCorruptToken(t *testing.T) {
	tests := []struct {
		name string
		val  string
	}{
		{"not json", "ewt_not-json"},
		{"wrong type", `{"ID": 7}`},
		{"empty", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			db, _ := openStore(t, t.TempDir())
			err := db.Update(context.Background(), func(tx core.Tx) error {
				return tx.Put([]byte("token/broken"), []byte(tt.val), 0)
			})
			if err != nil {
				t.Fatalf("Update: %v", err)
			}
			toks, err := auth.New(context.Background(), db, nil)
			type result struct {
				NilTokens bool
				Err       bool
			}
			if diff := cmp.Diff(result{NilTokens: true, Err: true}, result{toks == nil, err != nil}); diff != "" {
				t.Errorf("New over a corrupt token %q: %v (-want +got):\n%s", tt.val, err, diff)
			}
		})
	}
}

func TestNewCanceled(t *testing.T) {
	db, _ := openStore(t, t.TempDir())
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	toks, err := auth.New(ctx, db, nil)
	if diff := cmp.Diff(context.Canceled, err, cmpopts.EquateErrors()); diff != "" {
		t.Errorf("New error (-want +got):\n%s", diff)
	}
	if toks != nil {
		t.Errorf("New returned %v with an error, want nil", toks)
	}
}

func TestConcurrent(t *testing.T) {
	db, _ := openStore(t, t.TempDir())
	toks := newTokens(t, db, clock())
	seed, seedSecret := mustCreate(t, toks, "seed", auth.RoleAdmin)

	const workers, perWorker = 8, 5
	type issued struct {
		tok    auth.Token
		secret string
	}
	results := make(chan issued, workers*perWorker)
	errs := make(chan error, workers*perWorker*4)
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			for i := range perWorker {
				role := auth.RoleViewer
				if i%2 == 0 {
					role = auth.RoleAdmin
				}
				tok, secret, err := toks.Create(context.Background(), fmt.Sprintf("w%d-%d", w, i), role)
				if err != nil {
					errs <- fmt.Errorf("Create: %w", err)
					continue
				}
				results <- issued{tok, secret}
				if got, err := toks.Check(secret); err != nil || got.ID != tok.ID {
					errs <- fmt.Errorf("Check own secret = %v, %v", got.ID, err)
				}
				if got, err := toks.Check(seedSecret); err != nil || got.ID != seed.ID {
					errs <- fmt.Errorf("Check seed secret = %v, %v", got.ID, err)
				}
				if _, err := toks.Check("ewt_wrong"); !errors.Is(err, core.ErrPermission) {
					errs <- fmt.Errorf("Check wrong secret: %v", err)
				}
				_ = toks.List()
				_ = toks.Len()
			}
		})
	}
	wg.Wait()
	close(results)
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	n := 0
	for r := range results {
		n++
		got, err := toks.Check(r.secret)
		if err != nil {
			t.Errorf("Check after the workers: %v", err)
		}
		if diff := cmp.Diff(r.tok, got); diff != "" {
			t.Errorf("Check after the workers (-want +got):\n%s", diff)
		}
	}
	if diff := cmp.Diff(workers*perWorker, n); diff != "" {
		t.Errorf("tokens created (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(workers*perWorker+1, toks.Len()); diff != "" {
		t.Errorf("Len (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(workers*perWorker+1, len(toks.List())); diff != "" {
		t.Errorf("len(List) (-want +got):\n%s", diff)
	}
}

// TestConcurrentRevokeKeepsAnAdmin revokes every admin at once: exactly one
// revocation must be refused, whatever the interleaving.
func TestConcurrentRevokeKeepsAnAdmin(t *testing.T) {
	db, _ := openStore(t, t.TempDir())
	toks := newTokens(t, db, clock())
	const admins = 6
	var ids []string
	for i := range admins {
		tok, _ := mustCreate(t, toks, fmt.Sprintf("a%d", i), auth.RoleAdmin)
		ids = append(ids, tok.ID)
	}
	errs := make([]error, admins)
	var wg sync.WaitGroup
	for i, id := range ids {
		wg.Go(func() {
			errs[i] = toks.Revoke(context.Background(), id)
			// Creates and Checks race with the revocations.
			if _, _, err := toks.Create(context.Background(), fmt.Sprintf("v%d", i), auth.RoleViewer); err != nil {
				t.Errorf("Create: %v", err)
			}
		})
	}
	wg.Wait()
	type count struct{ OK, Conflict, Other int }
	var got count
	for _, err := range errs {
		switch {
		case err == nil:
			got.OK++
		case errors.Is(err, core.ErrConflict):
			got.Conflict++
		default:
			got.Other++
			t.Errorf("Revoke: %v", err)
		}
	}
	if diff := cmp.Diff(count{OK: admins - 1, Conflict: 1}, got); diff != "" {
		t.Errorf("Revoke outcomes (-want +got):\n%s", diff)
	}
	var roles []string
	for _, tok := range toks.List() {
		roles = append(roles, tok.Role)
	}
	adminsLeft := strings.Count(strings.Join(roles, ","), auth.RoleAdmin)
	if diff := cmp.Diff(1, adminsLeft); diff != "" {
		t.Errorf("admins left (-want +got):\n%s", diff)
	}
}
