package ui

import (
	"bytes"
	"context"
	"strconv"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/edgeward/edgeward/core/events"
	"github.com/edgeward/edgeward/views/components/eventlog"
	"github.com/edgeward/edgeward/web/internal/httpx"
)

const (
	// eventsShown is how many past events a page renders.
	eventsShown = 20
	// sseBeat is how often an idle event stream sends a comment: it keeps
	// proxies from closing the connection and ends the stream soon after
	// the session does.
	sseBeat = 15 * time.Second
	// EventStreamPath streams the journal to the pages.
	EventStreamPath = "/events/stream"
	// sseBuffer is the subscription buffer of a page's stream: a browser
	// that falls this far behind is cut off and reconnects.
	sseBuffer = 256
)

// eventRoutes mounts the live event stream.
func (u *ui) eventRoutes(app *fiber.App) {
	if u.d.Journal == nil {
		return
	}
	app.Get(EventStreamPath, u.authed(u.eventStream)...)
}

// liveEvents is the event list of a page: the latest events, newest first,
// and the stream that adds the next ones.
func (u *ui) liveEvents(title string) eventlog.Props {
	p := eventlog.Props{Title: title}
	if u.d.Journal == nil {
		return p
	}
	p.Stream = EventStreamPath
	past := u.d.Journal.Recent(eventsShown, nil)
	for i := len(past) - 1; i >= 0; i-- {
		p.Rows = append(p.Rows, eventRow(past[i]))
	}
	return p
}

func eventRow(e events.Event) eventlog.Row {
	return eventlog.Row{Seq: e.Seq, Time: e.Time, Kind: string(e.Kind), Subject: e.Subject, Message: e.Message}
}

// eventStream sends every new event as a Server-Sent Event carrying the
// rendered list item; htmx's sse extension prepends it to the list. A
// browser that reconnects with Last-Event-ID first gets what it missed
// that the journal still holds.
func (u *ui) eventStream(c *fiber.Ctx) error {
	// Subscribe first so nothing falls between the missed and the new.
	sub := u.d.Journal.Subscribe(sseBuffer)
	var head bytes.Buffer
	var last uint64
	if seq, err := strconv.ParseUint(c.Get("Last-Event-ID"), 10, 64); err == nil {
		last = seq
		for _, e := range u.d.Journal.Since(seq) {
			head.Write(sseMessage(e))
			last = e.Seq
		}
	}
	// The stream outlives the handler: take the session id now. The beat
	// peeks (no sliding), so an unattended page does not stay logged in.
	sid := c.Cookies(sessionCookieName(c))
	return httpx.Feed(c, u.d.Log, sub, "text/event-stream", head.Bytes(), func(e events.Event) []byte {
		if e.Seq <= last {
			return nil
		}
		return sseMessage(e)
	}, sseBeat, func() ([]byte, bool) {
		ctx, cancel := context.WithTimeout(context.Background(), httpx.CallTimeout)
		defer cancel()
		if _, err := u.d.Admin.Peek(ctx, sid); err != nil {
			return nil, false
		}
		return []byte(": beat\n\n"), true
	})
}

// sseMessage is e as one message of the stream: its sequence number as the
// id (for Last-Event-ID), and the rendered row as data, one "data:" line
// per line.
func sseMessage(e events.Event) []byte {
	var row bytes.Buffer
	// Rendering plain strings into a buffer cannot fail.
	_ = eventlog.Item(eventRow(e)).Render(context.Background(), &row)
	var b bytes.Buffer
	b.WriteString("id: " + strconv.FormatUint(e.Seq, 10) + "\nevent: " + eventlog.SSEEvent + "\n")
	for line := range strings.SplitSeq(row.String(), "\n") {
		b.WriteString("data: " + line + "\n")
	}
	b.WriteString("\n")
	return b.Bytes()
}
