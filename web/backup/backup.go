// Package backup serves the backup and restore of the whole store under
// /api/system: an admin downloads an archive of the store, or uploads one
// to be restored (core/backup stages it and the box restarts its services
// to apply it).
package backup

import (
	"bytes"
	"context"
	"io"
	"log/slog"

	"github.com/gofiber/fiber/v2"

	"github.com/edgeward/edgeward/core"
	corebackup "github.com/edgeward/edgeward/core/backup"
	"github.com/edgeward/edgeward/web/internal/httpx"
)

// Backups is what the routes need of core/backup.
type Backups interface {
	Backup(ctx context.Context, w io.Writer) (corebackup.Manifest, error)
	Restore(ctx context.Context, r io.Reader) (corebackup.Manifest, error)
}

// Deps are what the routes call. The zero Deps is enough to mount (and
// list) the routes; they must not be called without Backups.
type Deps struct {
	Log     *slog.Logger
	Backups Backups
	// Deny and Fail write refusals and errors in the /api dialect's shape
	// (the peers dialect's), which this part may not import.
	Deny httpx.Deny
	Fail func(c *fiber.Ctx, err error) error
}

// Restored is the answer to a restore: the archive's manifest and what
// happens next.
type Restored struct {
	corebackup.Manifest
	Message string `json:"message"`
}

type handler struct{ d Deps }

// Mount adds the routes to r, the /api group that already checks tokens
// (so httpx.Caller holds the caller). Both are admin-only: a backup holds
// secrets and a restore replaces everything.
func Mount(r fiber.Router, d Deps) {
	if d.Log == nil {
		d.Log = slog.New(slog.DiscardHandler)
	}
	h := &handler{d: d}
	admin := httpx.AdminOnly(h.deny)
	r.Get("/system/backup", admin, h.download)
	r.Post("/system/restore", admin, h.restore)
}

func (h *handler) deny(c *fiber.Ctx, status int, msg string) error {
	if h.d.Deny == nil {
		return c.Status(status).SendString(msg)
	}
	return h.d.Deny(c, status, msg)
}

func (h *handler) fail(c *fiber.Ctx, err error) error {
	if h.d.Fail == nil {
		return err
	}
	return h.d.Fail(c, err)
}

// download answers the archive as an attachment. It is built in memory
// first, so a failure is still answered as JSON; archives are compressed
// and small (see README).
func (h *handler) download(c *fiber.Ctx) error {
	ctx, cancel := httpx.Ctx(c)
	defer cancel()
	var buf bytes.Buffer
	m, err := h.d.Backups.Backup(ctx, &buf)
	if err != nil {
		return h.fail(c, err)
	}
	Send(c, m, buf.Bytes())
	return nil
}

// Send answers an archive as a download named after its node and time.
func Send(c *fiber.Ctx, m corebackup.Manifest, archive []byte) {
	c.Set(fiber.HeaderContentType, "application/gzip")
	c.Set(fiber.HeaderContentDisposition, `attachment; filename="`+corebackup.FileName(m)+`"`)
	httpx.NoStore(c) // it holds secrets
	c.Status(fiber.StatusOK).Response().SetBodyRaw(archive)
}

// restore reads the archive from the raw body (application/gzip).
func (h *handler) restore(c *fiber.Ctx) error {
	if len(c.Body()) == 0 {
		return h.fail(c, &core.Error{Kind: httpx.ErrMalformed, Field: "file",
			Msg: "file: send the backup archive as the request body (Content-Type: application/gzip)"})
	}
	ctx, cancel := httpx.Ctx(c)
	defer cancel()
	m, err := h.d.Backups.Restore(ctx, bytes.NewReader(c.Body()))
	if err != nil {
		return h.fail(c, err)
	}
	return c.Status(fiber.StatusAccepted).JSON(Restored{Manifest: m, Message: RestoredMessage})
}

// RestoredMessage tells the admin what happens after a restore is staged.
const RestoredMessage = "restore staged: edgeward restarts its services now to apply it; " +
	"the replaced store is kept as store.before-restore in the data directory"
