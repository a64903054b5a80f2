package ui

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/binary"
	"net/url"
	"time"

	"github.com/gofiber/fiber/v2"

	csrffield "github.com/edgeward/edgeward/views/components/csrf"
)

// CSRF tokens are signed rather than stored, so an anonymous visitor costs
// the server no memory: a token is a random nonce, the time it was issued
// and an HMAC of both and of the session cookie it was issued with. A
// state-changing request must carry the same token in its cookie and in
// the form field (or the X-Csrf-Token header), signed by this process and
// bound to the request's session: a token seen before login is worthless
// after it, and one minted for another browser's session is refused.

// csrfHeader is the header htmx requests carry the token in.
const csrfHeader = "X-Csrf-Token"

const (
	// csrfLifetime bounds how old a token may be; csrfRenew is the age
	// after which a page gets a fresh one, so a form just loaded always has
	// hours left.
	csrfLifetime = 24 * time.Hour
	csrfRenew    = 12 * time.Hour
	nonceLen     = 16
	tokenLen     = nonceLen + 8 + sha256.Size
)

// csrfGuard signs and checks tokens with a key made at start: a restart
// makes open forms ask for a reload, which is cheaper than storing a key.
type csrfGuard struct {
	key  []byte
	now  func() time.Time
	deny func(c *fiber.Ctx) error
}

func newCSRFGuard(deny func(c *fiber.Ctx) error) *csrfGuard {
	key := make([]byte, 32)
	_, _ = rand.Read(key) // crypto/rand.Read never fails on Linux
	return &csrfGuard{key: key, now: time.Now, deny: deny}
}

// mint makes a token for the session cookie value sess ("" before login).
func (g *csrfGuard) mint(sess string) string {
	var raw [tokenLen]byte
	_, _ = rand.Read(raw[:nonceLen])
	binary.BigEndian.PutUint64(raw[nonceLen:], uint64(g.now().Unix()))
	copy(raw[nonceLen+8:], g.mac(raw[:nonceLen+8], sess))
	return base64.RawURLEncoding.EncodeToString(raw[:])
}

func (g *csrfGuard) mac(head []byte, sess string) []byte {
	m := hmac.New(sha256.New, g.key)
	m.Write(head)
	m.Write([]byte(sess))
	return m.Sum(nil)
}

// age reports how old a token this guard signed for sess is; ok is false
// for anything else, including an expired token.
func (g *csrfGuard) age(tok, sess string) (age time.Duration, ok bool) {
	if base64.RawURLEncoding.EncodedLen(tokenLen) != len(tok) {
		return 0, false
	}
	raw, err := base64.RawURLEncoding.DecodeString(tok)
	if err != nil || len(raw) != tokenLen {
		return 0, false
	}
	if !hmac.Equal(raw[nonceLen+8:], g.mac(raw[:nonceLen+8], sess)) {
		return 0, false
	}
	issued := time.Unix(int64(binary.BigEndian.Uint64(raw[nonceLen:])), 0)
	age = g.now().Sub(issued)
	return age, age >= -time.Minute && age < csrfLifetime
}

// handle gives safe requests a token (the cookie's while it is good) and
// checks the token and the origin of every other request.
func (g *csrfGuard) handle(c *fiber.Ctx) error {
	name, sess := csrfCookiePlain, c.Cookies(SessionCookiePlain)
	if c.Context().IsTLS() {
		name, sess = csrfCookieTLS, c.Cookies(sessionCookieTLS)
	}
	cookie := c.Cookies(name)
	switch c.Method() {
	case fiber.MethodGet, fiber.MethodHead, fiber.MethodOptions, fiber.MethodTrace:
		tok := cookie
		if age, ok := g.age(cookie, sess); !ok || age > csrfRenew {
			tok = g.mint(sess)
			c.Cookie(&fiber.Cookie{Name: name, Value: tok, Path: "/", HTTPOnly: true,
				Secure: c.Context().IsTLS(), SameSite: fiber.CookieSameSiteStrictMode, SessionOnly: true})
		}
		c.Locals(csrfKey, tok)
		return c.Next()
	}
	sent := csrfToken(c)
	if !sameOrigin(c) || sent == "" || subtle.ConstantTimeCompare([]byte(sent), []byte(cookie)) != 1 {
		return g.deny(c)
	}
	if _, ok := g.age(sent, sess); !ok {
		return g.deny(c)
	}
	c.Locals(csrfKey, sent)
	return c.Next()
}

// sameOrigin reports whether a state-changing request came from a page of
// this host: its Origin, or its Referer when a browser sent no Origin,
// names the host the request was sent to. A request with neither (not from
// a browser page) relies on the token alone.
func sameOrigin(c *fiber.Ctx) bool {
	from := c.Get(fiber.HeaderOrigin)
	if from == "" {
		from = c.Get(fiber.HeaderReferer)
	}
	if from == "" {
		return true
	}
	u, err := url.Parse(from)
	if err != nil || u.Host == "" {
		// "null" (a sandboxed frame, a file) or garbage.
		return false
	}
	return u.Host == string(c.Request().Host())
}

// csrfToken is the token a state-changing request carries: the header
// (htmx, from the body's hx-headers) or the form field (forms without
// JavaScript).
func csrfToken(c *fiber.Ctx) string {
	if t := c.Get(csrfHeader); t != "" {
		return t
	}
	// The update form's body is a streamed binary: its token is in the
	// query, and the body must not be parsed for a form field.
	if c.Path() == UpdatePath {
		return c.Query(csrffield.FieldName)
	}
	return c.FormValue(csrffield.FieldName)
}
