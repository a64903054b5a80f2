package web

import (
	"bufio"
	"fmt"
	"mime/multipart"
	"net"
	"net/http"
	"strings"
	"testing"

	"github.com/edgeward/edgeward/core/auth"
	"github.com/edgeward/edgeward/firmware/slots"
	"github.com/edgeward/edgeward/firmware/slots/slotstest"
	"github.com/edgeward/edgeward/web/internal/webtest"
)

// TestBodiesWithUpdatesOn runs the app as it runs with updates on, where
// request bodies are streamed: a small body that arrives after its headers
// is served as usual, and only a body over the limit (or of unknown
// length) is refused, except on the update upload.
func TestBodiesWithUpdatesOn(t *testing.T) {
	c := webtest.NewCore(t, webtest.Options{})
	token := c.Token(t, "admin", auth.RoleAdmin)
	pub, _ := slotstest.Key(t)
	sl, err := slots.New(slots.Config{Dir: t.TempDir(), Key: &pub})
	if err != nil {
		t.Fatal(err)
	}
	app := New(Deps{Tokens: c.Tokens, Overlay: c.Overlay, Updater: sl, Restart: func() {}})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go func() { _ = app.Listener(ln) }()
	t.Cleanup(func() { _ = app.Shutdown() })

	// send writes the headers and then, in a second write, the body, and
	// returns the answer's status.
	send := func(head, body string) int {
		t.Helper()
		conn, err := net.Dial("tcp", ln.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		if _, err := conn.Write([]byte(head + "\r\n")); err != nil {
			t.Fatal(err)
		}
		// The server may answer and close before the whole body is in:
		// write it beside reading the answer.
		go func() { _, _ = conn.Write([]byte(body)) }()
		res, err := http.ReadResponse(bufio.NewReader(conn), nil)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		return res.StatusCode
	}
	body := `{"name":"laptop","wg_pub_key":"` + webtest.NewKey(t) + `"}`
	head := "POST /api/peers HTTP/1.1\r\nHost: x\r\nAuthorization: Token " + token + "\r\nContent-Type: application/json\r\n"
	if got := send(head+fmt.Sprintf("Content-Length: %d\r\n", len(body)), body); got != http.StatusOK {
		t.Errorf("small body after its headers: %d, want 200", got)
	}
	big := fmt.Sprintf("Content-Length: %d\r\n", bodyLimit+1)
	if got := send(head+big, strings.Repeat(" ", bodyLimit+1)); got != http.StatusRequestEntityTooLarge {
		t.Errorf("body over the limit: %d, want 413", got)
	}
	if got := send(head+"Transfer-Encoding: chunked\r\n", "400\r\n"+strings.Repeat(" ", 1024)+"\r\n0\r\n\r\n"); got != http.StatusRequestEntityTooLarge {
		t.Errorf("chunked body: %d, want 413", got)
	}

	// A multipart upload reaches the handler as sent: with the file part
	// first, it is refused for the order every time, never reordered.
	for i := range 20 {
		var b strings.Builder
		w := multipart.NewWriter(&b)
		for _, name := range []string{"file", "signature"} {
			fw, err := w.CreateFormFile(name, name)
			if err != nil {
				t.Fatal(err)
			}
			_, _ = fw.Write([]byte(name))
		}
		_ = w.Close()
		head := "POST /api/system/update HTTP/1.1\r\nHost: x\r\nAuthorization: Token " + token +
			"\r\nContent-Type: " + w.FormDataContentType() + fmt.Sprintf("\r\nContent-Length: %d\r\n", b.Len())
		if got := send(head, b.String()); got != http.StatusBadRequest {
			t.Fatalf("upload %d with the file part first: %d, want 400", i, got)
		}
	}
}
