package interfaces

import (
	"context"
	"errors"
	"net/netip"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/gofiber/fiber/v2/middleware/limiter"

	"github.com/edgeward/edgeward/core"
	"github.com/edgeward/edgeward/core/admin"
	"github.com/edgeward/edgeward/web/internal/httpx"
)

// Sessions are the admin account's API sessions (*admin.Service): the
// original's clients sign in with a user name and password for a bearer
// token instead of holding an API token.
type Sessions interface {
	LoginAPI(ctx context.Context, username, password string) (admin.Session, error)
	CheckAPI(ctx context.Context, token string) (admin.Session, error)
	LogoutAPI(ctx context.Context, token string) error
}

// loginLimit is how many refused logins one address may make per minute,
// as on the login page.
const loginLimit = 5

// loginReq is the body of POST /v1/session/login.
type loginReq struct {
	Username *string `json:"username"`
	Password *string `json:"password"`
}

// loginJSON is its answer.
type loginJSON struct {
	BearerToken string `json:"bearer_token"`
}

// sessionRoutes mounts login and logout. Refused logins are counted per
// address (429 past loginLimit a minute) and reported to the guard's
// OnFailure, the path the login page's refusals take, so that the
// firewall greylists an address that keeps guessing.
func (h *handler) sessionRoutes(r fiber.Router, auth fiber.Handler) {
	limit := limiter.New(limiter.Config{
		Max: loginLimit, Expiration: time.Minute, LimiterMiddleware: limiter.SlidingWindow{},
		KeyGenerator:           func(c *fiber.Ctx) string { return c.IP() },
		SkipSuccessfulRequests: true,
		LimitReached: func(c *fiber.Ctx) error {
			return deny(c, fiber.StatusTooManyRequests, "too many refused logins from this address; wait a minute")
		},
	})
	r.Post("/login", h.refuseBanned, limit, h.login)
	r.Post("/logout", auth, h.logout)
}

// refuseBanned refuses sources the ACL bans or greylists, as the token
// check does.
func (h *handler) refuseBanned(c *fiber.Ctx) error {
	if h.banned(c) {
		return deny(c, fiber.StatusForbidden, "source address is banned or greylisted")
	}
	return c.Next()
}

func (h *handler) banned(c *fiber.Ctx) bool {
	ip, err := netip.ParseAddr(c.IP())
	return err == nil && h.d.Guard.Banned != nil && h.d.Guard.Banned(ip)
}

func (h *handler) login(c *fiber.Ctx) error {
	if h.d.Sessions == nil {
		return h.notFound(c)
	}
	var req loginReq
	if err := httpx.Decode(c, &req); err != nil {
		return h.fail(c, err)
	}
	switch {
	case req.Username == nil:
		return h.fail(c, qBadArg("username: is required"))
	case req.Password == nil:
		return h.fail(c, qBadArg("password: is required"))
	}
	cx, cancel := httpx.Ctx(c)
	defer cancel()
	sess, err := h.d.Sessions.LoginAPI(cx, *req.Username, *req.Password)
	if errors.Is(err, core.ErrPermission) {
		h.d.Log.Warn("api login refused", "request_id", httpx.RequestID(c), "remote", c.IP())
		if h.d.Guard.OnFailure != nil {
			h.d.Guard.OnFailure(c.IP())
		}
		return deny(c, fiber.StatusUnauthorized, "wrong user name or password")
	}
	if err != nil {
		return h.fail(c, err)
	}
	h.d.Log.Info("admin api session opened", "request_id", httpx.RequestID(c), "remote", c.IP())
	httpx.NoStore(c)
	return httpx.OK(c, loginJSON{BearerToken: sess.ID})
}

// logout ends the session the request's bearer token is; an API token is
// left alone (tokens are revoked under /api/tokens).
func (h *handler) logout(c *fiber.Ctx) error {
	if h.d.Sessions == nil {
		return h.notFound(c)
	}
	cx, cancel := httpx.Ctx(c)
	defer cancel()
	if err := h.d.Sessions.LogoutAPI(cx, httpx.Bearer(c)); err != nil {
		return h.fail(c, err)
	}
	return httpx.OK(c, struct{}{})
}

// authenticate accepts a live API session's bearer token, and otherwise
// what the API token check accepts; every refusal is a qError.
func (h *handler) authenticate() fiber.Handler {
	tokens := h.d.Guard.Authenticate(deny)
	return func(c *fiber.Ctx) error {
		if h.d.Sessions != nil {
			if secret := httpx.Bearer(c); secret != "" {
				if h.banned(c) {
					return deny(c, fiber.StatusForbidden, "source address is banned or greylisted")
				}
				cx, cancel := httpx.Ctx(c)
				_, err := h.d.Sessions.CheckAPI(cx, secret)
				cancel()
				if err == nil {
					return c.Next()
				}
				if !errors.Is(err, core.ErrPermission) {
					return h.fail(c, err)
				}
			}
		}
		return tokens(c)
	}
}
