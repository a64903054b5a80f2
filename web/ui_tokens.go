package web

import "github.com/gofiber/fiber/v2"

// tokenRoutes mounts API tokens (settings).
func (u *ui) tokenRoutes(app *fiber.App) {}
