package httpx

import (
	"bufio"
	"log/slog"
	"net"
	"time"

	"github.com/edgeward/edgeward/core/events"
	"github.com/gofiber/fiber/v2"
)

// chunkWriteTimeout bounds the write of one chunk. The server's own write
// timeout counts from the start of the response, which would end every
// stream after it.
const chunkWriteTimeout = 30 * time.Second

// Feed answers with a stream of contentType: head (when not empty), then
// encode(e) for each event of sub that it does not map to nil, each
// flushed as its own chunk; every beatEvery (0: never) what beat returns,
// ending the stream when beat says so. It ends, closing sub, when the
// journal cuts the subscription off, when a write fails (the client left;
// noticed at the next write) or when the server shuts down.
func Feed(c *fiber.Ctx, log *slog.Logger, sub *events.Subscription, contentType string, head []byte,
	encode func(events.Event) []byte, beatEvery time.Duration, beat func() ([]byte, bool)) error {
	// Nothing of c may be used once the handler returns: take what the
	// writer needs now.
	fctx := c.Context()
	done, conn := fctx.Done(), fctx.Conn()
	log = log.With("request_id", RequestID(c), "path", c.Path())
	c.Set(fiber.HeaderContentType, contentType)
	c.Set(fiber.HeaderCacheControl, "no-store")
	c.Status(fiber.StatusOK)
	// Send the headers now, so a client knows it is subscribed before the
	// first event.
	fctx.Response.ImmediateHeaderFlush = true
	fctx.SetBodyStreamWriter(func(w *bufio.Writer) {
		defer sub.Close()
		if len(head) > 0 && !WriteChunk(w, conn, head) {
			return
		}
		var beats <-chan time.Time
		if beatEvery > 0 {
			t := time.NewTicker(beatEvery)
			defer t.Stop()
			beats = t.C
		}
		for {
			select {
			case <-done:
				return
			case <-beats:
				b, more := beat()
				if !more || !WriteChunk(w, conn, b) {
					return
				}
			case e, open := <-sub.C():
				if !open {
					if sub.Dropped() {
						log.Info("event stream cut off: the client reads too slowly")
					}
					return
				}
				if b := encode(e); b != nil && !WriteChunk(w, conn, b) {
					return
				}
			}
		}
	})
	return nil
}

// WriteChunk writes b as one flushed chunk; false means the stream is over.
func WriteChunk(w *bufio.Writer, conn net.Conn, b []byte) bool {
	if conn != nil {
		_ = conn.SetWriteDeadline(time.Now().Add(chunkWriteTimeout))
	}
	if _, err := w.Write(b); err != nil {
		return false
	}
	return w.Flush() == nil
}
