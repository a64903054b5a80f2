// Package apispec holds the OpenAPI 3 document of every API route, shared
// by the dialect that serves it and the tests of every dialect it covers.
package apispec

import (
	_ "embed"

	"github.com/gofiber/fiber/v2"
)

// Document is the OpenAPI 3 document of every API route.
//
//go:embed openapi.json
var Document []byte

// Serve answers with the document.
func Serve(c *fiber.Ctx) error {
	c.Set(fiber.HeaderContentType, fiber.MIMEApplicationJSONCharsetUTF8)
	return c.Send(Document)
}
