package web

import (
	"github.com/edgeward/edgeward/web/internal/httpx"

	"github.com/edgeward/edgeward/core/events"
	"github.com/gofiber/fiber/v2"
)

const (
	// logSize is how many past events a point or peer log answers with,
	// as the original's per-point ring.
	logSize = 100
	// monitorBuffer and logBuffer are the subscription buffers of a
	// monitored log and of /network/log. A reader that falls this far
	// behind is cut off by the journal and its stream ends.
	monitorBuffer = 64
	logBuffer     = 256
)

// eventJSON writes an event as the dialect's event object:
// {"event": kind, "time": ts, "subject"?: …, "message": …, …fields}.
// The fields never override the first four.
func eventJSON(e events.Event) map[string]string {
	m := make(map[string]string, len(e.Fields)+4)
	for k, v := range e.Fields {
		m[k] = v
	}
	delete(m, "subject")
	m["event"], m["time"], m["message"] = string(e.Kind), stamp(e.Time), e.Message
	if e.Subject != "" {
		m["subject"] = e.Subject
	}
	return m
}

func eventsJSON(es []events.Event) []map[string]string {
	out := make([]map[string]string, len(es))
	for i, e := range es {
		out[i] = eventJSON(e)
	}
	return out
}

// monitoring reports whether the request asked for ?monitor (a flag:
// present, or anything but false).
func monitoring(c *fiber.Ctx) bool {
	args := c.Context().QueryArgs()
	if !args.Has("monitor") {
		return false
	}
	v := string(args.Peek("monitor"))
	return v != "false" && v != "0" && v != "no"
}

// log streams every new event, one JSON object per chunk.
func (n *network) log(c *fiber.Ctx) error {
	if c.Method() == fiber.MethodHead {
		return n.streamHead(c)
	}
	sub := n.d.Journal.Subscribe(logBuffer)
	return n.stream(c, sub, nil, func(e events.Event) any { return eventJSON(e) })
}

// eventLog answers the last logSize events that match, oldest first; with
// ?monitor it streams them as one JSON array, then [event] per new one.
func (n *network) eventLog(c *fiber.Ctx, match func(events.Event) bool) error {
	if !monitoring(c) {
		return ok(c, eventsJSON(n.d.Journal.Recent(logSize, match)))
	}
	if c.Method() == fiber.MethodHead {
		return n.streamHead(c)
	}
	// Subscribe first so nothing falls between the past and the stream;
	// Seq drops what both hold.
	sub := n.d.Journal.Subscribe(monitorBuffer)
	past := n.d.Journal.Recent(logSize, match)
	var last uint64
	if len(past) > 0 {
		last = past[len(past)-1].Seq
	}
	return n.stream(c, sub, eventsJSON(past), func(e events.Event) any {
		if e.Seq <= last || !match(e) {
			return nil
		}
		return []map[string]string{eventJSON(e)}
	})
}

// streamHead answers a HEAD of a stream: its headers, no stream to feed.
func (n *network) streamHead(c *fiber.Ctx) error {
	c.Set(fiber.HeaderContentType, fiber.MIMEApplicationJSON)
	return c.SendStatus(fiber.StatusOK)
}

// stream answers with a chunked JSON stream: first (when not nil), then
// shape(e) for each event of sub that shape does not map to nil.
func (n *network) stream(c *fiber.Ctx, sub *events.Subscription, first any, shape func(events.Event) any) error {
	var head []byte
	if first != nil {
		head, _ = httpx.EncodeJSON(first) // cannot fail: every value is strings
	}
	return httpx.Feed(c, n.d.Log, sub, fiber.MIMEApplicationJSON, head, func(e events.Event) []byte {
		v := shape(e)
		if v == nil {
			return nil
		}
		b, _ := httpx.EncodeJSON(v)
		return b
	}, 0, nil)
}
