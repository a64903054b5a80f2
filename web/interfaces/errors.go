package interfaces

import (
	"errors"
	"fmt"

	"github.com/gofiber/fiber/v2"

	"github.com/edgeward/edgeward/core"
	"github.com/edgeward/edgeward/core/links"
	"github.com/edgeward/edgeward/web/internal/httpx"
)

// qError is the error body of the /v2 network dialect, as the original's
// client library (qumulo/lib/request.py) reads it.
type qError struct {
	Module      string   `json:"module"`
	ErrorClass  string   `json:"error_class"`
	Description string   `json:"description"`
	Stack       []string `json:"stack"`
	UserVisible bool     `json:"user_visible"`
}

// Error classes beside the validation ones, named as the original names
// its HTTP errors.
const (
	classBadRequest   = "http_bad_request_error"
	classUnauthorized = "http_unauthorized_error"
	classForbidden    = "http_forbidden_error"
	classNotFound     = "http_not_found_error"
	classConflict     = "http_conflict_error"
	classStale        = "precondition_failed_error"
	classTooMany      = "http_too_many_requests_error"
	classInternal     = "http_internal_server_error"
	classValidation   = "validation_error"
	classNoSpace      = "http_insufficient_storage_error"
)

// qFailure is a refusal a handler of this dialect decides itself; its
// message is public-safe.
type qFailure struct {
	status int
	class  string
	msg    string
}

func (f *qFailure) Error() string { return f.msg }

func qBadArg(format string, args ...any) error {
	return &qFailure{status: fiber.StatusBadRequest, class: classValidation, msg: fmt.Sprintf(format, args...)}
}

// write answers status with a qError body.
func write(c *fiber.Ctx, status int, class, msg string) error {
	return c.Status(status).JSON(qError{Module: "edgeward.links", ErrorClass: class, Description: msg,
		Stack: []string{}, UserVisible: true})
}

// classOf names the error class of a status the token check answers.
func classOf(status int) string {
	switch status {
	case fiber.StatusUnauthorized:
		return classUnauthorized
	case fiber.StatusForbidden:
		return classForbidden
	case fiber.StatusTooManyRequests:
		return classTooMany
	case fiber.StatusNotFound:
		return classNotFound
	}
	return classBadRequest
}

// deny writes a refusal of the token check or the session login in the
// dialect's shape: the original's clients read 401 and 403 bodies as
// qErrors too.
func deny(c *fiber.Ctx, status int, msg string) error {
	return write(c, status, classOf(status), msg)
}

// notFound answers a /v2 path no route serves.
func (h *handler) notFound(c *fiber.Ctx) error {
	return write(c, fiber.StatusNotFound, classNotFound, "no such resource: "+c.Method()+" "+c.Path())
}

// fail is the dialect's one error mapper. Only public-safe messages reach
// the client; anything else is logged with the request id and answered
// "internal error".
func (h *handler) fail(c *fiber.Ctx, err error) error {
	status, class, msg := fiber.StatusInternalServerError, classInternal, "internal error"
	var f *qFailure
	var ve *core.ValidationError
	var pub *core.Error
	switch {
	case errors.As(err, &f):
		status, class, msg = f.status, f.class, f.msg
	case errors.Is(err, links.ErrStale):
		status, class, msg = fiber.StatusPreconditionFailed, classStale,
			"If-Match: "+links.ErrStale.Error()+"; read it again and retry"
	case errors.Is(err, links.ErrReadOnly):
		status, class, msg = fiber.StatusForbidden, classForbidden, links.ErrReadOnly.Error()
	case errors.As(err, &ve):
		status, class, msg = fiber.StatusBadRequest, classValidation, ve.Error()
	case errors.As(err, &pub) && pub.Kind == httpx.ErrMalformed:
		status, class, msg = fiber.StatusBadRequest, classBadRequest, pub.Msg
	case errors.As(err, &pub) && pub.Kind == core.ErrNotFound:
		status, class, msg = fiber.StatusNotFound, classNotFound, pub.Msg
	case errors.As(err, &pub) && pub.Kind == core.ErrConflict:
		status, class, msg = fiber.StatusConflict, classConflict, pub.Msg
	case errors.As(err, &pub) && pub.Kind == core.ErrPermission:
		status, class, msg = fiber.StatusForbidden, classForbidden, pub.Msg
	case errors.Is(httpx.Classify(err).Kind, core.ErrNoSpace):
		status, class, msg = fiber.StatusInsufficientStorage, classNoSpace, httpx.Classify(err).Msg
	}
	if status == fiber.StatusInternalServerError {
		httpx.LogFailure(h.d.Log, c, err)
	}
	return write(c, status, class, msg)
}
