package web

import "github.com/gofiber/fiber/v2"

// interfaceRoutes mounts the interfaces page.
func (u *ui) interfaceRoutes(app *fiber.App) {}
