package update

import (
	"bytes"
	"log/slog"
	"mime/multipart"
	"testing"

	"github.com/gofiber/fiber/v2"

	"github.com/edgeward/edgeward/core/auth"
	"github.com/edgeward/edgeward/firmware/slots"
	"github.com/edgeward/edgeward/firmware/slots/slotstest"
	"github.com/edgeward/edgeward/web/internal/httpx"
	"github.com/edgeward/edgeward/web/internal/webtest"
)

// form is a multipart body with the named parts in order.
func form(t *testing.T, parts ...[2][]byte) (string, string) {
	var b bytes.Buffer
	w := multipart.NewWriter(&b)
	for _, p := range parts {
		fw, err := w.CreateFormFile(string(p[0]), string(p[0]))
		if err != nil {
			t.Fatal(err)
		}
		_, _ = fw.Write(p[1])
	}
	_ = w.Close()
	return b.String(), w.FormDataContentType()
}

// TestUpload drives the API over real slots in a temp dir: tokens,
// multipart order, a good multipart upload and the state it leaves.
func TestUpload(t *testing.T) {
	c := webtest.NewCore(t, webtest.Options{})
	pub, priv := slotstest.Key(t)
	sl, err := slots.New(slots.Config{Dir: t.TempDir(), Key: &pub})
	if err != nil {
		t.Fatal(err)
	}
	restarted := make(chan struct{}, 1)
	app := fiber.New(fiber.Config{DisablePreParseMultipartForm: true}) // as web.New
	Mount(app.Group("/api", httpx.Guard{Tokens: c.Tokens, Log: slog.New(slog.DiscardHandler)}.Authenticate(deny)),
		Deps{Updater: sl, Version: "v1", Restart: func() { restarted <- struct{}{} }})
	admin := webtest.Authz(c.Token(t, "admin", auth.RoleAdmin))
	viewer := webtest.Authz(c.Token(t, "viewer", auth.RoleViewer))

	file := []byte("#!/bin/sh\necho edgeward v2\n")
	sig := slotstest.Sign(t, priv, file)

	if got := webtest.Do(t, app, "GET", "/api/system/update", viewer, nil, nil); got.Status != 403 {
		t.Errorf("viewer GET: %d %s", got.Status, got.Body)
	}
	body, ct := form(t, [2][]byte{[]byte("file"), file}, [2][]byte{[]byte("signature"), sig})
	got := webtest.Do(t, app, "POST", "/api/system/update", admin, body, map[string]string{"Content-Type": ct})
	var e Error
	got.JSON(t, &e)
	if got.Status != 400 || e.Field != "signature" {
		t.Errorf("file before signature: %d %s", got.Status, got.Body)
	}
	body, ct = form(t, [2][]byte{[]byte("signature"), sig}, [2][]byte{[]byte("file"), file})
	got = webtest.Do(t, app, "POST", "/api/system/update", admin, body, map[string]string{"Content-Type": ct})
	var ins slots.Installed
	got.JSON(t, &ins)
	if got.Status != 202 || ins.Slot != "a" || ins.Version != "v2" || ins.Size != int64(len(file)) {
		t.Fatalf("multipart upload: %d %s", got.Status, got.Body)
	}
	<-restarted
	got = webtest.Do(t, app, "GET", "/api/system/update", admin, nil, nil)
	var st Status
	got.JSON(t, &st)
	if got.Status != 200 || st.Version != "v1" || st.Trial != "a" || st.Versions["a"] != "v2" || !st.KeySet || st.SHA256["a"] != ins.SHA256 {
		t.Errorf("GET after the upload: %d %s", got.Status, got.Body)
	}
}
