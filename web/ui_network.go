package web

import "github.com/gofiber/fiber/v2"

// networkRoutes mounts the network page.
func (u *ui) networkRoutes(app *fiber.App) {}
