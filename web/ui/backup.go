package ui

import (
	"bytes"
	"errors"

	"github.com/gofiber/fiber/v2"

	"github.com/edgeward/edgeward/core"
	corebackup "github.com/edgeward/edgeward/core/backup"
	"github.com/edgeward/edgeward/views/pages"
	"github.com/edgeward/edgeward/web/internal/httpx"
)

func (u *ui) backupRoutes(app *fiber.App) {
	app.Get("/settings/backup", u.authed(u.backupPage)...)
	app.Post("/settings/backup/download", u.authed(u.downloadBackup)...)
	app.Post("/settings/backup/restore", u.authed(u.restoreBackup)...)
}

func (u *ui) backupPage(c *fiber.Ctx) error {
	return u.renderBackup(c, fiber.StatusOK, "", nil)
}

func (u *ui) renderBackup(c *fiber.Ctx, status int, errMsg string, restored *pages.RestoredBackup) error {
	return render(c, status, pages.Backup(pages.BackupProps{Page: u.navPage(c, "Backup", "/settings/backup"),
		Secrets: corebackup.Secrets, Error: errMsg, Restored: restored}))
}

// downloadBackup answers the archive as an attachment (a POST, so only
// edgeward's own page, with its CSRF token, can start one).
func (u *ui) downloadBackup(c *fiber.Ctx) error {
	cx, cancel := httpx.Ctx(c)
	defer cancel()
	var buf bytes.Buffer
	m, err := u.d.Backups.Backup(cx, &buf)
	if err != nil {
		return err
	}
	u.d.Log.Info("backup downloaded", "request_id", httpx.RequestID(c), "remote", c.IP())
	c.Set(fiber.HeaderContentType, "application/gzip")
	c.Set(fiber.HeaderContentDisposition, `attachment; filename="`+corebackup.FileName(m)+`"`)
	c.Status(fiber.StatusOK).Response().SetBodyRaw(buf.Bytes())
	return nil
}

// restoreBackup stages the uploaded file; the restart that applies it
// follows the answer.
func (u *ui) restoreBackup(c *fiber.Ctx) error {
	fh, err := c.FormFile("file")
	if err != nil {
		return u.renderBackup(c, fiber.StatusUnprocessableEntity, "Choose a backup file to restore.", nil)
	}
	f, err := fh.Open()
	if err != nil {
		return err
	}
	defer f.Close()
	cx, cancel := httpx.Ctx(c)
	defer cancel()
	m, err := u.d.Backups.Restore(cx, f)
	if err != nil {
		var pub *core.Error
		if !errors.As(err, &pub) {
			return err
		}
		// A refused file is a form error, whatever the reason; a restore
		// already running is the one retryable case.
		status := fiber.StatusUnprocessableEntity
		if errors.Is(err, core.ErrBusy) {
			status = fiber.StatusTooManyRequests
		}
		return u.renderBackup(c, status, sentence(pub.Msg), nil)
	}
	u.d.Log.Info("restore staged", "request_id", httpx.RequestID(c), "remote", c.IP(),
		"from_node", m.NodeName, "created", m.Created)
	return u.renderBackup(c, fiber.StatusAccepted, "", &pages.RestoredBackup{Node: m.NodeName, Made: m.Created})
}
