package ui

import (
	"bytes"
	"errors"
	"fmt"
	"html"
	"io"
	"log/slog"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/gofiber/fiber/v2"

	"github.com/edgeward/edgeward/core"
)

// TestUIErrorsAsPagesEveryKind runs every kind of core error through the
// pages' error mapper: each is a page with its 4xx and its public message,
// and only an error with no public message is a 500, whose text stays in
// the log.
func TestUIErrorsAsPagesEveryKind(t *testing.T) {
	var logs bytes.Buffer
	u := &ui{d: Deps{Log: slog.New(slog.NewTextHandler(&logs, nil))}}
	kernel := errors.New("netlink receive: operation not permitted (kernel says EPERM)")
	cases := []struct {
		err    error
		status int
		text   string
	}{
		{core.Invalid("name", "must not be empty"), fiber.StatusUnprocessableEntity, "Name: must not be empty."},
		{&core.ValidationError{Fields: []core.FieldError{{Field: "a", Msg: "bad"}, {Field: "b", Msg: "worse"}}}, fiber.StatusUnprocessableEntity, "bad"},
		{core.NotFound("peer %q not found", "x"), fiber.StatusNotFound, `Peer "x" not found.`},
		{core.ConflictOn("name", "already taken"), fiber.StatusConflict, "Name: already taken."},
		{&core.Error{Kind: core.ErrBusy, Msg: "the store is busy"}, fiber.StatusTooManyRequests, "The store is busy."},
		{&core.Error{Kind: core.ErrUnsupported, Msg: "no WireGuard here"}, fiber.StatusNotImplemented, "No WireGuard here."},
		{fmt.Errorf("ban: %w", core.ErrPermission), fiber.StatusForbidden, "Permission denied."},
		{fmt.Errorf("apply: %w", kernel), fiber.StatusInternalServerError, "Internal error."},
	}
	for _, tc := range cases {
		t.Run(tc.err.Error(), func(t *testing.T) {
			app := fiber.New()
			app.Get("/", u.errorsAsPages, func(*fiber.Ctx) error { return tc.err })
			resp, err := app.Test(httptest.NewRequest("GET", "/", nil))
			if err != nil {
				t.Fatal(err)
			}
			raw, _ := io.ReadAll(resp.Body)
			body := html.UnescapeString(string(raw))
			if resp.StatusCode != tc.status {
				t.Fatalf("status %d, want %d; body %s", resp.StatusCode, tc.status, body)
			}
			if !strings.Contains(body, tc.text) {
				t.Errorf("page does not say %q:\n%s", tc.text, body)
			}
			if strings.Contains(body, "EPERM") {
				t.Errorf("kernel text reached the page:\n%s", body)
			}
		})
	}
	if !strings.Contains(logs.String(), "EPERM") {
		t.Errorf("the internal error was not logged: %s", logs.String())
	}
}
