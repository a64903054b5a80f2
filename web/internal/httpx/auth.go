package httpx

import (
	"log/slog"
	"net/netip"
	"strings"

	"github.com/edgeward/edgeward/core/auth"
	"github.com/gofiber/fiber/v2"
)

const tokenKey = "token"

// Deny writes a dialect's refusal of a request with status and msg.
type Deny func(c *fiber.Ctx, status int, msg string) error

// Guard is what token authentication needs.
type Guard struct {
	Log    *slog.Logger
	Tokens *auth.Tokens
	// Banned, when not nil, refuses sources the ACL bans or greylists: the
	// API refuses them itself when the kernel does not (no CAP_NET_ADMIN).
	Banned func(netip.Addr) bool
	// OnFailure is told the source of every refused token, so the firewall
	// can greylist sources that keep guessing. May be nil.
	OnFailure func(ip string)
}

// Authenticate accepts "Authorization: Token T", "Authorization: Bearer T"
// or "api-key: T". Viewers may only read; metrics tokens are refused (they
// are for Scrape alone). Refusals are written by deny.
func (g Guard) Authenticate(deny Deny) fiber.Handler {
	return g.check(deny, func(c *fiber.Ctx, tok auth.Token) error {
		switch {
		case tok.Role == auth.RoleMetrics:
			return deny(c, fiber.StatusForbidden, "token "+tok.Name+" has role metrics and may only read /metrics")
		case tok.Role != auth.RoleAdmin && c.Method() != fiber.MethodGet && c.Method() != fiber.MethodHead:
			return deny(c, fiber.StatusForbidden, "token "+tok.Name+" has role "+tok.Role+" and may only read")
		}
		return c.Next()
	})
}

// Scrape accepts admin and metrics tokens, as Authenticate reads them, and
// refuses viewers: what a monitoring system reads stays apart from what
// the API shows.
func (g Guard) Scrape(deny Deny) fiber.Handler {
	return g.check(deny, func(c *fiber.Ctx, tok auth.Token) error {
		if tok.Role != auth.RoleAdmin && tok.Role != auth.RoleMetrics {
			return deny(c, fiber.StatusForbidden, "this needs an admin or metrics token")
		}
		return c.Next()
	})
}

// check finds and checks the request's token and hands it to then.
func (g Guard) check(deny Deny, then func(c *fiber.Ctx, tok auth.Token) error) fiber.Handler {
	return func(c *fiber.Ctx) error {
		if g.Banned != nil {
			if ip, err := netip.ParseAddr(c.IP()); err == nil && g.Banned(ip) {
				return deny(c, fiber.StatusForbidden, "source address is banned or greylisted")
			}
		}
		secret := Bearer(c)
		if secret == "" {
			c.Set(fiber.HeaderWWWAuthenticate, `Token realm="edgeward"`)
			return deny(c, fiber.StatusUnauthorized, "authentication required: send Authorization: Token <token>")
		}
		tok, err := g.Tokens.Check(secret)
		if err != nil {
			if g.OnFailure != nil {
				g.OnFailure(c.IP())
			}
			g.Log.Warn("api token refused", "request_id", RequestID(c), "remote", c.IP(), "path", c.Path())
			c.Set(fiber.HeaderWWWAuthenticate, `Token realm="edgeward", error="invalid_token"`)
			return deny(c, fiber.StatusUnauthorized, "token invalid or revoked")
		}
		c.Locals(tokenKey, tok)
		return then(c, tok)
	}
}

// Bearer is the token a request carries, or "".
func Bearer(c *fiber.Ctx) string {
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

// Caller is the token Authenticate accepted for this request.
func Caller(c *fiber.Ctx) auth.Token {
	tok, _ := c.Locals(tokenKey).(auth.Token)
	return tok
}

// AdminOnly guards routes that need an admin token, refusing with deny.
func AdminOnly(deny Deny) fiber.Handler {
	return func(c *fiber.Ctx) error {
		if Caller(c).Role != auth.RoleAdmin {
			return deny(c, fiber.StatusForbidden, "this needs an admin token")
		}
		return c.Next()
	}
}
