package httpx

import (
	"encoding/json"
	"errors"
	"fmt"
	"syscall"

	"github.com/edgeward/edgeward/core"
	"github.com/gofiber/fiber/v2"
)

// ErrMalformed is the kind of a request that is not what the route reads:
// a body that is not JSON, a header that cannot be parsed.
var ErrMalformed = errors.New("malformed request")

// ErrBadJSON is the error for an unparsable request body.
var ErrBadJSON = &core.Error{Kind: ErrMalformed, Msg: "couldn't parse JSON request"}

// Failure is what a dialect needs to answer an error: the status, a
// public-safe message, the field it is about (may be empty) and the core
// kind (nil when the error is not a core one). Internal is true when the
// message is a stand-in for an error whose text must not reach the client.
type Failure struct {
	Status   int
	Msg      string
	Field    string
	Kind     error
	Internal bool
}

// Classify maps an error onto the status and message a client may see.
// Only public-safe messages (core.Error, core.ValidationError, fiber.Error)
// pass; anything else is Internal, "internal error", and the caller logs it.
func Classify(err error) Failure {
	var ve *core.ValidationError
	var pub *core.Error
	var fe *fiber.Error
	switch {
	case errors.As(err, &ve):
		return Failure{Status: fiber.StatusUnprocessableEntity, Msg: ve.Error(), Field: ve.Fields[0].Field, Kind: core.ErrInvalid}
	case errors.As(err, &fe):
		return Failure{Status: fe.Code, Msg: fe.Message}
	case errors.As(err, &pub):
		f := Failure{Status: StatusOf(pub.Kind), Msg: pub.Msg, Field: pub.Field, Kind: pub.Kind}
		if f.Status == fiber.StatusInternalServerError {
			f.Msg, f.Internal = "internal error", true
		}
		return f
	case errors.Is(err, core.ErrPermission):
		return Failure{Status: fiber.StatusForbidden, Msg: "permission denied", Kind: core.ErrPermission}
	case errors.Is(err, syscall.ENOSPC):
		// A file write (backup, upload, bundle) that met a full disk.
		return Failure{Status: fiber.StatusInsufficientStorage, Msg: "the data filesystem is full: free some space", Kind: core.ErrNoSpace}
	}
	return Failure{Status: fiber.StatusInternalServerError, Msg: "internal error", Internal: true}
}

// StatusOf is the HTTP status of a core error kind.
func StatusOf(kind error) int {
	switch kind {
	case ErrMalformed:
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
	case core.ErrNoSpace:
		return fiber.StatusInsufficientStorage
	}
	return fiber.StatusInternalServerError
}

// Decode parses a JSON body into v. A body that is not JSON is ErrBadJSON;
// a field of the wrong type is a core.ValidationError naming the field.
func Decode(c *fiber.Ctx, v any) error {
	body := c.Body()
	if len(body) == 0 {
		return ErrBadJSON
	}
	if err := json.Unmarshal(body, v); err != nil {
		var te *json.UnmarshalTypeError
		if errors.As(err, &te) && te.Field != "" {
			return core.Invalid(te.Field, "must be %s, not %s", JSONType(te.Type.Kind().String()), te.Value)
		}
		if errors.As(err, &te) {
			return core.Invalid("body", "must be a JSON %s", JSONType(te.Type.Kind().String()))
		}
		return ErrBadJSON
	}
	return nil
}

// JSONType names a Go kind as a JSON type, for messages.
func JSONType(kind string) string {
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
