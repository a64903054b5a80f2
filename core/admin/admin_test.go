package admin_test

import (
	"context"
	"errors"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/edgeward/edgeward/core"
	"github.com/edgeward/edgeward/core/admin"
	"github.com/edgeward/edgeward/core/store"
)

// clock is a settable now func.
type clock struct {
	mu  sync.Mutex
	cur time.Time
}

func newClock() *clock { return &clock{cur: time.Date(2025, 3, 30, 14, 0, 0, 0, time.UTC)} }

func (c *clock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.cur
}

func (c *clock) add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.cur = c.cur.Add(d)
}

func openStore(t *testing.T, dir string) *store.DB {
	t.Helper()
	db, err := store.Open(context.Background(), store.Options{Dir: dir}, nil)
	if err != nil {
		t.Fatalf("store.Open(%s): %v", dir, err)
	}
	return db
}

func newService(t *testing.T, kv core.KV, clk *clock) *admin.Service {
	t.Helper()
	s, err := admin.New(context.Background(), kv, clk.now)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return s
}

// setUp runs the first-start flow and returns the service and its password.
func setUp(t *testing.T) (*admin.Service, *clock, string) {
	t.Helper()
	db := openStore(t, t.TempDir())
	t.Cleanup(func() { db.Close() })
	clk := newClock()
	s := newService(t, db, clk)
	code, err := s.IssueSetupCode(context.Background())
	if err != nil {
		t.Fatalf("IssueSetupCode: %v", err)
	}
	const pw = "correct horse battery"
	if _, err := s.Setup(context.Background(), code, pw); err != nil {
		t.Fatalf("Setup: %v", err)
	}
	return s, clk, pw
}

// fieldOf returns the field a public error names, or "".
func fieldOf(err error) string {
	var pub *core.Error
	var ve *core.ValidationError
	switch {
	case errors.As(err, &ve):
		return ve.Fields[0].Field
	case errors.As(err, &pub):
		return pub.Field
	}
	return ""
}

func TestSetupCode(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	db := openStore(t, dir)
	s := newService(t, db, newClock())
	if !s.NeedsSetup() {
		t.Fatal("NeedsSetup = false on an empty store")
	}
	first, err := s.IssueSetupCode(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if !regexp.MustCompile(`^[a-z2-9]{4}(-[a-z2-9]{4}){3}$`).MatchString(first) {
		t.Errorf("setup code %q: want four dash-separated groups of four", first)
	}
	code, err := s.IssueSetupCode(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if code == first {
		t.Fatal("two setup codes are equal")
	}

	tests := []struct {
		name      string
		code, pw  string
		wantErr   error
		wantField string
	}{
		{"short password", code, "123456789", core.ErrInvalid, "password"},
		{"long password", code, strings.Repeat("x", admin.MaxPassword+1), core.ErrInvalid, "password"},
		{"replaced code", first, "long enough password", core.ErrPermission, "code"},
		{"wrong code", "aaaa-aaaa-aaaa-aaaa", "long enough password", core.ErrPermission, "code"},
		{"empty code", "", "long enough password", core.ErrPermission, "code"},
		// Case, dashes and spaces do not matter.
		{"right code", " " + strings.ToUpper(strings.ReplaceAll(code, "-", " ")) + " ", "long enough password", nil, ""},
		{"code used", code, "another long password", core.ErrConflict, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sess, err := s.Setup(ctx, tt.code, tt.pw)
			if diff := cmp.Diff(tt.wantErr, err, cmpopts.EquateErrors()); diff != "" {
				t.Fatalf("Setup error (-want +got):\n%s", diff)
			}
			if got := fieldOf(err); got != tt.wantField {
				t.Errorf("error field = %q, want %q", got, tt.wantField)
			}
			if err == nil {
				if _, err := s.Check(ctx, sess.ID); err != nil {
					t.Errorf("Setup's session: Check: %v", err)
				}
			}
		})
	}
	if s.NeedsSetup() {
		t.Error("NeedsSetup = true after Setup")
	}
	if _, err := s.IssueSetupCode(ctx); !errors.Is(err, core.ErrConflict) {
		t.Errorf("IssueSetupCode after Setup: %v, want ErrConflict", err)
	}

	// The password survives a restart.
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	db = openStore(t, dir)
	defer db.Close()
	s = newService(t, db, newClock())
	if s.NeedsSetup() {
		t.Error("NeedsSetup = true after a restart")
	}
	if _, err := s.Login(ctx, "long enough password"); err != nil {
		t.Errorf("Login after a restart: %v", err)
	}
}

func TestLogin(t *testing.T) {
	s, _, pw := setUp(t)
	ctx := context.Background()
	tests := []struct {
		name    string
		pw      string
		wantErr error
	}{
		{"right", pw, nil},
		{"wrong", pw + "!", core.ErrPermission},
		{"empty", "", core.ErrPermission},
		{"huge", strings.Repeat("x", admin.MaxPassword+1), core.ErrPermission},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sess, err := s.Login(ctx, tt.pw)
			if diff := cmp.Diff(tt.wantErr, err, cmpopts.EquateErrors()); diff != "" {
				t.Fatalf("Login error (-want +got):\n%s", diff)
			}
			if err != nil {
				if got := fieldOf(err); got != "password" {
					t.Errorf("error field = %q, want password", got)
				}
				return
			}
			if len(sess.ID) < 43 {
				t.Errorf("session id %q is shorter than 256 bits in base64", sess.ID)
			}
		})
	}
}

func TestLoginBeforeSetup(t *testing.T) {
	db := openStore(t, t.TempDir())
	defer db.Close()
	s := newService(t, db, newClock())
	if _, err := s.Login(context.Background(), ""); !errors.Is(err, core.ErrPermission) {
		t.Errorf("Login before Setup: %v, want ErrPermission", err)
	}
}

func TestSessionExpiry(t *testing.T) {
	s, clk, pw := setUp(t)
	ctx := context.Background()
	sess, err := s.Login(ctx, pw)
	if err != nil {
		t.Fatal(err)
	}
	// Used every 20 minutes, a session outlives its 30-minute TTL.
	for range 4 {
		clk.add(20 * time.Minute)
		got, err := s.Check(ctx, sess.ID)
		if err != nil {
			t.Fatalf("Check after 20 idle minutes: %v", err)
		}
		if want := clk.now().Add(admin.SessionTTL); !got.Expires.Equal(want) {
			t.Errorf("Expires = %v, want %v", got.Expires, want)
		}
	}
	// Idle for 30 minutes, it is gone.
	clk.add(admin.SessionTTL)
	if _, err := s.Check(ctx, sess.ID); !errors.Is(err, core.ErrPermission) {
		t.Errorf("Check after 30 idle minutes: %v, want ErrPermission", err)
	}
	for _, id := range []string{"", "nope", sess.ID + "x"} {
		if _, err := s.Check(ctx, id); !errors.Is(err, core.ErrPermission) {
			t.Errorf("Check(%q): %v, want ErrPermission", id, err)
		}
	}
}

// TestPeekDoesNotSlide: background polling sees the session but does not
// keep it alive.
func TestPeekDoesNotSlide(t *testing.T) {
	s, clk, pw := setUp(t)
	ctx := context.Background()
	sess, err := s.Login(ctx, pw)
	if err != nil {
		t.Fatal(err)
	}
	for range 5 {
		clk.add(5 * time.Minute)
		got, err := s.Peek(ctx, sess.ID)
		if err != nil {
			t.Fatalf("Peek: %v", err)
		}
		if !got.Expires.Equal(sess.Expires) {
			t.Errorf("Peek moved the expiry from %v to %v", sess.Expires, got.Expires)
		}
	}
	clk.add(5 * time.Minute)
	if _, err := s.Peek(ctx, sess.ID); !errors.Is(err, core.ErrPermission) {
		t.Errorf("Peek 30 minutes after login: %v, want ErrPermission", err)
	}
	if err := s.Logout(ctx, sess.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Peek(ctx, "nope"); !errors.Is(err, core.ErrPermission) {
		t.Errorf("Peek(nope): %v", err)
	}
}

func TestLogout(t *testing.T) {
	s, _, pw := setUp(t)
	ctx := context.Background()
	a, err := s.Login(ctx, pw)
	if err != nil {
		t.Fatal(err)
	}
	b, err := s.Login(ctx, pw)
	if err != nil {
		t.Fatal(err)
	}
	for range 2 { // twice: a second logout is harmless
		if err := s.Logout(ctx, a.ID); err != nil {
			t.Fatalf("Logout: %v", err)
		}
	}
	if _, err := s.Check(ctx, a.ID); !errors.Is(err, core.ErrPermission) {
		t.Errorf("Check after Logout: %v, want ErrPermission", err)
	}
	if _, err := s.Check(ctx, b.ID); err != nil {
		t.Errorf("other session after Logout: %v", err)
	}
}

func TestChangePassword(t *testing.T) {
	s, _, pw := setUp(t)
	ctx := context.Background()
	other, err := s.Login(ctx, pw)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name         string
		current, new string
		wantErr      error
		wantField    string
	}{
		{"short", pw, "short", core.ErrInvalid, "new"},
		{"wrong current", "not the password", "a new long password", core.ErrPermission, "current"},
		{"ok", pw, "a new long password", nil, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := s.ChangePassword(ctx, tt.current, tt.new)
			if diff := cmp.Diff(tt.wantErr, err, cmpopts.EquateErrors()); diff != "" {
				t.Fatalf("ChangePassword error (-want +got):\n%s", diff)
			}
			if got := fieldOf(err); got != tt.wantField {
				t.Errorf("error field = %q, want %q", got, tt.wantField)
			}
			if err != nil {
				if _, err := s.Check(ctx, other.ID); err != nil {
					t.Errorf("a refused change ended a session: %v", err)
				}
			}
		})
	}
	if _, err := s.Check(ctx, other.ID); !errors.Is(err, core.ErrPermission) {
		t.Errorf("old session after a password change: %v, want ErrPermission", err)
	}
	if _, err := s.Login(ctx, pw); !errors.Is(err, core.ErrPermission) {
		t.Errorf("old password after a change: %v, want ErrPermission", err)
	}
	if _, err := s.Login(ctx, "a new long password"); err != nil {
		t.Errorf("new password: %v", err)
	}
}

// TestChangePasswordKeepsCaller checks the session it returns works.
func TestChangePasswordKeepsCaller(t *testing.T) {
	s, _, pw := setUp(t)
	ctx := context.Background()
	sess, err := s.ChangePassword(ctx, pw, "a new long password")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Check(ctx, sess.ID); err != nil {
		t.Errorf("ChangePassword's session: %v", err)
	}
}

func TestReset(t *testing.T) {
	s, _, pw := setUp(t)
	ctx := context.Background()
	sess, err := s.Login(ctx, pw)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Reset(ctx); err != nil {
		t.Fatal(err)
	}
	if !s.NeedsSetup() {
		t.Fatal("password still set after Reset")
	}
	if _, err := s.Check(ctx, sess.ID); !errors.Is(err, core.ErrPermission) {
		t.Fatalf("session survived Reset: %v", err)
	}
	if _, err := s.Login(ctx, pw); err == nil {
		t.Fatal("old password still logs in")
	}
	code, err := s.IssueSetupCode(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Setup(ctx, code, "a brand new password"); err != nil {
		t.Fatalf("setup after Reset: %v", err)
	}
}
