package web

import "github.com/gofiber/fiber/v2"

// eventRoutes mounts the live event stream.
func (u *ui) eventRoutes(app *fiber.App) {}
