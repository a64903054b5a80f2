// Package httpx holds the HTTP plumbing every part of the web layer shares:
// the call timeout, request ids, the access log, JSON encoding and body
// decoding, token authentication and streaming. It knows no dialect: each
// dialect writes its own error body from what Classify tells it.
package httpx

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"time"

	"github.com/gofiber/fiber/v2"
)

// CallTimeout bounds every core call a request makes.
const CallTimeout = 15 * time.Second

// Ctx gives a core call the request's context with the call timeout.
func Ctx(c *fiber.Ctx) (context.Context, context.CancelFunc) {
	return context.WithTimeout(c.UserContext(), CallTimeout)
}

// RequestID is the id the request-id middleware gave this request.
func RequestID(c *fiber.Ctx) string {
	return c.GetRespHeader(fiber.HeaderXRequestID)
}

// AccessLog logs one line per request with the status the client saw:
// answers under 400 at debug (at info they cost a fifth of the
// throughput and flood a router's log), 4xx at info, 5xx at warn. What
// monitoring polls (/healthz, /metrics) stays at debug whatever it
// answers: an unhealthy box says so on every poll. Nothing is built for a
// line the logger would drop.
func AccessLog(log *slog.Logger) fiber.Handler {
	return func(c *fiber.Ctx) error {
		start := time.Now()
		err := c.Next()
		if err != nil {
			// Let the error handler write the body first, so the status we
			// log is the one the client saw.
			if herr := c.App().ErrorHandler(c, err); herr != nil {
				return herr
			}
		}
		status := c.Response().StatusCode()
		level := slog.LevelDebug
		switch p := c.Path(); {
		case p == "/healthz" || p == "/metrics":
		case status >= 500:
			level = slog.LevelWarn
		case status >= 400:
			level = slog.LevelInfo
		}
		ctx := c.UserContext()
		if !log.Enabled(ctx, level) {
			return nil
		}
		log.Log(ctx, level, "request", "request_id", RequestID(c), "method", c.Method(), "path", c.Path(),
			"status", status, "duration_ms", time.Since(start).Milliseconds(), "remote", c.IP())
		return nil
	}
}

// EncodeJSON is the app's JSON encoder: plain "<token>" rather than
// "\u003ctoken\u003e" in messages, no trailing newline.
func EncodeJSON(v any) ([]byte, error) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(b.Bytes(), []byte("\n")), nil
}

// OK writes v as a 200 JSON answer.
func OK(c *fiber.Ctx, v any) error {
	return c.Status(fiber.StatusOK).JSON(v)
}

// LogFailure logs an error whose text does not go to the client, with what
// ties it to the request.
func LogFailure(log *slog.Logger, c *fiber.Ctx, err error) {
	log.Error("request failed", "request_id", RequestID(c), "method", c.Method(), "path", c.Path(), "err", err)
}

// NoStore keeps an answer that carries a secret (a private key, a token,
// an archive of the store) out of every cache.
func NoStore(c *fiber.Ctx) {
	c.Set(fiber.HeaderCacheControl, "no-store")
}
