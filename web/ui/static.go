package ui

import (
	"embed"
	"net/http"

	"github.com/gofiber/fiber/v2"
	"github.com/gofiber/fiber/v2/middleware/filesystem"
)

// static holds the pages' assets: htmx (vendored, see static/htmx.LICENSE),
// the stylesheet, the pages' own small script and the favicon. A LAN
// appliance loads nothing from a CDN.
//
//go:embed static
var static embed.FS

// staticFiles serves static under /static, cacheable for an hour.
func staticFiles() fiber.Handler {
	return filesystem.New(filesystem.Config{Root: http.FS(static), PathPrefix: "static", MaxAge: 3600})
}
