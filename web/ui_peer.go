package web

import "github.com/gofiber/fiber/v2"

// peerDetailRoutes mounts one peer's page.
func (u *ui) peerDetailRoutes(app *fiber.App) {}
