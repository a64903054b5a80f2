package web

import (
	"net/netip"
	"strings"

	"github.com/edgeward/edgeward/core/auth"
	"github.com/gofiber/fiber/v2"
)

const tokenKey = "token"

// authenticate accepts "Authorization: Token T", "Authorization: Bearer T"
// or "api-key: T". Viewers may only read.
func authenticate(d Deps) fiber.Handler {
	return func(c *fiber.Ctx) error {
		// Without kernel enforcement (no CAP_NET_ADMIN) the API still
		// refuses banned and greylisted sources itself.
		if d.ACL != nil {
			if ip, err := netip.ParseAddr(c.IP()); err == nil && d.ACL.Banned(ip) {
				return c.Status(fiber.StatusForbidden).JSON(apiError{
					Message: "source address is banned or greylisted", Code: fiber.StatusForbidden})
			}
		}
		secret := bearer(c)
		if secret == "" {
			c.Set(fiber.HeaderWWWAuthenticate, `Token realm="edgeward"`)
			return c.Status(fiber.StatusUnauthorized).JSON(apiError{
				Message: "authentication required: send Authorization: Token <token>", Code: fiber.StatusUnauthorized})
		}
		tok, err := d.Tokens.Check(secret)
		if err != nil {
			if d.OnAuthFailure != nil {
				d.OnAuthFailure(c.IP())
			}
			d.Log.Warn("api token refused", "request_id", requestID(c), "remote", c.IP(), "path", c.Path())
			c.Set(fiber.HeaderWWWAuthenticate, `Token realm="edgeward", error="invalid_token"`)
			return c.Status(fiber.StatusUnauthorized).JSON(apiError{
				Message: "token invalid or revoked", Code: fiber.StatusUnauthorized})
		}
		c.Locals(tokenKey, tok)
		if tok.Role != auth.RoleAdmin && c.Method() != fiber.MethodGet && c.Method() != fiber.MethodHead {
			return c.Status(fiber.StatusForbidden).JSON(apiError{
				Message: "token " + tok.Name + " has role " + tok.Role + " and may only read", Code: fiber.StatusForbidden})
		}
		return c.Next()
	}
}

func bearer(c *fiber.Ctx) string {
	if k := strings.TrimSpace(c.Get("api-key")); k != "" {
		return k
	}
	h := strings.TrimSpace(c.Get(fiber.HeaderAuthorization))
	scheme, tok, ok := strings.Cut(h, " ")
	if !ok {
		return ""
	}
	if strings.EqualFold(scheme, "Token") || strings.EqualFold(scheme, "Bearer") {
		return strings.TrimSpace(tok)
	}
	return ""
}

// adminOnly guards reads that expose more than a viewer should see.
func adminOnly(c *fiber.Ctx) error {
	if caller(c).Role != auth.RoleAdmin {
		return c.Status(fiber.StatusForbidden).JSON(apiError{
			Message: "this needs an admin token", Code: fiber.StatusForbidden})
	}
	return c.Next()
}

func caller(c *fiber.Ctx) auth.Token {
	tok, _ := c.Locals(tokenKey).(auth.Token)
	return tok
}
