package p2p

import (
	"net/netip"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/edgeward/edgeward/core/events"
	"github.com/edgeward/edgeward/web/internal/httpx"
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

// heartbeat is how often a quiet stream sends a newline (JSON whitespace),
// so a client that went away is noticed by the failing write and its
// subscription ends. A variable so tests can shorten it.
var heartbeat = 15 * time.Second

// beat is what the heartbeat sends.
var beat = []byte("\n")

// eventJSON writes an event in edgeward's own shape, as
// /network/edgeward/log streams it: {"event": kind, "time": ts,
// "subject"?: …, "message": …, …fields}. The fields never override the
// first four.
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

// p2pEventJSON maps an edgeward event onto the original's P2p_event, the
// only kinds /network/log carries; ok is false for events that have no
// counterpart there (ACL changes, jobs, links...), which only edgeward's
// own log shows.
func p2pEventJSON(e events.Event) (v map[string]any, ok bool) {
	peer := e.Fields["peer_id"]
	switch e.Kind {
	case events.PeerCreated:
		if peer != "" {
			return map[string]any{"event": "new_peer", "peer_id": peer}, true
		}
	case events.NewPoint:
		if p, err := netip.ParseAddrPort(e.Fields["point"]); err == nil {
			return map[string]any{"event": "new_point", "point": unmapped(p).String()}, true
		}
	case events.PeerConnected, events.PeerMoved:
		if p, err := netip.ParseAddrPort(e.Fields["endpoint"]); err == nil && peer != "" {
			return map[string]any{"event": "connection_established", "id_point": idPoint(p), "peer_id": peer}, true
		}
	case events.PeerDisconnected:
		if peer != "" {
			return map[string]any{"event": "disconnection", "peer_id": peer}, true
		}
	}
	return nil, false
}

// unmapped writes an IPv4-mapped address as IPv4, as the original names
// points.
func unmapped(p netip.AddrPort) netip.AddrPort {
	return netip.AddrPortFrom(p.Addr().Unmap(), p.Port())
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

// log streams every new network event in the original's P2p_event shape,
// one JSON object per chunk.
func (h *handler) log(c *fiber.Ctx) error {
	if c.Method() == fiber.MethodHead {
		return streamHead(c)
	}
	sub := h.Journal.Subscribe(logBuffer)
	return h.stream(c, sub, nil, func(e events.Event) any {
		if v, ok := p2pEventJSON(e); ok {
			return v
		}
		return nil
	})
}

// edgewardLog streams every new event of edgeward's journal in its own,
// richer shape (ACL changes, greylistings, jobs...), one JSON object per
// chunk.
func (h *handler) edgewardLog(c *fiber.Ctx) error {
	if c.Method() == fiber.MethodHead {
		return streamHead(c)
	}
	sub := h.Journal.Subscribe(logBuffer)
	return h.stream(c, sub, nil, func(e events.Event) any { return eventJSON(e) })
}

// eventLog answers the last logSize events that shape maps (to non-nil),
// oldest first; with ?monitor it streams them as one JSON array, then
// [item] per new one.
func (h *handler) eventLog(c *fiber.Ctx, shape func(events.Event) any) error {
	past := func() ([]any, uint64) {
		var last uint64
		out := []any{}
		// Recent's match runs under the journal's lock: shape is pure.
		for _, e := range h.Journal.Recent(logSize, func(e events.Event) bool { return shape(e) != nil }) {
			out = append(out, shape(e))
			last = e.Seq
		}
		return out, last
	}
	if !monitoring(c) {
		items, _ := past()
		return httpx.OK(c, items)
	}
	if c.Method() == fiber.MethodHead {
		return streamHead(c)
	}
	// Subscribe first so nothing falls between the past and the stream;
	// Seq drops what both hold.
	sub := h.Journal.Subscribe(monitorBuffer)
	items, last := past()
	return h.stream(c, sub, items, func(e events.Event) any {
		if e.Seq <= last {
			return nil
		}
		if v := shape(e); v != nil {
			return []any{v}
		}
		return nil
	})
}

// streamHead answers a HEAD of a stream: its headers, no stream to feed.
func streamHead(c *fiber.Ctx) error {
	c.Set(fiber.HeaderContentType, fiber.MIMEApplicationJSON)
	return c.SendStatus(fiber.StatusOK)
}

// stream answers with a chunked JSON stream: first (when not nil), then
// shape(e) for each event of sub that shape does not map to nil, each
// value its own chunk, and a heartbeat on a quiet stream.
func (h *handler) stream(c *fiber.Ctx, sub *events.Subscription, first any, shape func(events.Event) any) error {
	var head []byte
	if first != nil {
		head, _ = httpx.EncodeJSON(first) // cannot fail: plain strings, numbers and maps
	}
	return httpx.FeedChunks(c, h.Log, sub, fiber.MIMEApplicationJSON, head, func(e events.Event) []byte {
		v := shape(e)
		if v == nil {
			return nil
		}
		b, _ := httpx.EncodeJSON(v)
		return b
	}, heartbeat, beat)
}
