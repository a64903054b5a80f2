package httpx

import (
	"fmt"
	"log/slog"
	"net"
	"strconv"
	"time"

	"github.com/edgeward/edgeward/core/events"
	"github.com/gofiber/fiber/v2"
)

// FeedChunks answers like Feed, with chunked JSON-style streams whose
// clients read one chunk as one value: it writes the response itself on
// the hijacked connection, so each value (head, each encoded event, each
// beat) is exactly one HTTP chunk, however large. fasthttp's own stream
// writer cuts the body into 4 KiB chunks. The connection closes when the
// stream ends, after the terminating chunk.
//
// beat (when beatEvery > 0) is sent on a quiet stream every beatEvery, so
// a client that went away is noticed by the failing write and its
// subscription ends.
func FeedChunks(c *fiber.Ctx, log *slog.Logger, sub *events.Subscription, contentType string, head []byte,
	encode func(events.Event) []byte, beatEvery time.Duration, beat []byte) error {
	fctx := c.Context()
	done := fctx.Done()
	log = log.With("request_id", RequestID(c), "path", c.Path())
	header := fmt.Sprintf("HTTP/1.1 200 OK\r\nContent-Type: %s\r\nCache-Control: no-store\r\nTransfer-Encoding: chunked\r\n"+
		"%s: %s\r\nConnection: close\r\n\r\n", contentType, fiber.HeaderXRequestID, RequestID(c))
	// For the access log: the status the client will see.
	c.Status(fiber.StatusOK)
	fctx.HijackSetNoResponse(true)
	fctx.Hijack(func(conn net.Conn) {
		defer sub.Close()
		if !writeRaw(conn, []byte(header)) || (len(head) > 0 && !writeRaw(conn, chunk(head))) {
			return
		}
		var beats <-chan time.Time
		if beatEvery > 0 && len(beat) > 0 { // an empty chunk would end the stream
			t := time.NewTicker(beatEvery)
			defer t.Stop()
			beats = t.C
		}
		for {
			select {
			case <-done:
				writeRaw(conn, []byte("0\r\n\r\n"))
				return
			case <-beats:
				if !writeRaw(conn, chunk(beat)) {
					return
				}
			case e, open := <-sub.C():
				if !open {
					if sub.Dropped() {
						log.Info("event stream cut off: the client reads too slowly")
					}
					writeRaw(conn, []byte("0\r\n\r\n"))
					return
				}
				if b := encode(e); b != nil && !writeRaw(conn, chunk(b)) {
					return
				}
			}
		}
	})
	return nil
}

// chunk frames b as one HTTP/1.1 chunk.
func chunk(b []byte) []byte {
	out := make([]byte, 0, len(b)+16)
	out = strconv.AppendInt(out, int64(len(b)), 16)
	out = append(out, '\r', '\n')
	out = append(out, b...)
	return append(out, '\r', '\n')
}

// writeRaw writes b in one call within the chunk write timeout; false
// means the stream is over.
func writeRaw(conn net.Conn, b []byte) bool {
	_ = conn.SetWriteDeadline(time.Now().Add(chunkWriteTimeout))
	_, err := conn.Write(b)
	return err == nil
}
