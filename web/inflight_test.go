package web

import (
	"context"
	"net"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/gofiber/fiber/v2"
)

// TestInFlightRequestsEndAtStop: a request still running when the server
// gives up waiting has its context ended by Stop, and Requests is held
// until its handler returned, so the caller can close the store after.
func TestInFlightRequestsEndAtStop(t *testing.T) {
	var reqs sync.WaitGroup
	stop, cancel := context.WithCancel(context.Background())
	app := fiber.New()
	app.Use(inFlight(&reqs, stop))
	entered, returned := make(chan struct{}), make(chan error, 1)
	app.Get("/slow", func(c *fiber.Ctx) error {
		close(entered)
		<-c.UserContext().Done() // a core call waiting on the request's context
		returned <- c.UserContext().Err()
		return c.SendStatus(fiber.StatusServiceUnavailable)
	})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go func() { _ = app.Listener(ln) }()
	t.Cleanup(func() { _ = app.Shutdown() })
	go func() {
		if resp, err := http.Get("http://" + ln.Addr().String() + "/slow"); err == nil {
			resp.Body.Close()
		}
	}()
	<-entered
	waited := make(chan struct{})
	go func() { reqs.Wait(); close(waited) }()
	select {
	case <-waited:
		t.Fatal("Requests released while the handler still runs")
	case <-time.After(50 * time.Millisecond):
	}
	cancel()
	if err := <-returned; err != context.Canceled {
		t.Fatalf("request context ended with %v, want context.Canceled", err)
	}
	<-waited
}
