package httpx

import (
	"github.com/gofiber/fiber/v2"
	"github.com/gofiber/fiber/v2/utils"
)

// maxRequestIDLen bounds a request id a client sends.
const maxRequestIDLen = 64

// RequestIDs gives every request an id, answered in X-Request-ID and
// logged with it. A client's own id is kept only when it is a short token
// of [A-Za-z0-9._-], so nothing a client sends reaches a log line or a
// header raw (no newlines, no escapes, no megabyte ids); any other gets a
// fresh one.
func RequestIDs(c *fiber.Ctx) error {
	id := c.Get(fiber.HeaderXRequestID)
	if !safeRequestID(id) {
		id = utils.UUIDv4()
	}
	c.Set(fiber.HeaderXRequestID, id)
	return c.Next()
}

func safeRequestID(id string) bool {
	if id == "" || len(id) > maxRequestIDLen {
		return false
	}
	for i := 0; i < len(id); i++ {
		switch b := id[i]; {
		case 'a' <= b && b <= 'z', 'A' <= b && b <= 'Z', '0' <= b && b <= '9', b == '.', b == '_', b == '-':
		default:
			return false
		}
	}
	return true
}
