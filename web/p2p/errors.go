package p2p

import (
	"errors"
	"fmt"
	"net/url"
	"slices"
	"strings"

	"github.com/gofiber/fiber/v2"

	"github.com/edgeward/edgeward/core"
	"github.com/edgeward/edgeward/core/auth"
	"github.com/edgeward/edgeward/web/internal/httpx"
)

// netError is one element of the dialect's error body, the original's
// error list: [{"kind":"permanent","id":"edgeward.bad_point","msg":"…"}].
type netError struct {
	Kind string `json:"kind"`
	ID   string `json:"id"`
	Msg  string `json:"msg"`
}

// failure is a refusal a handler of this dialect decides itself. Its
// message is public-safe.
type failure struct {
	status int
	id     string
	msg    string
}

func (f *failure) Error() string { return f.msg }

func badArg(id, format string, args ...any) error {
	return &failure{status: fiber.StatusBadRequest, id: id, msg: fmt.Sprintf(format, args...)}
}

func unknown(id, format string, args ...any) error {
	return &failure{status: fiber.StatusNotFound, id: id, msg: fmt.Sprintf(format, args...)}
}

// fail is the dialect's one error mapper. Only public-safe messages reach
// the client; anything else is logged with the request id and answered
// "internal error".
func (h *handler) fail(c *fiber.Ctx, err error) error {
	status, id, msg := fiber.StatusInternalServerError, "internal", "internal error"
	var f *failure
	var ve *core.ValidationError
	var pub *core.Error
	switch {
	case errors.As(err, &f):
		status, id, msg = f.status, f.id, f.msg
	case errors.As(err, &ve):
		status, id, msg = fiber.StatusBadRequest, "invalid_argument", ve.Error()
	case errors.Is(err, core.ErrNotFound):
		status, id, msg = fiber.StatusNotFound, "not_found", "not found"
		if errors.As(err, &pub) {
			msg = pub.Msg
		}
	case errors.Is(err, core.ErrInvalid):
		status, id, msg = fiber.StatusBadRequest, "invalid_argument", "invalid argument"
		if errors.As(err, &pub) {
			msg = pub.Msg
		}
	case errors.Is(err, core.ErrPermission):
		status, id, msg = fiber.StatusForbidden, "permission_denied", "permission denied"
	case errors.Is(httpx.Classify(err).Kind, core.ErrNoSpace):
		status, id, msg = fiber.StatusInsufficientStorage, "no_space", httpx.Classify(err).Msg
	}
	if status == fiber.StatusInternalServerError {
		httpx.LogFailure(h.Log, c, err)
	}
	return c.Status(status).JSON([]netError{{Kind: "permanent", ID: "edgeward." + id, Msg: msg}})
}

// adminOnly guards the deprecated GETs that change state: the token
// middleware lets every GET through.
func (h *handler) adminOnly(c *fiber.Ctx) error {
	if tok := httpx.Caller(c); tok.Role != auth.RoleAdmin {
		return h.fail(c, &failure{status: fiber.StatusForbidden, id: "forbidden",
			msg: "token " + tok.Name + " has role " + tok.Role + " and may not change the ACL; this needs an admin token"})
	}
	return c.Next()
}

// unmatched answers what no route took, in the dialect's shape: 405 with
// the Allow header when another method serves the path, else 404.
func (h *handler) unmatched(c *fiber.Ctx) error {
	path := strings.TrimPrefix(c.Path(), "/network")
	var allow []string
	for _, r := range h.routes {
		if matches(r.path, path) && !slices.Contains(allow, r.method) {
			allow = append(allow, r.method)
			if r.method == fiber.MethodGet {
				allow = append(allow, fiber.MethodHead)
			}
		}
	}
	if len(allow) == 0 {
		return h.fail(c, unknown("no_such_path", "no /network route has the path %s", httpx.Quote(c.Path())))
	}
	c.Set(fiber.HeaderAllow, strings.Join(allow, ", "))
	return h.fail(c, &failure{status: fiber.StatusMethodNotAllowed, id: "method_not_allowed",
		msg: fmt.Sprintf("%s does not serve %s: use %s", httpx.Quote(c.Path()), c.Method(), strings.Join(allow, ", "))})
}

// matches reports whether path fits pattern, whose ":name" segments take
// any one non-empty segment.
func matches(pattern, path string) bool {
	ps, xs := strings.Split(pattern, "/"), strings.Split(strings.TrimSuffix(path, "/"), "/")
	if len(ps) != len(xs) {
		return false
	}
	for i := range ps {
		if strings.HasPrefix(ps[i], ":") {
			if xs[i] == "" {
				return false
			}
		} else if ps[i] != xs[i] {
			return false
		}
	}
	return true
}

// pathArg returns a path parameter, percent-decoded: clients escape the
// brackets and zone of an IPv6 point.
func pathArg(c *fiber.Ctx, name string) (string, error) {
	raw := c.Params(name)
	s, err := url.PathUnescape(raw)
	if err != nil {
		return "", badArg("bad_"+name, "%s %s is not a valid URL path segment", name, httpx.Quote(raw))
	}
	return s, nil
}
