package web

import (
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"

	"github.com/edgeward/edgeward/core"
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

// badJSON is the body the original API gives for an unparsable request.
var errBadJSON = &core.Error{Kind: errMalformed, Msg: "couldn't parse JSON request"}

var errMalformed = errors.New("malformed request")

// writeError maps a core error onto the peers dialect. Only public-safe
// messages (core.Error, ValidationError) reach the client; anything else is
// logged once with the request id and answered "internal error".
func writeError(c *fiber.Ctx, log *slog.Logger, err error) error {
	code, msg, field := fiber.StatusInternalServerError, "internal error", ""
	var ve *core.ValidationError
	var pub *core.Error
	var fe *fiber.Error
	switch {
	case errors.As(err, &ve):
		code, msg, field = fiber.StatusUnprocessableEntity, ve.Error(), ve.Fields[0].Field
	case errors.As(err, &fe):
		code, msg = fe.Code, fe.Message
	case errors.As(err, &pub):
		code, msg, field = statusOf(pub.Kind), pub.Msg, pub.Field
	case errors.Is(err, core.ErrPermission):
		code, msg = fiber.StatusForbidden, "permission denied"
	}
	if code == fiber.StatusInternalServerError {
		log.Error("request failed", "request_id", requestID(c), "method", c.Method(), "path", c.Path(), "err", err)
	}
	return c.Status(code).JSON(apiError{Message: msg, Code: code, Field: field})
}

func statusOf(kind error) int {
	switch kind {
	case errMalformed:
		return fiber.StatusBadRequest
	case core.ErrNotFound:
		return fiber.StatusNotFound
	case core.ErrConflict:
		return fiber.StatusConflict
	case core.ErrInvalid:
		return fiber.StatusUnprocessableEntity
	case core.ErrBusy:
		return fiber.StatusTooManyRequests
	case core.ErrPermission:
		return fiber.StatusForbidden
	case core.ErrUnsupported:
		return fiber.StatusNotImplemented
	}
	return fiber.StatusInternalServerError
}

// decode parses a JSON body into v. A body that is not JSON is a 400, as in
// the original; a field of the wrong type is a 422 naming the field.
func decode(c *fiber.Ctx, v any) error {
	body := c.Body()
	if len(body) == 0 {
		return errBadJSON
	}
	if err := json.Unmarshal(body, v); err != nil {
		var te *json.UnmarshalTypeError
		if errors.As(err, &te) && te.Field != "" {
			return core.Invalid(te.Field, "must be %s, not %s", jsonType(te.Type.Kind().String()), te.Value)
		}
		if errors.As(err, &te) {
			return core.Invalid("body", "must be a JSON %s", jsonType(te.Type.Kind().String()))
		}
		return errBadJSON
	}
	return nil
}

func jsonType(kind string) string {
	switch kind {
	case "string":
		return "a string"
	case "bool":
		return "a boolean"
	case "slice", "array":
		return "an array"
	case "struct", "map", "ptr":
		return "an object"
	case "int", "int64", "int32", "uint16", "uint64":
		return "an integer"
	case "float64":
		return "a number"
	}
	return fmt.Sprintf("a %s", kind)
}
