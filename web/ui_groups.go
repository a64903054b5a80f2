package web

import "github.com/gofiber/fiber/v2"

// groupRoutes mounts groups and policies editors.
func (u *ui) groupRoutes(app *fiber.App) {}
