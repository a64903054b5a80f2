package core

import (
	"errors"
	"fmt"
	"strings"
)

// The sentinels every layer maps onto. web turns them into each API dialect's
// status codes; hw maps kernel errnos onto them with errors.Is.
var (
	ErrNotFound    = errors.New("not found")
	ErrConflict    = errors.New("conflict")
	ErrInvalid     = errors.New("invalid")
	ErrUnsupported = errors.New("unsupported")
	ErrPermission  = errors.New("permission denied")
	ErrBusy        = errors.New("busy")
	// ErrNoSpace is a write refused because the data filesystem is (nearly)
	// full; reads go on working.
	ErrNoSpace = errors.New("no space left")
)

// Error is an error whose message is safe to show to API clients. Kind is
// one of the sentinels above; errors.Is(err, Kind) holds.
type Error struct {
	Kind  error
	Field string // the input field the error is about, if any
	Msg   string
}

func (e *Error) Error() string { return e.Msg }

// Unwrap lets errors.Is match the sentinel.
func (e *Error) Unwrap() error { return e.Kind }

// NotFound returns a public error that matches ErrNotFound.
func NotFound(format string, args ...any) error {
	return &Error{Kind: ErrNotFound, Msg: fmt.Sprintf(format, args...)}
}

// Conflict returns a public error that matches ErrConflict.
func Conflict(format string, args ...any) error {
	return &Error{Kind: ErrConflict, Msg: fmt.Sprintf(format, args...)}
}

// ConflictOn returns a public ErrConflict about one input field, such as a
// name that is already taken.
func ConflictOn(field, format string, args ...any) error {
	return &Error{Kind: ErrConflict, Field: field, Msg: field + ": " + fmt.Sprintf(format, args...)}
}

// Busy returns a public error that matches ErrBusy.
func Busy(format string, args ...any) error {
	return &Error{Kind: ErrBusy, Msg: fmt.Sprintf(format, args...)}
}

// NoSpace returns a public error that matches ErrNoSpace.
func NoSpace(format string, args ...any) error {
	return &Error{Kind: ErrNoSpace, Msg: fmt.Sprintf(format, args...)}
}

// FieldError is one refused input field.
type FieldError struct {
	Field string // JSON path of the field, e.g. "rules[1]" or "workload.type"
	Msg   string // what is wrong, lower case, no trailing period
}

// ValidationError lists every refused field of one request. It matches ErrInvalid.
type ValidationError struct {
	Fields []FieldError
}

// Invalid returns a ValidationError for one field.
func Invalid(field, format string, args ...any) *ValidationError {
	return &ValidationError{Fields: []FieldError{{Field: field, Msg: fmt.Sprintf(format, args...)}}}
}

// Add records another refused field; it returns v so calls can chain.
func (v *ValidationError) Add(field, format string, args ...any) *ValidationError {
	v.Fields = append(v.Fields, FieldError{Field: field, Msg: fmt.Sprintf(format, args...)})
	return v
}

// Err returns v as an error, or nil when no field was refused, so that a
// validator can collect problems and return v.Err() once.
func (v *ValidationError) Err() error {
	if v == nil || len(v.Fields) == 0 {
		return nil
	}
	return v
}

func (v *ValidationError) Error() string {
	parts := make([]string, len(v.Fields))
	for i, f := range v.Fields {
		parts[i] = f.Field + ": " + f.Msg
	}
	return strings.Join(parts, "; ")
}

// Unwrap lets errors.Is(err, ErrInvalid) hold.
func (v *ValidationError) Unwrap() error { return ErrInvalid }

// IsNotFound reports whether err matches ErrNotFound.
func IsNotFound(err error) bool { return errors.Is(err, ErrNotFound) }
