package web

import (
	"archive/tar"
	"compress/gzip"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"
	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/edgeward/edgeward/core/jobs"
	"github.com/edgeward/edgeward/core/overlay"
	"github.com/edgeward/edgeward/core/wgkey"
)

// startBundleJobs runs e's job worker until t ends.
func (e *uiEnv) startBundleJobs(t *testing.T) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		e.jobs.Run(ctx)
	}()
	t.Cleanup(func() {
		cancel()
		<-done
	})
}

// waitBundleJob waits until the job has left pending and returns it.
func (e *uiEnv) waitBundleJob(t *testing.T, peerID, jobID string) jobs.Job {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		j, err := e.jobs.Get(t.Context(), peerID, jobID)
		if err != nil {
			t.Fatal(err)
		}
		if j.Status != jobs.StatusPending {
			return j
		}
		if time.Now().After(deadline) {
			t.Fatalf("job %s still pending", jobID)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// apiPeer is GET /api/peers/{id} with the admin token.
func (e *uiEnv) apiPeer(t *testing.T, id string) map[string]any {
	t.Helper()
	req := httptest.NewRequest(http.MethodGet, "/api/peers/"+id, nil)
	req.Header.Set("Authorization", "Token "+e.token)
	res, err := e.app.Test(req, 10_000)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var out map[string]any
	if err := json.NewDecoder(res.Body).Decode(&out); err != nil {
		t.Fatal(err)
	}
	return out
}

func TestUIPeerPage(t *testing.T) {
	e := newUIEnv(t)
	b := e.browser(t)
	e.setUp(t, b)
	ctx := t.Context()
	laptop := e.addPeer(t, "laptop")
	phone := e.addPeer(t, "phone")
	e.addPeer(t, "nas")
	g, err := e.ov.SaveGroup(ctx, "", overlay.GroupSpec{Name: "phones", Peers: []string{phone.ID}})
	if err != nil {
		t.Fatal(err)
	}
	all := e.ov.Groups("All")[0].ID
	// laptop (in All) may reach the phones group; nas is in All too, but
	// nothing lets anyone reach it.
	if _, err := e.ov.SavePolicy(ctx, "", overlay.Policy{Name: "to phones", Enabled: true, Rules: []overlay.Rule{{
		Enabled: true, Action: "accept", Protocol: overlay.ProtoAll, Sources: []string{all}, Destinations: []string{g.ID}}}}); err != nil {
		t.Fatal(err)
	}
	from := netip.MustParseAddrPort("198.51.100.7:41000")
	if err := e.ov.SetConnected(ctx, laptop.PublicKey, true, from); err != nil {
		t.Fatal(err)
	}
	if _, err := e.ov.UpdatePeer(ctx, laptop.ID, overlay.PeerUpdate{Name: "laptop", SSHEnabled: true,
		ApprovalRequired: new(false)}); err != nil {
		t.Fatal(err)
	}

	// The peers table links each name to its page.
	if href, _ := b.get("/peers").doc.Find(`[data-peer-id="` + laptop.ID + `"] [data-testid="peer-link"]`).Attr("href"); href != "/peers/"+laptop.ID {
		t.Errorf("peers table links laptop to %q", href)
	}

	p := b.get("/peers/" + laptop.ID)
	if p.status != http.StatusOK || p.text("title") != "laptop" {
		t.Fatalf("GET /peers/%s: status %d\n%s", laptop.ID, p.status, p.body)
	}
	if got := p.doc.Find(`nav a[aria-current="page"]`).Text(); got != "Peers" {
		t.Errorf("current nav item %q, want Peers", got)
	}
	api := e.apiPeer(t, laptop.ID)
	want := map[string]string{
		"peer-name":                  api["name"].(string),
		"peer-ip":                    api["ip"].(string),
		"peer-dns":                   api["dns_label"].(string),
		"peer-key":                   api["wg_pub_key"].(string),
		"peer-endpoint":              api["connection_ip"].(string) + ":41000",
		"peer-connected":             "Connected",
		"peer-groups":                "All",
		"peer-ssh":                   "On",
		"peer-login-expiration":      "Off",
		"peer-inactivity-expiration": "Off",
		"peer-approval":              "Approved",
	}
	got := map[string]string{}
	for id := range want {
		got[id] = p.text(id)
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("peer facts (-want +got):\n%s", diff)
	}
	if want["peer-endpoint"] != from.String() || want["peer-ip"] != laptop.IP.String() {
		t.Errorf("the API shows ip %s from %s; the test setup went wrong", want["peer-ip"], want["peer-endpoint"])
	}
	if p.text("peer-last-seen") == "never" || p.has("peer-ephemeral") {
		t.Errorf("last seen %q, ephemeral shown %v", p.text("peer-last-seen"), p.has("peer-ephemeral"))
	}

	// Accessible peers: exactly what the core computes, with names and IPs.
	var rows []string
	p.doc.Find(`[data-testid="accessible-row"]`).Each(func(_ int, s *goquery.Selection) {
		href, _ := s.Find(`[data-testid="accessible-name"]`).Attr("href")
		rows = append(rows, strings.TrimSpace(s.Find(`[data-testid="accessible-name"]`).Text())+" "+
			strings.TrimSpace(s.Find(`[data-testid="accessible-ip"]`).Text())+" "+href)
	})
	if diff := cmp.Diff([]string{"phone " + phone.IP.String() + " /peers/" + phone.ID}, rows); diff != "" {
		t.Errorf("accessible peers (-want +got):\n%s", diff)
	}
	// phone reaches nobody: the rule is not bidirectional.
	if p := b.get("/peers/" + phone.ID); !p.has("no-accessible") || p.has("accessible-row") {
		t.Errorf("phone's accessible peers shown:\n%s", p.doc.Find(`[data-testid="accessible"]`).Text())
	}

	// The edit form holds the current settings.
	form := p.doc.Find(`[data-testid="edit-form"]`)
	if v, _ := form.Find(`[data-testid="name"]`).Attr("value"); v != "laptop" {
		t.Errorf("edit name %q", v)
	}
	if v, _ := form.Find(`[data-testid="ip"]`).Attr("value"); v != laptop.IP.String() {
		t.Errorf("edit ip %q", v)
	}
	for box, on := range map[string]bool{"ssh_enabled": true, "approval_required": false} {
		if _, checked := form.Find(`[data-testid="` + box + `"]`).Attr("checked"); checked != on {
			t.Errorf("%s checked %v, want %v", box, checked, on)
		}
	}
	// The gateway cannot expire peers, so the form offers no expiration
	// boxes (turning one on would be refused) and says why.
	for _, box := range []string{"login_expiration_enabled", "inactivity_expiration_enabled"} {
		if form.Find(`[name="`+box+`"]`).Length() != 0 {
			t.Errorf("the edit form offers %s", box)
		}
	}
	if form.Find(`[data-testid="expiration-note"]`).Length() != 1 {
		t.Error("the edit form does not say why expiration stays off")
	}
	// What only the NetBird agent uses waits in the closed Advanced fold;
	// what a WireGuard device needs is outside it.
	fold := form.Find(`details.fold[data-testid="advanced"]`)
	if _, open := fold.Attr("open"); fold.Length() != 1 || open || strings.TrimSpace(fold.Find("summary").Text()) != "Advanced" {
		t.Fatalf("no closed Advanced fold in the edit form:\n%s", form.Text())
	}
	for _, id := range []string{"ssh_enabled", "peer-ssh", "peer-login-expiration", "peer-inactivity-expiration", "expiration-note"} {
		if fold.Find(`[data-testid="`+id+`"]`).Length() != 1 {
			t.Errorf("%s is not inside the Advanced fold", id)
		}
	}
	for _, id := range []string{"name", "ip", "approval_required", "save"} {
		if fold.Find(`[data-testid="`+id+`"]`).Length() != 0 || form.Find(`[data-testid="`+id+`"]`).Length() != 1 {
			t.Errorf("%s should be in the edit form, outside the fold", id)
		}
	}
	if !p.has("no-jobs") || !p.has("job-form") || !p.has("temp-form") {
		t.Errorf("page lacks jobs or forms: no-jobs %v, job-form %v, temp-form %v",
			p.has("no-jobs"), p.has("job-form"), p.has("temp-form"))
	}
}

func TestUIPeerEdit(t *testing.T) {
	e := newUIEnv(t)
	b := e.browser(t)
	e.setUp(t, b)
	laptop := e.addPeer(t, "laptop")
	other := e.addPeer(t, "taken")
	path := "/peers/" + laptop.ID
	free := netip.MustParseAddr("100.64.9.9")

	tests := []struct {
		name       string
		fields     map[string]string
		wantStatus int
		wantField  string
	}{
		{"empty name", map[string]string{"name": "", "ip": laptop.IP.String()}, http.StatusUnprocessableEntity, "name"},
		{"not an address", map[string]string{"name": "laptop", "ip": "300.1.1.1"}, http.StatusUnprocessableEntity, "ip"},
		{"outside the overlay", map[string]string{"name": "laptop", "ip": "10.0.0.5"}, http.StatusUnprocessableEntity, "ip"},
		{"name taken", map[string]string{"name": "taken", "ip": laptop.IP.String()}, http.StatusConflict, "name"},
		{"address taken", map[string]string{"name": "laptop", "ip": other.IP.String()}, http.StatusConflict, "ip"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before, _ := e.ov.Peer(laptop.ID)
			fields := map[string]string{"ssh_enabled": "true"}
			for k, v := range tt.fields {
				fields[k] = v
			}
			p := b.submit(path, fields)
			if p.status != tt.wantStatus {
				t.Errorf("status %d, want %d", p.status, tt.wantStatus)
			}
			form := p.doc.Find(`[data-testid="edit-form"]`)
			if form.Find(`[data-testid="`+tt.wantField+`-error"]`).Text() == "" || form.Find(".error").Length() != 1 {
				t.Errorf("want one error, at %s; got %q\n%s", tt.wantField, form.Find(".error").Text(), form.Text())
			}
			in := form.Find(`input[data-testid="` + tt.wantField + `"]`)
			if inv, _ := in.Attr("aria-invalid"); inv != "true" || in.Parent().Find(".error").Length() != 1 {
				t.Errorf("the error is not next to the %s field", tt.wantField)
			}
			if v, _ := in.Attr("value"); v != tt.fields[tt.wantField] {
				t.Errorf("%s value %q not kept, want %q", tt.wantField, v, tt.fields[tt.wantField])
			}
			if _, on := form.Find(`[data-testid="ssh_enabled"]`).Attr("checked"); !on {
				t.Error("the ssh box the admin checked is unchecked again")
			}
			if p.has("temp_name-error") || p.has("job-error") {
				t.Error("errors shown at other forms")
			}
			after, _ := e.ov.Peer(laptop.ID)
			if diff := cmp.Diff(before.Peer, after.Peer, cmpopts.EquateComparable(netip.Addr{})); diff != "" {
				t.Errorf("a refused edit changed the peer (-before +after):\n%s", diff)
			}
		})
	}

	wantRedirect(t, b.submit(path, map[string]string{"name": "work laptop", "ip": free.String(),
		"ssh_enabled": "true", "approval_required": "true"}), path+"?saved=1")
	got, err := e.ov.Peer(laptop.ID)
	if err != nil {
		t.Fatal(err)
	}
	want := laptop.Peer
	want.Name, want.IP, want.SSHEnabled, want.ApprovalRequired = "work laptop", free, true, true
	want.DNSLabel = got.DNSLabel
	if diff := cmp.Diff(want, got.Peer, cmpopts.EquateComparable(netip.Addr{})); diff != "" || got.DNSLabel == laptop.DNSLabel {
		t.Errorf("peer after edit (-want +got):\n%s\nDNS label %q (was %q)", diff, got.DNSLabel, laptop.DNSLabel)
	}
	p := b.get(path + "?saved=1")
	if !p.has("saved") || p.text("peer-name") != "work laptop" || p.text("peer-ip") != free.String() ||
		p.text("peer-dns") != got.FQDN || !strings.HasPrefix(p.text("peer-approval"), "Waiting for approval") {
		t.Errorf("page after edit: saved %v, name %q, ip %q, dns %q, approval %q", p.has("saved"),
			p.text("peer-name"), p.text("peer-ip"), p.text("peer-dns"), p.text("peer-approval"))
	}

	// An empty address keeps the address; unchecked boxes clear the flags.
	wantRedirect(t, b.submit(path, map[string]string{"name": "work laptop", "ip": ""}), path+"?saved=1")
	if got, _ := e.ov.Peer(laptop.ID); got.IP != free || got.SSHEnabled || got.ApprovalRequired {
		t.Errorf("after a save with an empty address: ip %s, ssh %v, approval %v", got.IP, got.SSHEnabled, got.ApprovalRequired)
	}
}

func TestUIPeerTempAccess(t *testing.T) {
	e := newUIEnv(t)
	b := e.browser(t)
	e.setUp(t, b)
	nas := e.addPeer(t, "nas")
	e.addPeer(t, "taken")
	path := "/peers/" + nas.ID
	action := path + "/temporary-access"

	p := b.submitFrom(path, action, map[string]string{"temp_name": "support", "temp_rules": "tcp/22, udp/53 icmp"})
	if p.status != http.StatusOK || p.text("temp-created-name") != "support" {
		t.Fatalf("temporary access: status %d\n%s", p.status, p.body)
	}
	temps := e.ov.Peers(overlay.Filter{Name: "support"})
	if len(temps) != 1 || !temps[0].Ephemeral {
		t.Fatalf("temporary peers named support: %+v", temps)
	}
	tmp := temps[0]
	if p.text("temp-created-ip") != tmp.IP.String() || p.text("temp-created-rules") != "tcp/22, udp/53, icmp" {
		t.Errorf("shown ip %q rules %q, want %s and the three rules", p.text("temp-created-ip"), p.text("temp-created-rules"), tmp.IP)
	}
	if href, _ := p.doc.Find(`[data-testid="temp-created-name"]`).Attr("href"); href != "/peers/"+tmp.ID {
		t.Errorf("temporary peer links to %q", href)
	}
	// The config holds the private key of the key the peer was created with.
	cfg := p.text("temp-config")
	if !strings.Contains(cfg, "Address = "+tmp.IP.String()+"/32") {
		t.Errorf("config lacks the temporary peer's address:\n%s", cfg)
	}
	priv := strings.TrimSpace(strings.SplitN(strings.SplitN(cfg+"PrivateKey = \n", "PrivateKey = ", 2)[1], "\n", 2)[0])
	k, err := wgkey.Parse(priv)
	if err != nil {
		t.Fatalf("config private key %q: %v", priv, err)
	}
	if pub, err := wgkey.Public(k); err != nil || pub.String() != tmp.PublicKey {
		t.Errorf("config key's public half %v (%v), the peer's key %s", pub, err, tmp.PublicKey)
	}
	if !p.has("temp-qr") || !p.has("temp-created-once") {
		t.Errorf("no QR code or no shown-once warning: qr %v, warning %v", p.has("temp-qr"), p.has("temp-created-once"))
	}
	// Download .conf beside the QR code saves the text already shown: the
	// key is kept nowhere, so no second request could fetch it.
	dl := p.doc.Find(`a[data-testid="temp-download"]`)
	if href, file := dl.AttrOr("href", ""), dl.AttrOr("download", ""); href != "data:text/plain;charset=utf-8,"+url.PathEscape(p.doc.Find(`pre#temp-config-text`).Text()) ||
		file != tmp.DNSLabel+".conf" {
		t.Errorf("temporary peer's Download .conf: href %q, file %q", href, file)
	}
	acc, err := e.ov.Accessible(tmp.ID)
	if err != nil || len(acc) != 1 || acc[0].ID != nas.ID {
		t.Errorf("temporary peer reaches %+v (%v), want nas only", acc, err)
	}
	// Shown once: the next GET has neither the config nor the key.
	if p := b.get(path); p.has("temp-created") || strings.Contains(p.body, priv) {
		t.Error("the temporary peer's config is shown again")
	}
	if p := b.get("/peers/" + tmp.ID); p.status != http.StatusOK || !p.has("peer-ephemeral") || p.text("peer-groups") != "" {
		t.Errorf("temporary peer's page: status %d, ephemeral %v, groups %q", p.status, p.has("peer-ephemeral"), p.text("peer-groups"))
	}

	// With the admin's own key there is no private key to show.
	key := newKey(t)
	p = b.submitFrom(path, action, map[string]string{"temp_name": "vendor", "temp_wg_pub_key": key, "temp_rules": "tcp/443"})
	if p.status != http.StatusOK || p.text("temp-created-name") != "vendor" || p.has("temp-config") || p.has("temp-qr") {
		t.Errorf("with a key: status %d, config shown %v\n%s", p.status, p.has("temp-config"), p.body)
	}
	if v := e.ov.Peers(overlay.Filter{Name: "vendor"}); len(v) != 1 || v[0].PublicKey != key {
		t.Errorf("vendor peer %+v, want key %s", v, key)
	}

	n := len(e.ov.Peers(overlay.Filter{}))
	tests := []struct {
		name       string
		fields     map[string]string
		wantStatus int
		wantField  string
		wantIn     string
	}{
		{"no rules", map[string]string{"temp_name": "x"}, http.StatusUnprocessableEntity, "temp_rules", "at least one rule"},
		{"bad rule", map[string]string{"temp_name": "x", "temp_rules": "tcp/80 tcp/x"}, http.StatusUnprocessableEntity, "temp_rules", `"tcp/x"`},
		{"empty name", map[string]string{"temp_rules": "all"}, http.StatusUnprocessableEntity, "temp_name", "empty"},
		{"bad key", map[string]string{"temp_name": "x", "temp_wg_pub_key": "nope", "temp_rules": "all"}, http.StatusUnprocessableEntity, "temp_wg_pub_key", ""},
		{"name taken", map[string]string{"temp_name": "taken", "temp_rules": "all"}, http.StatusConflict, "temp_name", "taken"},
		{"key taken", map[string]string{"temp_name": "x", "temp_wg_pub_key": key, "temp_rules": "all"}, http.StatusConflict, "temp_wg_pub_key", "registered"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := b.submitFrom(path, action, tt.fields)
			if p.status != tt.wantStatus {
				t.Errorf("status %d, want %d", p.status, tt.wantStatus)
			}
			form := p.doc.Find(`[data-testid="temp-form"]`)
			msg := strings.TrimSpace(form.Find(`[data-testid="` + tt.wantField + `-error"]`).Text())
			if msg == "" || !strings.Contains(msg, tt.wantIn) || form.Find(".error").Length() != 1 {
				t.Errorf("want one error at %s containing %q; got %q", tt.wantField, tt.wantIn, form.Find(".error").Text())
			}
			if v, _ := form.Find(`[data-testid="temp_rules"]`).Attr("value"); v != tt.fields["temp_rules"] {
				t.Errorf("rules %q not kept, want %q", v, tt.fields["temp_rules"])
			}
			if p.has("temp-created") || p.has("name-error") {
				t.Error("a refused request shows a created peer or an edit error")
			}
		})
	}
	if got := len(e.ov.Peers(overlay.Filter{})); got != n {
		t.Errorf("%d peers after refused requests, want %d", got, n)
	}
}

func TestUIPeerJobs(t *testing.T) {
	e := newUIEnv(t)
	b := e.browser(t)
	e.setUp(t, b)
	laptop := e.addPeer(t, "laptop")
	phone := e.addPeer(t, "phone")
	path := "/peers/" + laptop.ID
	action := path + "/jobs"

	tests := []struct {
		name      string
		fields    map[string]string
		wantField string
		wantIn    string
	}{
		{"window without minutes", map[string]string{"bundle_for": "true"}, "bundle_for_time", "1 to 5"},
		{"minutes out of range", map[string]string{"bundle_for": "true", "bundle_for_time": "9"}, "bundle_for_time", "1 to 5"},
		{"not a number", map[string]string{"log_file_count": "ten"}, "log_file_count", "number"},
		{"not whole", map[string]string{"log_file_count": "2.5"}, "log_file_count", "whole number"},
		{"too many chunks", map[string]string{"log_file_count": "5000"}, "log_file_count", "1 to 1000"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := b.submitFrom(path, action, tt.fields)
			form := p.doc.Find(`[data-testid="job-form"]`)
			msg := form.Find(`[data-testid="` + tt.wantField + `-error"]`).Text()
			if p.status != http.StatusUnprocessableEntity || !strings.Contains(msg, tt.wantIn) || form.Find(".error").Length() != 1 {
				t.Errorf("status %d, %s error %q; want 422 and one error containing %q", p.status, tt.wantField, msg, tt.wantIn)
			}
			if v, _ := form.Find(`input[data-testid="` + tt.wantField + `"]`).Attr("value"); v != tt.fields[tt.wantField] {
				t.Errorf("%s value %q not kept", tt.wantField, v)
			}
		})
	}
	if js, _ := e.jobs.List(t.Context(), laptop.ID); len(js) != 0 {
		t.Fatalf("refused requests queued %d jobs", len(js))
	}

	// The worker is not running yet: the job stays pending.
	wantRedirect(t, b.submitFrom(path, action, map[string]string{"log_file_count": "3", "anonymize": "true"}), path+"#peer-jobs")
	js, err := e.jobs.List(t.Context(), laptop.ID)
	if err != nil || len(js) != 1 {
		t.Fatalf("jobs %+v (%v), want one", js, err)
	}
	job := js[0]
	if job.Params != (jobs.Params{LogFileCount: 3, Anonymize: true}) || job.TriggeredBy != "admin" {
		t.Errorf("job params %+v by %q", job.Params, job.TriggeredBy)
	}
	p := b.get(path)
	list := p.doc.Find(`[data-testid="jobs"]`)
	if p.text("job-status") != "Working" || p.text("job-params") != "up to 192 KiB of log, anonymized" || p.has("job-download") {
		t.Errorf("pending job shown as %q, %q, download %v", p.text("job-status"), p.text("job-params"), p.has("job-download"))
	}
	if trig, _ := list.Attr("hx-trigger"); trig != "every 2s" {
		t.Errorf("pending job list hx-trigger %q, want every 2s", trig)
	}
	if get, _ := list.Attr("hx-get"); get != path {
		t.Errorf("pending job list polls %q", get)
	}
	// A pending job has no bundle to download.
	if p := b.get(path + "/jobs/" + job.ID + "/bundle"); p.status != http.StatusNotFound || p.text("error-message") == "" {
		t.Errorf("bundle of a pending job: status %d", p.status)
	}

	// One pending job per peer: the API's 409, as a message at the form.
	p = b.submitFrom(path, action, nil)
	if p.status != http.StatusConflict || !strings.Contains(p.text("job-error"), "pending job "+job.ID) {
		t.Errorf("second job: status %d, message %q; want 409 naming %s", p.status, p.text("job-error"), job.ID)
	}
	if js, _ := e.jobs.List(t.Context(), laptop.ID); len(js) != 1 {
		t.Errorf("%d jobs after the refused second one", len(js))
	}

	e.startBundleJobs(t)
	done := e.waitBundleJob(t, laptop.ID, job.ID)
	if done.Status != jobs.StatusSucceeded {
		t.Fatalf("job %s: %s", done.Status, done.FailedReason)
	}
	// The poll gets only the list, which stops polling once nothing is pending.
	f := b.get(path, "HX-Request", "true", "HX-Target", "peer-jobs")
	if f.status != http.StatusOK || strings.Contains(f.body, "<html") || f.has("job-form") || !f.has("jobs") {
		t.Fatalf("poll: status %d\n%s", f.status, f.body)
	}
	if _, polls := f.doc.Find(`[data-testid="jobs"]`).Attr("hx-trigger"); polls || f.text("job-status") != "Ready" ||
		f.text("job-completed") == "" {
		t.Errorf("finished list: polls %v, status %q, completed %q", polls, f.text("job-status"), f.text("job-completed"))
	}
	href, _ := f.doc.Find(`[data-testid="job-download"]`).Attr("href")
	if href != path+"/jobs/"+job.ID+"/bundle" {
		t.Fatalf("download link %q", href)
	}

	res := getRaw(t, b, href)
	if res.StatusCode != http.StatusOK || res.Header.Get("Content-Type") != "application/gzip" ||
		!strings.Contains(res.Header.Get("Content-Disposition"), "attachment") {
		t.Fatalf("download: status %d, type %q, disposition %q", res.StatusCode, res.Header.Get("Content-Type"), res.Header.Get("Content-Disposition"))
	}
	if m := bundleManifest(t, res.Body); m["job_id"] != job.ID || m["log_chunks"] != 3.0 || m["anonymized"] != true {
		t.Errorf("bundle manifest %v", m)
	}

	// Another peer's job, an unknown job, an unknown peer: 404 pages.
	other, err := e.jobs.Create(t.Context(), phone.ID, jobs.TypeBundle, jobs.Params{}, "test")
	if err != nil {
		t.Fatal(err)
	}
	e.waitBundleJob(t, phone.ID, other.ID)
	for _, u := range []string{
		path + "/jobs/" + other.ID + "/bundle",
		path + "/jobs/nope/bundle",
		"/peers/nope/jobs/" + job.ID + "/bundle",
	} {
		if p := b.get(u); p.status != http.StatusNotFound || p.text("error-message") == "" {
			t.Errorf("GET %s: status %d, want a 404 page", u, p.status)
		}
	}
	if p := b.get("/peers/" + phone.ID + "/jobs/" + other.ID + "/bundle"); p.status != http.StatusOK {
		t.Errorf("the phone's own bundle: status %d", p.status)
	}
}

// getRaw is a GET with b's cookies whose body is left unread.
func getRaw(t *testing.T, b *browser, path string) *http.Response {
	t.Helper()
	req := httptest.NewRequest(http.MethodGet, path, nil)
	for _, c := range b.jar.Cookies(origin) {
		req.AddCookie(c)
	}
	res, err := b.app.Test(req, 10_000)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { res.Body.Close() })
	return res
}

// bundleManifest reads manifest.json out of a bundle.
func bundleManifest(t *testing.T, r io.Reader) map[string]any {
	t.Helper()
	zr, err := gzip.NewReader(r)
	if err != nil {
		t.Fatal(err)
	}
	tr := tar.NewReader(zr)
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			t.Fatal("no manifest.json in the bundle")
		}
		if err != nil {
			t.Fatal(err)
		}
		if strings.HasSuffix(h.Name, "/manifest.json") {
			var m map[string]any
			if err := json.NewDecoder(tr).Decode(&m); err != nil {
				t.Fatal(err)
			}
			return m
		}
	}
}

func TestUIPeerGuards(t *testing.T) {
	e := newUIEnv(t)
	b := e.browser(t)
	e.setUp(t, b)
	laptop := e.addPeer(t, "laptop")
	path := "/peers/" + laptop.ID

	// Unknown peer: 404 pages, for reads and for every form.
	for _, do := range []func() page{
		func() page { return b.get("/peers/nope") },
		func() page { return b.submitFrom(path, "/peers/nope", map[string]string{"name": "x"}) },
		func() page {
			return b.submitFrom(path, "/peers/nope/temporary-access", map[string]string{"temp_name": "x", "temp_rules": "all"})
		},
		func() page { return b.submitFrom(path, "/peers/nope/jobs", nil) },
	} {
		if p := do(); p.status != http.StatusNotFound || p.text("error-message") == "" || p.text("title") != "404 Not Found" {
			t.Errorf("unknown peer: status %d, title %q, message %q", p.status, p.text("title"), p.text("error-message"))
		}
	}
	if n := len(e.ov.Peers(overlay.Filter{})); n != 1 {
		t.Errorf("%d peers after posts to an unknown peer, want 1", n)
	}

	// No CSRF token: refused before anything changes.
	for _, tt := range []struct {
		action string
		form   url.Values
	}{
		{path, url.Values{"name": {"sneaky"}}},
		{path + "/temporary-access", url.Values{"temp_name": {"sneaky"}, "temp_rules": {"all"}}},
		{path + "/jobs", url.Values{}},
	} {
		if p := b.post(tt.action, tt.form); p.status != http.StatusForbidden {
			t.Errorf("POST %s without a CSRF token: status %d, want 403", tt.action, p.status)
		}
	}
	if got, _ := e.ov.Peer(laptop.ID); got.Name != "laptop" || len(e.ov.Peers(overlay.Filter{})) != 1 {
		t.Errorf("refused posts changed something: name %q", got.Name)
	}
	if js, _ := e.jobs.List(t.Context(), laptop.ID); len(js) != 0 {
		t.Errorf("a refused post queued %d jobs", len(js))
	}

	// Not logged in: the login page, also for downloads and polls.
	anon := e.browser(t)
	for _, u := range []string{path, path + "/jobs/x/bundle"} {
		wantRedirect(t, anon.get(u), "/login")
	}
	wantRedirect(t, anon.submitFrom("/login", path, map[string]string{"name": "anon"}), "/login")
	if p := anon.get(path, "HX-Request", "true", "HX-Target", "peer-jobs"); p.status != http.StatusUnauthorized ||
		p.header.Get("HX-Redirect") != "/login" {
		t.Errorf("poll without a session: status %d, HX-Redirect %q", p.status, p.header.Get("HX-Redirect"))
	}
}

// TestUIPeerJobRows renders each job state as the list shows it: a failed
// job gives its reason, only a finished bundle a download link.
