package web

import (
	"log/slog"

	"github.com/edgeward/edgeward/web/internal/httpx"
	"github.com/gofiber/fiber/v2"
)

// apiError is the peers dialect's error body.
type apiError struct {
	Message string `json:"message"`
	Code    int    `json:"code"`
	// Field names the first refused field, so a UI can put the message
	// next to it; clients of the original ignore it.
	Field string `json:"field,omitempty"`
}

// writeError maps an error onto the peers dialect. Only public-safe
// messages reach the client; anything else is logged once with the
// request id and answered "internal error".
func writeError(c *fiber.Ctx, log *slog.Logger, err error) error {
	f := httpx.Classify(err)
	if f.Internal {
		httpx.LogFailure(log, c, err)
	}
	return c.Status(f.Status).JSON(apiError{Message: f.Msg, Code: f.Status, Field: f.Field})
}

// deny writes a refusal in the peers dialect's shape.
func deny(c *fiber.Ctx, status int, msg string) error {
	return c.Status(status).JSON(apiError{Message: msg, Code: status})
}
