package ui

import (
	"context"
	"errors"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/edgeward/edgeward/core"
	"github.com/edgeward/edgeward/firmware/slots"
	csrffield "github.com/edgeward/edgeward/views/components/csrf"
	"github.com/edgeward/edgeward/views/pages"
	"github.com/edgeward/edgeward/web/internal/httpx"
)

// UpdatePath is the update page. Its form posts the binary there as a
// multipart body the app streams (it is larger than the body limit), so
// the form's CSRF token rides in the query: reading it from the body
// would mean reading the whole binary into memory first.
const UpdatePath = "/settings/update"

func (u *ui) updateRoutes(app *fiber.App) {
	app.Get(UpdatePath, u.authed(u.updatePage)...)
	app.Post(UpdatePath, u.authed(u.installUpdate)...)
}

func (u *ui) updatePage(c *fiber.Ctx) error {
	return u.renderUpdate(c, fiber.StatusOK, "", nil)
}

func (u *ui) renderUpdate(c *fiber.Ctx, status int, errMsg string, installed *slots.Installed) error {
	p := pages.UpdateProps{Page: u.navPage(c, "Update", UpdatePath), Version: u.d.Version, Running: u.d.Slot,
		Error: errMsg}
	p.Action = UpdatePath + "?" + csrffield.FieldName + "=" + p.Page.CSRF
	if u.d.Updates != nil {
		p.On = true
		p.KeySet = u.d.Updates.HasKey()
		st, err := u.d.Updates.State()
		if err != nil {
			return err
		}
		p.Active, p.Trial, p.RolledBack = st.Active, st.Trial, st.RolledBack
		p.Deadline = st.Deadline
		for _, s := range []string{"a", "b"} {
			if v := st.Versions[s]; v != "" {
				p.Slots = append(p.Slots, pages.UpdateSlot{Name: s, Version: v, SHA256: st.SHA256[s]})
			}
		}
	}
	if installed != nil {
		p.Installed = installed.Version + " in slot " + installed.Slot
	}
	return render(c, status, pages.Update(p))
}

// installUpdate streams the signed binary into the inactive slot; the
// restart into it follows the answer, as after an API upload.
func (u *ui) installUpdate(c *fiber.Ctx) error {
	if u.d.Updates == nil {
		httpx.Drain(httpx.BodyReader(c), slots.MaxSize)
		return u.renderUpdate(c, fiber.StatusForbidden, "Updates are off on this box.", nil)
	}
	body, sig, done, err := httpx.SignedUpload(c)
	if err == nil {
		defer done()
		ctx, cancel := context.WithTimeout(c.UserContext(), 5*time.Minute)
		defer cancel()
		var res slots.Installed
		if res, err = u.d.Updates.Install(ctx, body, sig, ""); err == nil {
			u.d.Log.Info("update installed on trial", "request_id", httpx.RequestID(c), "remote", c.IP(),
				"slot", res.Slot, "version", res.Version, "sha256", res.SHA256)
			if u.d.Restart != nil {
				defer time.AfterFunc(200*time.Millisecond, u.d.Restart)
			}
			return u.renderUpdate(c, fiber.StatusAccepted, "", &res)
		}
		httpx.Drain(body, slots.MaxSize)
	} else {
		httpx.Drain(httpx.BodyReader(c), slots.MaxSize)
	}
	var pub *core.Error
	if !errors.As(err, &pub) {
		return err
	}
	return u.renderUpdate(c, httpx.Classify(err).Status, sentence(pub.Msg), nil)
}
