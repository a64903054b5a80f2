package ui

import (
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/gofiber/fiber/v2"
)

// csrfApp is a page app behind the guard alone: GET /form answers its
// token, POST /form 204 when the guard lets it through.
func csrfApp(g *csrfGuard) *fiber.App {
	app := fiber.New()
	app.Use(g.handle)
	app.Get("/form", func(c *fiber.Ctx) error { return c.SendString(csrfOf(c)) })
	app.Post("/form", func(c *fiber.Ctx) error { return c.SendStatus(fiber.StatusNoContent) })
	return app
}

func TestCSRFGuard(t *testing.T) {
	now := time.Unix(1_800_000_000, 0)
	g := newCSRFGuard(func(c *fiber.Ctx) error { return c.SendStatus(fiber.StatusForbidden) })
	g.now = func() time.Time { return now }
	app := csrfApp(g)
	send := func(method, sess, cookie, token string, header ...string) *http.Response {
		t.Helper()
		req := httptest.NewRequest(method, "http://box.lan/form", strings.NewReader(url.Values{"_csrf": {token}}.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		if sess != "" {
			req.AddCookie(&http.Cookie{Name: SessionCookiePlain, Value: sess})
		}
		if cookie != "" {
			req.AddCookie(&http.Cookie{Name: csrfCookiePlain, Value: cookie})
		}
		for i := 0; i+1 < len(header); i += 2 {
			req.Header.Set(header[i], header[i+1])
		}
		res, err := app.Test(req)
		if err != nil {
			t.Fatal(err)
		}
		return res
	}
	anon, sessA := g.mint(""), g.mint("session-a")
	other := newCSRFGuard(nil).mint("session-a")
	now = now.Add(time.Minute)
	tests := []struct {
		name         string
		sess, cookie string
		token        string
		header       []string
		want         int
	}{
		{"anonymous, same token", "", anon, anon, nil, http.StatusNoContent},
		{"session, same token", "session-a", sessA, sessA, nil, http.StatusNoContent},
		{"header instead of field", "session-a", sessA, "", []string{"X-Csrf-Token", sessA}, http.StatusNoContent},
		{"same origin", "session-a", sessA, sessA, []string{"Origin", "http://box.lan"}, http.StatusNoContent},
		{"same referer", "session-a", sessA, sessA, []string{"Referer", "http://box.lan/peers"}, http.StatusNoContent},
		{"no token", "session-a", sessA, "", nil, http.StatusForbidden},
		{"field differs from cookie", "session-a", sessA, g.mint("session-a"), nil, http.StatusForbidden},
		{"token from before login", "session-a", anon, anon, nil, http.StatusForbidden},
		{"token of another session", "session-b", sessA, sessA, nil, http.StatusForbidden},
		{"token signed by another key", "session-a", other, other, nil, http.StatusForbidden},
		{"tampered token", "session-a", sessA[:10] + "A" + sessA[11:], sessA[:10] + "A" + sessA[11:], nil, http.StatusForbidden},
		{"forged token", "", "forged", "forged", nil, http.StatusForbidden},
		{"cross origin", "session-a", sessA, sessA, []string{"Origin", "http://evil.example"}, http.StatusForbidden},
		{"null origin", "session-a", sessA, sessA, []string{"Origin", "null"}, http.StatusForbidden},
		{"cross referer", "session-a", sessA, sessA, []string{"Referer", "http://evil.example/box.lan"}, http.StatusForbidden},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := send(http.MethodPost, tt.sess, tt.cookie, tt.token, tt.header...).StatusCode; got != tt.want {
				t.Errorf("status %d, want %d", got, tt.want)
			}
		})
	}

	t.Run("expired", func(t *testing.T) {
		defer func(was time.Time) { now = was }(now)
		now = now.Add(csrfLifetime)
		if got := send(http.MethodPost, "session-a", sessA, sessA).StatusCode; got != http.StatusForbidden {
			t.Errorf("a token %s old: status %d, want 403", csrfLifetime, got)
		}
	})

	// A page keeps the cookie's good token, so open forms stay valid;
	// past csrfRenew, or after login, it gets a new one.
	t.Run("page tokens", func(t *testing.T) {
		defer func(was time.Time) { now = was }(now)
		res := send(http.MethodGet, "session-a", sessA, "")
		if body := readAll(t, res); body != sessA || len(res.Cookies()) != 0 {
			t.Errorf("GET with a good token: page token changed (%v) or cookie set %v", body != sessA, res.Cookies())
		}
		res = send(http.MethodGet, "session-a", anon, "")
		fresh := readAll(t, res)
		if fresh == anon || len(res.Cookies()) != 1 || res.Cookies()[0].Value != fresh || !res.Cookies()[0].HttpOnly {
			t.Errorf("GET after login kept the anonymous token or set no cookie: %v", res.Cookies())
		}
		if _, ok := g.age(fresh, "session-a"); !ok {
			t.Error("the new token is not valid for the session")
		}
		now = now.Add(csrfRenew + time.Minute)
		if res := send(http.MethodGet, "session-a", sessA, ""); readAll(t, res) == sessA {
			t.Error("an old token was not renewed")
		}
	})
}

func readAll(t *testing.T, res *http.Response) string {
	t.Helper()
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
