package web

import (
	"bytes"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/edgeward/edgeward/firmware/slots"
	"github.com/edgeward/edgeward/firmware/slots/slotstest"
	"github.com/edgeward/edgeward/web/ui"
)

// updateForm is the update form's body: the signature part, then the file.
func updateForm(t *testing.T, sig, file []byte) (string, string) {
	t.Helper()
	var b bytes.Buffer
	w := multipart.NewWriter(&b)
	for _, p := range []struct {
		name string
		data []byte
	}{{"signature", sig}, {"file", file}} {
		fw, err := w.CreateFormFile(p.name, p.name)
		if err != nil {
			t.Fatal(err)
		}
		_, _ = fw.Write(p.data)
	}
	_ = w.Close()
	return b.String(), w.FormDataContentType()
}

// TestUIUpdatePage installs an update from Settings → Update: the form
// needs its CSRF token, a tampered binary is refused at the form with
// nothing put on trial, a good one is put on trial and the box restarts
// into it; without the launcher's slots the page says updates are off.
func TestUIUpdatePage(t *testing.T) {
	e := newUIEnv(t)
	off := e.browser(t)
	e.setUp(t, off)
	if p := off.get(ui.UpdatePath); p.status != http.StatusOK || !p.has("updates-off") || p.has("update-form") {
		t.Fatalf("update page without slots: %d\n%s", p.status, p.body)
	}

	pub, priv := slotstest.Key(t)
	sl, err := slots.New(slots.Config{Dir: t.TempDir(), Key: &pub})
	if err != nil {
		t.Fatal(err)
	}
	restarted := make(chan struct{}, 1)
	e.rebuild(func(d *Deps) {
		d.Updater, d.Restart = sl, func() { restarted <- struct{}{} }
	})
	b := e.browser(t)
	b.submitFrom("/login", "/login", map[string]string{"password": testPassword})

	p := b.get(ui.UpdatePath)
	if p.status != http.StatusOK || !p.has("update-form") || !strings.Contains(p.text("running-version"), "1.2.3-test") {
		t.Fatalf("update page: %d\n%s", p.status, p.body)
	}
	action, _ := p.doc.Find(`[data-testid="update-form"]`).Attr("action")
	if !strings.HasPrefix(action, ui.UpdatePath+"?_csrf=") || len(action) <= len(ui.UpdatePath+"?_csrf=") {
		t.Fatalf("form action %q carries no CSRF token", action)
	}

	// The new version: a program that answers "version", as the
	// upload checks the binary runs here.
	file := []byte("#!/bin/sh\necho edgeward v2-page\n")
	sig := slotstest.Sign(t, priv, file)
	post := func(path string, sig, file []byte) page {
		t.Helper()
		body, ct := updateForm(t, sig, file)
		req := httptest.NewRequest(http.MethodPost, path, strings.NewReader(body))
		req.Header.Set("Content-Type", ct)
		return b.do(req)
	}

	if p := post(ui.UpdatePath, sig, file); p.status != http.StatusForbidden {
		t.Errorf("upload without the CSRF token: %d", p.status)
	}
	tampered := bytes.Replace(file, []byte("v2-page"), []byte("v2-evil"), 1)
	p = post(action, sig, tampered)
	if p.status != http.StatusUnprocessableEntity || !strings.Contains(strings.ToLower(p.text("update-error")), "signature") {
		t.Fatalf("tampered upload: %d %q\n%s", p.status, p.text("update-error"), p.body)
	}
	if st, _ := sl.State(); st.Trial != "" {
		t.Fatalf("a refused upload put slot %q on trial", st.Trial)
	}

	p = post(action, sig, file)
	if p.status != http.StatusAccepted || !strings.Contains(p.text("installed"), "v2-page in slot a") {
		t.Fatalf("good upload: %d %q\n%s", p.status, p.text("installed"), p.body)
	}
	<-restarted
	p = b.get(ui.UpdatePath)
	if !strings.Contains(p.text("trial"), "slot a") || p.doc.Find(`[data-testid="slot-row"]`).Length() != 1 {
		t.Fatalf("page after the upload:\n%s", p.body)
	}
	// The launcher's first start of the trial sets its deadline.
	if _, _, err := sl.Start(3, time.Hour); err != nil {
		t.Fatal(err)
	}
	st, err := sl.State()
	if err != nil {
		t.Fatal(err)
	}
	p = b.get(ui.UpdatePath)
	if got, want := p.doc.Find(`[data-testid="trial"] time`).AttrOr("datetime", ""), st.Deadline.UTC().Format(time.RFC3339); st.Deadline.IsZero() || got != want {
		t.Errorf("trial deadline %q, want %q", got, want)
	}
	got, err := os.ReadFile(sl.Binary("a"))
	if err != nil || !bytes.Equal(got, file) {
		t.Fatalf("slot a holds %q (%v)", got, err)
	}
}
