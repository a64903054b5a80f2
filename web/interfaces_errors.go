package web

import (
	"errors"
	"fmt"
	"github.com/edgeward/edgeward/web/internal/httpx"

	"github.com/edgeward/edgeward/core"
	"github.com/edgeward/edgeward/core/links"
	"github.com/gofiber/fiber/v2"
)

// qError is the error body of the /v2 network dialect, as the original's
// client library reads it.
type qError struct {
	Module      string   `json:"module"`
	ErrorClass  string   `json:"error_class"`
	Description string   `json:"description"`
	Stack       []string `json:"stack"`
	UserVisible bool     `json:"user_visible"`
}

// qFailure is a refusal a handler of this dialect decides itself; its
// message is public-safe.
type qFailure struct {
	status int
	class  string
	msg    string
}

func (f *qFailure) Error() string { return f.msg }

func qBadArg(format string, args ...any) error {
	return &qFailure{status: fiber.StatusBadRequest, class: "validation_error", msg: fmt.Sprintf(format, args...)}
}

// fail is the dialect's one error mapper. Only public-safe messages reach
// the client; anything else is logged with the request id and answered
// "internal error".
func (h *ifaces) fail(c *fiber.Ctx, err error) error {
	status, class, msg := fiber.StatusInternalServerError, "http_internal_server_error", "internal error"
	var f *qFailure
	var ve *core.ValidationError
	var pub *core.Error
	switch {
	case errors.As(err, &f):
		status, class, msg = f.status, f.class, f.msg
	case errors.Is(err, links.ErrStale):
		status, class, msg = fiber.StatusPreconditionFailed, "precondition_failed_error",
			"If-Match: "+links.ErrStale.Error()+"; read it again and retry"
	case errors.As(err, &ve):
		status, class, msg = fiber.StatusBadRequest, "validation_error", ve.Error()
	case errors.As(err, &pub) && pub.Kind == httpx.ErrMalformed:
		status, class, msg = fiber.StatusBadRequest, "http_bad_request_error", pub.Msg
	case errors.As(err, &pub) && pub.Kind == core.ErrNotFound:
		status, class, msg = fiber.StatusNotFound, "http_not_found_error", pub.Msg
	case errors.As(err, &pub) && pub.Kind == core.ErrConflict:
		status, class, msg = fiber.StatusConflict, "http_conflict_error", pub.Msg
	}
	if status == fiber.StatusInternalServerError {
		h.d.Log.Error("request failed", "request_id", httpx.RequestID(c), "method", c.Method(), "path", c.Path(), "err", err)
	}
	return c.Status(status).JSON(qError{Module: "edgeward.links", ErrorClass: class, Description: msg,
		Stack: []string{}, UserVisible: true})
}
