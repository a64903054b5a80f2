// Package eventlog renders the journal's events: a list that a page fills
// when it renders and that grows live as the server streams new items
// (Server-Sent Events through htmx's sse extension).
package eventlog
