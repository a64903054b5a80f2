package peers

import (
	"errors"
	"log/slog"
	"strings"

	"github.com/gofiber/fiber/v2"

	"github.com/edgeward/edgeward/core"
	"github.com/edgeward/edgeward/web/internal/httpx"
)

// Error is the dialect's error body (the OpenAPI schema apiError).
type Error struct {
	Message string `json:"message"`
	Code    int    `json:"code"`
	// Field names the first refused field, so a UI can put the message
	// next to it; clients of the original ignore it.
	Field string `json:"field,omitempty"`
}

// WriteError maps an error onto the dialect. Only public-safe messages
// reach the client; anything else is logged once with the request id and
// answered "internal error". What the gateway cannot do (core's
// ErrUnsupported) is the original's 412 Precondition Failed, with its
// message in lower case as the original writes every message.
func WriteError(c *fiber.Ctx, log *slog.Logger, err error) error {
	f := httpx.Classify(err)
	if f.Internal {
		httpx.LogFailure(log, c, err)
	}
	if errors.Is(f.Kind, core.ErrUnsupported) {
		f.Status, f.Msg = fiber.StatusPreconditionFailed, strings.ToLower(f.Msg)
	}
	return c.Status(f.Status).JSON(Error{Message: f.Msg, Code: f.Status, Field: f.Field})
}

// Deny writes a refusal in the dialect's shape; it is the httpx.Deny of
// the token check in front of the dialect's routes.
func Deny(c *fiber.Ctx, status int, msg string) error {
	return c.Status(status).JSON(Error{Message: msg, Code: status})
}
