package ui

import (
	"errors"

	"github.com/gofiber/fiber/v2"

	"github.com/edgeward/edgeward/core"
	"github.com/edgeward/edgeward/views/pages"
	"github.com/edgeward/edgeward/web/internal/httpx"
)

// The pages before and around login: first-start setup, login, logout.

func (u *ui) setupForm(c *fiber.Ctx) error {
	if !u.d.Admin.NeedsSetup() {
		return c.Redirect("/", fiber.StatusSeeOther)
	}
	return u.renderSetup(c, fiber.StatusOK, nil)
}

func (u *ui) renderSetup(c *fiber.Ctx, status int, errs map[string]string) error {
	return render(c, status, pages.Setup(pages.SetupProps{Page: u.page(c, "First start"), Errors: errs}))
}

// setup sets the first password with the setup code and logs the browser in.
func (u *ui) setup(c *fiber.Ctx) error {
	code, password := c.FormValue("code"), c.FormValue("password")
	if password != c.FormValue("repeat") {
		return u.renderSetup(c, fiber.StatusUnprocessableEntity, map[string]string{"repeat": "The passwords do not match."})
	}
	cx, cancel := httpx.Ctx(c)
	defer cancel()
	sess, err := u.d.Admin.Setup(cx, code, password)
	switch {
	case errors.Is(err, core.ErrConflict):
		// Set up meanwhile, in another tab or by someone else.
		return c.Redirect("/login", fiber.StatusSeeOther)
	case errors.Is(err, core.ErrPermission):
		u.authFailed(c, "setup code refused")
		fields, _ := formErrors(err)
		return u.renderSetup(c, fiber.StatusUnauthorized, fields)
	case err != nil:
		if fields, ok := formErrors(err); ok {
			return u.renderSetup(c, fiber.StatusUnprocessableEntity, fields)
		}
		return err
	}
	u.d.Log.Info("admin password set", "request_id", httpx.RequestID(c), "remote", c.IP())
	setSessionCookie(c, sess)
	return c.Redirect("/", fiber.StatusSeeOther)
}

func (u *ui) loginForm(c *fiber.Ctx) error {
	return u.renderLogin(c, fiber.StatusOK, "")
}

func (u *ui) renderLogin(c *fiber.Ctx, status int, msg string) error {
	return render(c, status, pages.Login(pages.LoginProps{Page: u.page(c, "Log in"), Error: msg}))
}

// login opens a session for the right password. Refusals are counted by
// the limiter and reported to OnAuthFailure, so that the firewall
// greylists addresses that keep guessing.
func (u *ui) login(c *fiber.Ctx) error {
	cx, cancel := httpx.Ctx(c)
	defer cancel()
	sess, err := u.d.Admin.Login(cx, c.FormValue("password"))
	if errors.Is(err, core.ErrPermission) {
		u.authFailed(c, "admin login refused")
		return u.renderLogin(c, fiber.StatusUnauthorized, "Wrong password.")
	}
	if err != nil {
		return err
	}
	u.d.Log.Info("admin logged in", "request_id", httpx.RequestID(c), "remote", c.IP())
	setSessionCookie(c, sess)
	return c.Redirect("/", fiber.StatusSeeOther)
}

// authFailed counts a refused credential against its source, for the
// limiter and the firewall.
func (u *ui) authFailed(c *fiber.Ctx, msg string) {
	u.refused.refuse(c.IP())
	u.d.Log.Warn(msg, "request_id", httpx.RequestID(c), "remote", c.IP())
	if u.d.OnAuthFailure != nil {
		u.d.OnAuthFailure(c.IP())
	}
}

// logout ends the session, if any, and goes back to the login page.
func (u *ui) logout(c *fiber.Ctx) error {
	cx, cancel := httpx.Ctx(c)
	defer cancel()
	if err := u.d.Admin.Logout(cx, c.Cookies(sessionCookieName(c))); err != nil {
		return err
	}
	clearSessionCookie(c)
	return c.Redirect("/login", fiber.StatusSeeOther)
}
