package ui

import (
	"github.com/gofiber/fiber/v2"

	"github.com/edgeward/edgeward/views/pages"
	"github.com/edgeward/edgeward/web/internal/httpx"
)

func (u *ui) passwordForm(c *fiber.Ctx) error {
	return u.renderPassword(c, fiber.StatusOK, nil, c.Query("changed") == "1")
}

func (u *ui) renderPassword(c *fiber.Ctx, status int, errs map[string]string, changed bool) error {
	return render(c, status, pages.Password(pages.PasswordProps{
		Page: u.navPage(c, "Change password", "/settings/password"), Errors: errs, Changed: changed}))
}

// changePassword replaces the password. The core ends every session; the
// browser that changed it gets the new one it returns.
func (u *ui) changePassword(c *fiber.Ctx) error {
	next := c.FormValue("new")
	if next != c.FormValue("repeat") {
		return u.renderPassword(c, fiber.StatusUnprocessableEntity, map[string]string{"repeat": "The passwords do not match."}, false)
	}
	cx, cancel := httpx.Ctx(c)
	defer cancel()
	sess, err := u.d.Admin.ChangePassword(cx, c.FormValue("current"), next)
	if err != nil {
		fields, ok := formErrors(err)
		if !ok {
			return err
		}
		status := fiber.StatusUnprocessableEntity
		if _, wrong := fields["current"]; wrong {
			status = fiber.StatusForbidden
			u.refused.refuse(c.IP())
		}
		return u.renderPassword(c, status, fields, false)
	}
	u.d.Log.Info("admin password changed", "request_id", httpx.RequestID(c), "remote", c.IP())
	setSessionCookie(c, sess)
	return c.Redirect("/settings/password?changed=1", fiber.StatusSeeOther)
}
