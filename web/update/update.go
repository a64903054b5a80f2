// Package update serves the signed A/B update API under /api/system/update:
// an admin uploads a minisign-signed edgeward binary, it is written to the
// inactive slot, put on trial and the box restarts into it; GET reports the
// slots and the trial. Errors are in the peers dialect's shape
// ({"message","code","field"}), as every /api route's.
package update

import (
	"context"
	"io"
	"log/slog"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/edgeward/edgeward/firmware/slots"
	"github.com/edgeward/edgeward/web/internal/httpx"
)

// Path is where the API lives; the app lets only this path stream request
// bodies larger than its body limit.
const Path = "/api/system/update"

// Updater is what the API needs of the slots (*slots.Slots).
type Updater interface {
	Install(ctx context.Context, body io.Reader, sig []byte, wantSHA string) (slots.Installed, error)
	State() (slots.State, error)
	HasKey() bool
}

// Deps are what the API consumes.
type Deps struct {
	Log     *slog.Logger
	Updater Updater
	// Version is the running version and Slot the slot it runs from
	// ("" for the installed binary).
	Version string
	Slot    string
	// Restart, called after a successful upload has been answered, ends
	// the process so its launcher starts the trial slot. May be nil.
	Restart func()
}

type handler struct{ d Deps }

// Mount adds GET and POST /system/update to r, the /api group, which must
// already check the token.
func Mount(r fiber.Router, d Deps) {
	if d.Log == nil {
		d.Log = slog.New(slog.DiscardHandler)
	}
	h := &handler{d: d}
	admin := httpx.AdminOnly(deny)
	r.Get("/system/update", admin, h.get)
	r.Post("/system/update", admin, h.post)
}

// Error is the peers dialect's error body.
type Error struct {
	Message string `json:"message"`
	Code    int    `json:"code"`
	Field   string `json:"field,omitempty"`
}

func deny(c *fiber.Ctx, status int, msg string) error {
	return c.Status(status).JSON(Error{Message: msg, Code: status})
}

func (h *handler) fail(c *fiber.Ctx, err error) error {
	f := httpx.Classify(err)
	if f.Internal {
		httpx.LogFailure(h.d.Log, c, err)
	}
	return c.Status(f.Status).JSON(Error{Message: f.Msg, Code: f.Status, Field: f.Field})
}

// Status is the answer of GET.
type Status struct {
	Version    string            `json:"version"`
	Running    string            `json:"running_slot"`
	Active     string            `json:"active_slot"`
	Trial      string            `json:"trial_slot"`
	Deadline   *time.Time        `json:"trial_deadline"`
	Attempts   int               `json:"trial_starts"`
	Versions   map[string]string `json:"versions"`
	SHA256     map[string]string `json:"sha256"`
	RolledBack string            `json:"rolled_back"`
	KeySet     bool              `json:"key_configured"`
}

func (h *handler) get(c *fiber.Ctx) error {
	st, err := h.d.Updater.State()
	if err != nil {
		return h.fail(c, err)
	}
	out := Status{Version: h.d.Version, Running: h.d.Slot, Active: st.Active, Trial: st.Trial,
		Attempts: st.Attempts, Versions: st.Versions, SHA256: st.SHA256, RolledBack: st.RolledBack,
		KeySet: h.d.Updater.HasKey()}
	if !st.Deadline.IsZero() {
		out.Deadline = &st.Deadline
	}
	if out.Versions == nil {
		out.Versions, out.SHA256 = map[string]string{}, map[string]string{}
	}
	return c.JSON(out)
}

// post takes the binary either as the raw body with the signature in the
// X-Signature header (the .minisig file with its newlines written as \n)
// and an optional X-SHA256, or as multipart fields "signature" then "file".
func (h *handler) post(c *fiber.Ctx) error {
	body, sig, closeBody, err := httpx.SignedUpload(c)
	if err != nil {
		httpx.Drain(httpx.BodyReader(c), slots.MaxSize)
		return h.fail(c, err)
	}
	defer closeBody()
	ctx, cancel := context.WithTimeout(c.UserContext(), 5*time.Minute)
	defer cancel()
	res, err := h.d.Updater.Install(ctx, body, sig, strings.TrimSpace(c.Get("X-SHA256")))
	if err != nil {
		httpx.Drain(body, slots.MaxSize)
		return h.fail(c, err)
	}
	h.d.Log.Info("update installed on trial", "slot", res.Slot, "version", res.Version, "sha256", res.SHA256)
	if h.d.Restart != nil {
		// After the answer is written: the process ends and the launcher
		// starts the trial slot.
		defer time.AfterFunc(200*time.Millisecond, h.d.Restart)
	}
	return c.Status(fiber.StatusAccepted).JSON(res)
}
