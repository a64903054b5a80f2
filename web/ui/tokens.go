package ui

import (
	"errors"
	"strings"

	"github.com/gofiber/fiber/v2"

	"github.com/edgeward/edgeward/core"
	"github.com/edgeward/edgeward/core/auth"
	"github.com/edgeward/edgeward/views/pages"
	"github.com/edgeward/edgeward/web/internal/httpx"
)

// tokenRoutes mounts API tokens (settings).
func (u *ui) tokenRoutes(app *fiber.App) {
	app.Get("/settings/tokens", u.authed(u.tokensPage)...)
	app.Post("/settings/tokens", u.authed(u.createToken)...)
	app.Get("/settings/tokens/:id/revoke", u.authed(u.tokenRevokeForm)...)
	app.Post("/settings/tokens/:id/revoke", u.authed(u.revokeToken)...)
}

func (u *ui) tokensPage(c *fiber.Ctx) error {
	return render(c, fiber.StatusOK, pages.Tokens(u.tokensProps(c)))
}

func (u *ui) tokensProps(c *fiber.Ctx) pages.TokensProps {
	p := pages.TokensProps{Page: u.navPage(c, "API tokens", "/settings/tokens"),
		Roles: []string{auth.RoleViewer, auth.RoleAdmin, auth.RoleMetrics}, Role: auth.RoleViewer}
	for _, t := range u.d.Tokens.List() {
		p.Rows = append(p.Rows, pages.TokenRow{ID: t.ID, Name: t.Name, Role: t.Role,
			Created: t.CreatedAt})
	}
	return p
}

// createToken makes a token and shows its secret on the response itself:
// the core keeps only a hash, so there is nothing a redirect could show.
func (u *ui) createToken(c *fiber.Ctx) error {
	name, role := strings.TrimSpace(c.FormValue("name")), c.FormValue("role")
	cx, cancel := httpx.Ctx(c)
	defer cancel()
	tok, secret, err := u.d.Tokens.Create(cx, name, role)
	if err != nil {
		fields, ok := formErrors(err)
		if !ok {
			return err
		}
		p := u.tokensProps(c)
		p.Name, p.Role, p.Errors = name, role, fields
		return render(c, fiber.StatusUnprocessableEntity, pages.Tokens(p))
	}
	u.d.Log.Info("api token created", "request_id", httpx.RequestID(c), "remote", c.IP(), "token_id", tok.ID, "role", tok.Role, "by", "admin")
	p := u.tokensProps(c)
	p.Created = &pages.CreatedToken{Name: tok.Name, Role: tok.Role, Secret: secret}
	return render(c, fiber.StatusOK, pages.Tokens(p))
}

func (u *ui) tokenRevokeForm(c *fiber.Ctx) error {
	t, err := u.d.Tokens.Get(c.Params("id"))
	if err != nil {
		return err
	}
	return render(c, fiber.StatusOK, pages.TokenRevoke(u.tokenRevokeProps(c, t)))
}

func (u *ui) tokenRevokeProps(c *fiber.Ctx, t auth.Token) pages.TokenRevokeProps {
	return pages.TokenRevokeProps{Page: u.navPage(c, "Revoke API token", "/settings/tokens"),
		ID: t.ID, Name: t.Name, Role: t.Role}
}

// revokeToken revokes a token. A refusal the admin can act on (the last
// admin token) is shown on the confirmation page with its reason.
func (u *ui) revokeToken(c *fiber.Ctx) error {
	id := c.Params("id")
	cx, cancel := httpx.Ctx(c)
	defer cancel()
	err := u.d.Tokens.Revoke(cx, id)
	var pub *core.Error
	if errors.As(err, &pub) && errors.Is(err, core.ErrConflict) {
		t, lookErr := u.d.Tokens.Get(id)
		if lookErr != nil {
			return lookErr
		}
		p := u.tokenRevokeProps(c, t)
		p.Error = fieldMessage(pub)
		return render(c, fiber.StatusConflict, pages.TokenRevoke(p))
	}
	if err != nil {
		return err
	}
	u.d.Log.Info("api token revoked", "request_id", httpx.RequestID(c), "remote", c.IP(), "token_id", id, "by", "admin")
	return c.Redirect("/settings/tokens", fiber.StatusSeeOther)
}
