package admin_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/edgeward/edgeward/core"
	"github.com/edgeward/edgeward/core/admin"
)

// TestAPISession: a bearer token from LoginAPI works for an hour and no
// longer, is not a browser session, and ends with a logout or a password
// change; a wrong name or password is the same refusal.
func TestAPISession(t *testing.T) {
	s, clk, pw := setUp(t)
	ctx := context.Background()
	for _, tt := range []struct{ name, user, password string }{
		{"wrong password", admin.Username, "not the password"},
		{"wrong user", "root", pw},
		{"no user", "", pw},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, err := s.LoginAPI(ctx, tt.user, tt.password)
			if !errors.Is(err, core.ErrPermission) || fieldOf(err) != "password" || err.Error() != "wrong password" {
				t.Errorf("LoginAPI(%q): %v, want the wrong-password refusal", tt.user, err)
			}
		})
	}
	tok, err := s.LoginAPI(ctx, admin.Username, pw)
	if err != nil {
		t.Fatal(err)
	}
	if want := clk.now().Add(admin.APISessionTTL); !tok.Expires.Equal(want) {
		t.Errorf("expires %v, want %v", tok.Expires, want)
	}
	if _, err := s.Check(ctx, tok.ID); !errors.Is(err, core.ErrPermission) {
		t.Errorf("a bearer token worked as a browser session: %v", err)
	}
	clk.add(59 * time.Minute)
	if _, err := s.CheckAPI(ctx, tok.ID); err != nil {
		t.Errorf("at 59 min: %v", err)
	}
	clk.add(time.Minute)
	if _, err := s.CheckAPI(ctx, tok.ID); !errors.Is(err, core.ErrPermission) {
		t.Errorf("at 60 min: %v, want ErrPermission", err)
	}

	tok, _ = s.LoginAPI(ctx, admin.Username, pw)
	if err := s.LogoutAPI(ctx, tok.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := s.CheckAPI(ctx, tok.ID); !errors.Is(err, core.ErrPermission) {
		t.Errorf("after logout: %v, want ErrPermission", err)
	}

	tok, _ = s.LoginAPI(ctx, admin.Username, pw)
	if _, err := s.ChangePassword(ctx, pw, "a new long password"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.CheckAPI(ctx, tok.ID); !errors.Is(err, core.ErrPermission) {
		t.Errorf("after a password change: %v, want ErrPermission", err)
	}
	if _, err := s.CheckAPI(ctx, ""); !errors.Is(err, core.ErrPermission) {
		t.Errorf("empty token: %v", err)
	}
}
