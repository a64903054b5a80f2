package peers

import (
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/edgeward/edgeward/core"
	"github.com/edgeward/edgeward/core/auth"
	"github.com/edgeward/edgeward/web/internal/httpx"
)

type tokenJSON struct {
	ID        string    `json:"id"`
	Name      string    `json:"name"`
	Role      string    `json:"role"`
	CreatedAt time.Time `json:"created_at"`
	// Token is the secret, present only in the creation response.
	Token string `json:"token,omitempty"`
}

func toTokenJSON(t auth.Token) tokenJSON {
	return tokenJSON{ID: t.ID, Name: t.Name, Role: t.Role, CreatedAt: t.CreatedAt}
}

func (h *handler) listTokens(c *fiber.Ctx) error {
	toks := h.d.Tokens.List()
	out := make([]tokenJSON, len(toks))
	for i, t := range toks {
		out[i] = toTokenJSON(t)
	}
	return httpx.OK(c, out)
}

type tokenReq struct {
	Name *string `json:"name"`
	Role *string `json:"role"`
}

func (h *handler) createToken(c *fiber.Ctx) error {
	var req tokenReq
	if err := httpx.Decode(c, &req); err != nil {
		return h.fail(c, err)
	}
	if req.Name == nil {
		return h.fail(c, core.Invalid("name", "is required"))
	}
	role := auth.RoleViewer
	if req.Role != nil {
		role = *req.Role
	}
	cx, cancel := httpx.Ctx(c)
	defer cancel()
	tok, secret, err := h.d.Tokens.Create(cx, *req.Name, role)
	if err != nil {
		return h.fail(c, err)
	}
	h.d.Log.Info("api token created", "token_id", tok.ID, "role", tok.Role, "by", httpx.Caller(c).ID)
	out := toTokenJSON(tok)
	out.Token = secret
	httpx.NoStore(c)
	return httpx.OK(c, out)
}

func (h *handler) revokeToken(c *fiber.Ctx) error {
	cx, cancel := httpx.Ctx(c)
	defer cancel()
	if err := h.d.Tokens.Revoke(cx, c.Params("id")); err != nil {
		return h.fail(c, err)
	}
	h.d.Log.Info("api token revoked", "token_id", c.Params("id"), "by", httpx.Caller(c).ID)
	return httpx.OK(c, fiber.Map{})
}
