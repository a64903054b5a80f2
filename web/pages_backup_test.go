package web

import (
	"bytes"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	corebackup "github.com/edgeward/edgeward/core/backup"
)

// upload posts file as the restore form's "file" field with the page's
// CSRF token, as a browser without JavaScript would.
func (b *browser) upload(path, csrf string, file []byte) page {
	b.t.Helper()
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	if csrf != "" {
		_ = mw.WriteField("_csrf", csrf)
	}
	fw, err := mw.CreateFormFile("file", "edgeward-backup.tar.gz")
	if err != nil {
		b.t.Fatal(err)
	}
	fw.Write(file)
	mw.Close()
	req := httptest.NewRequest(http.MethodPost, path, &body)
	req.Header.Set("Content-Type", mw.FormDataContentType())
	return b.do(req)
}

func TestUIBackupPage(t *testing.T) {
	box := newBackupBox(t)
	br := box.browser(t)
	box.setUp(t, br)

	p := br.get("/settings/backup")
	if p.status != http.StatusOK || p.text("title") != "Backup" {
		t.Fatalf("GET /settings/backup: status %d\n%s", p.status, p.body)
	}
	if w := p.text("secrets-warning"); !strings.Contains(w, "secrets") || !strings.Contains(w, "WireGuard private key") {
		t.Errorf("secrets warning %q", w)
	}
	if !p.has("download-form") || !p.has("restore-form") || p.csrf() == "" {
		t.Errorf("the page lacks its forms or their CSRF token\n%s", p.body)
	}
	if enc, _ := p.doc.Find(`[data-testid="restore-form"]`).Attr("enctype"); enc != "multipart/form-data" {
		t.Errorf("restore form enctype %q", enc)
	}
	if nav := p.doc.Find(`[data-testid="settings-nav"] a[aria-current="page"]`).Text(); nav != "Backup" {
		t.Errorf("settings nav marks %q as current", nav)
	}

	// Download: a POST with the page's CSRF token.
	d := br.submitFrom("/settings/backup", "/settings/backup/download", nil)
	if d.status != http.StatusOK || d.header.Get("Content-Type") != "application/gzip" ||
		!strings.HasPrefix(d.header.Get("Content-Disposition"), `attachment; filename="edgeward-`+testNodeName+"-") {
		t.Fatalf("download: status %d, headers %v", d.status, d.header)
	}
	archive := []byte(d.body)
	if m := manifestOf(t, archive); m.NodeName != testNodeName || m.Secrets != corebackup.Secrets {
		t.Errorf("downloaded manifest %+v", m)
	}
	if p := br.post("/settings/backup/download", url.Values{}); p.status != http.StatusForbidden {
		t.Errorf("download without CSRF token: status %d, want 403", p.status)
	}

	// Refused uploads say why next to the field and stage nothing.
	csrf := br.get("/settings/backup").csrf()
	bad := br.upload("/settings/backup/restore", csrf, []byte("not a backup"))
	if bad.status != http.StatusUnprocessableEntity || !strings.Contains(bad.text("file-error"), "Not an edgeward backup") {
		t.Errorf("garbage upload: status %d, error %q", bad.status, bad.text("file-error"))
	}
	newer := br.upload("/settings/backup/restore", csrf, rewriteManifest(t, archive, `"schema": 1`, `"schema": 3`))
	if newer.status != http.StatusUnprocessableEntity || !strings.Contains(newer.text("file-error"), "newer than this edgeward supports") {
		t.Errorf("newer schema upload: status %d, error %q", newer.status, newer.text("file-error"))
	}
	if p := br.upload("/settings/backup/restore", "", archive); p.status != http.StatusForbidden {
		t.Errorf("upload without CSRF token: status %d, want 403", p.status)
	}
	if box.restarts != 0 {
		t.Fatalf("refused uploads asked for %d restarts", box.restarts)
	}

	ok := br.upload("/settings/backup/restore", csrf, archive)
	if ok.status != http.StatusAccepted || !strings.Contains(ok.text("restored"), testNodeName) {
		t.Errorf("restore: status %d, notice %q\n%s", ok.status, ok.text("restored"), ok.body)
	}
	// The backup was made in this test; app.js shows when in local time.
	if made, err := time.Parse(time.RFC3339, ok.doc.Find(`[data-testid="restored"] time`).AttrOr("datetime", "")); err != nil || time.Since(made) > time.Minute {
		t.Errorf("restore notice: backup made %s (%v), want just now", made, err)
	}
	if box.restarts != 1 {
		t.Errorf("restarts = %d, want 1", box.restarts)
	}

	// Without a session every backup page sends to the login.
	anon := box.browser(t)
	wantRedirect(t, anon.get("/settings/backup"), "/login")
	wantRedirect(t, anon.submitFrom("/login", "/settings/backup/download", nil), "/login")
}
