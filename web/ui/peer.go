package ui

import (
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
	"unicode"

	"github.com/gofiber/fiber/v2"

	"github.com/edgeward/edgeward/core"
	"github.com/edgeward/edgeward/core/jobs"
	"github.com/edgeward/edgeward/core/overlay"
	"github.com/edgeward/edgeward/views/pages"
	"github.com/edgeward/edgeward/web/internal/httpx"
)

// peerDetailRoutes mounts one peer's page.
func (u *ui) peerDetailRoutes(app *fiber.App) {
	app.Get("/peers/:id", u.authed(u.peerPage)...)
	app.Post("/peers/:id", u.authed(u.editPeer)...)
	app.Post("/peers/:id/temporary-access", u.authed(u.peerTempAccess)...)
	if u.d.Jobs != nil {
		app.Post("/peers/:id/jobs", u.authed(u.createPeerJob)...)
		app.Get("/peers/:id/jobs/:job/bundle", u.authed(u.peerBundle)...)
	}
}

// peerPage shows one peer. The job list and the connection section poll
// this route with htmx and get only themselves back.
func (u *ui) peerPage(c *fiber.Ctx) error {
	pi, err := u.d.Overlay.Peer(c.Params("id"))
	if err != nil {
		return err
	}
	htmx := c.Get("HX-Request") == "true"
	if htmx && c.Get("HX-Target") == pages.PeerConnFragment {
		return render(c, fiber.StatusOK, pages.PeerConnection(pi.ID, peerConn(pi.Status, time.Now())))
	}
	if htmx && c.Get("HX-Target") == pages.PeerJobsFragment {
		// The poll while a job is pending: only the jobs are read.
		p := pages.PeerProps{Page: u.navPage(c, pi.Name, "/peers"), Peer: peerDetail(pi), JobsOff: u.d.Jobs == nil}
		if p.Jobs, err = u.peerJobs(c, pi.ID); err != nil {
			return err
		}
		return render(c, fiber.StatusOK, fragment(pages.Peer(p), pages.PeerJobsFragment))
	}
	p, err := u.peerProps(c, pi)
	if err != nil {
		return err
	}
	p.Saved, p.Forgotten = c.Query("saved") != "", c.Query("forgotten") != ""
	return render(c, fiber.StatusOK, pages.Peer(p))
}

// peerJobs are the rows of the peer's debug-bundle jobs.
func (u *ui) peerJobs(c *fiber.Ctx, id string) ([]pages.JobRow, error) {
	if u.d.Jobs == nil {
		return nil, nil
	}
	cx, cancel := httpx.Ctx(c)
	defer cancel()
	js, err := u.d.Jobs.List(cx, id)
	if err != nil {
		return nil, err
	}
	rows := make([]pages.JobRow, len(js))
	for i, j := range js {
		rows[i] = peerJobRow(j)
	}
	return rows, nil
}

// peerProps is the page of pi with its forms filled from the peer, and
// its client configuration when the gateway keeps the private key.
func (u *ui) peerProps(c *fiber.Ctx, pi overlay.PeerInfo) (pages.PeerProps, error) {
	p := pages.PeerProps{Page: u.navPage(c, pi.Name, "/peers"), Peer: peerDetail(pi), JobsOff: u.d.Jobs == nil,
		Edit: pages.PeerEdit{Name: pi.Name, IP: pi.IP.String(), SSHEnabled: pi.SSHEnabled,
			ApprovalRequired: pi.ApprovalRequired}}
	acc, err := u.d.Overlay.Accessible(pi.ID)
	if err != nil {
		return p, err
	}
	now := time.Now()
	for _, a := range acc {
		p.Accessible = append(p.Accessible, peerRow(a, now))
	}
	if p.Config, err = u.keptConfig(c, pi); err != nil {
		return p, err
	}
	p.Jobs, err = u.peerJobs(c, pi.ID)
	return p, err
}

// peerDetail shapes a peer for its page.
func peerDetail(pi overlay.PeerInfo) pages.PeerDetail {
	row := peerRow(pi, time.Now())
	d := pages.PeerDetail{ID: pi.ID, Name: pi.Name, IP: pi.IP.String(), DNSName: pi.FQDN, PublicKey: pi.PublicKey,
		Conn: row.Conn, Groups: row.Groups,
		CreatedAt: pi.CreatedAt, CreatedBy: pi.CreatedBy, SSHEnabled: pi.SSHEnabled,
		LoginExpirationEnabled: pi.LoginExpirationEnabled, InactivityExpirationEnabled: pi.InactivityExpirationEnabled,
		ApprovalRequired: pi.ApprovalRequired, Ephemeral: pi.Ephemeral}
	if pi.ApprovalRequired {
		d.DisapprovalReason = "no policy applies to it until the box in Settings is cleared"
	}
	return d
}

func peerJobRow(j jobs.Job) pages.JobRow {
	r := pages.JobRow{ID: j.ID, Status: j.Status, CreatedAt: j.CreatedAt,
		CompletedAt: j.CompletedAt, TriggeredBy: j.TriggeredBy, FailedReason: j.FailedReason}
	params := []string{"up to " + logSize(j.Params.LogFileCount) + " of log"}
	if j.Params.BundleFor {
		params = append(params, fmt.Sprintf("%d min watched", j.Params.BundleForTime))
	}
	if j.Params.Anonymize {
		params = append(params, "anonymized")
	}
	r.Params = strings.Join(params, ", ")
	if j.Status == jobs.StatusSucceeded && j.UploadKey != "" {
		r.Download = "/peers/" + j.PeerID + "/jobs/" + j.ID + "/bundle"
	}
	return r
}

// logSize is how much log n pieces hold: a bundle reads the log in
// pieces of 64 KiB (jobs.Params.LogFileCount). "640 KiB", "62.5 MiB".
func logSize(n int) string {
	if n < 16 {
		return strconv.Itoa(n*64) + " KiB"
	}
	return humanBytes(int64(n) * 64 << 10)
}

// peerRefused renders the peer's page again with a form's errors: field
// messages (422, or 409 for a taken name or address), or the message of a
// public conflict or busy error for the whole form. Anything else, such
// as an unknown peer, goes to the error page.
func (u *ui) peerRefused(c *fiber.Ctx, id string, err error, field formFieldMap,
	fill func(p *pages.PeerProps, errs map[string]string)) error {
	errs, status, ok := pageFormErrors(err, field)
	if !ok {
		var pub *core.Error
		if !errors.As(err, &pub) || (!errors.Is(err, core.ErrConflict) && !errors.Is(err, core.ErrBusy)) {
			return err
		}
		errs, status = map[string]string{"": sentence(pub.Msg)}, httpx.StatusOf(pub.Kind)
	}
	pi, perr := u.d.Overlay.Peer(id)
	if perr != nil {
		return perr
	}
	p, perr := u.peerProps(c, pi)
	if perr != nil {
		return perr
	}
	fill(&p, errs)
	return render(c, status, pages.Peer(p))
}

func peerSameField(field, msg string) (string, string) { return field, msg }

// editPeer applies the edit form as PUT /api/peers/{id} does. Unchecked
// boxes are not sent, which is false. The expiration flags are not on the
// form (the gateway cannot expire peers) and are left as they are.
func (u *ui) editPeer(c *fiber.Ctx) error {
	id := c.Params("id")
	f := pages.PeerEdit{Name: strings.TrimSpace(c.FormValue("name")), IP: strings.TrimSpace(c.FormValue("ip")),
		SSHEnabled: peerFormFlag(c, "ssh_enabled"), ApprovalRequired: peerFormFlag(c, "approval_required")}
	upd := overlay.PeerUpdate{Name: f.Name, SSHEnabled: f.SSHEnabled, ApprovalRequired: &f.ApprovalRequired}
	if f.IP != "" {
		upd.IP = &f.IP
	}
	cx, cancel := httpx.Ctx(c)
	defer cancel()
	if _, err := u.d.Overlay.UpdatePeer(cx, id, upd); err != nil {
		return u.peerRefused(c, id, err, peerSameField, func(p *pages.PeerProps, errs map[string]string) {
			p.Edit, p.EditErrors = f, errs
		})
	}
	u.d.Log.Info("peer updated", "request_id", httpx.RequestID(c), "remote", c.IP(), "peer_id", id)
	return c.Redirect(peerPagePath(id)+"?saved=1", fiber.StatusSeeOther)
}

func peerPagePath(id string) string { return "/peers/" + id }

func peerFormFlag(c *fiber.Ctx, name string) bool { return c.FormValue(name) != "" }

// peerTempAccess creates a temporary peer as POST
// /api/peers/{id}/temporary-access does. Without a public key the core
// makes the pair, so the new peer's configuration can be handed over; the
// private key is kept nowhere, so it is shown on this response only.
func (u *ui) peerTempAccess(c *fiber.Ctx) error {
	id := c.Params("id")
	f := pages.TempAccessForm{Name: strings.TrimSpace(c.FormValue("temp_name")),
		PublicKey: strings.TrimSpace(c.FormValue("temp_wg_pub_key")), Rules: strings.TrimSpace(c.FormValue("temp_rules"))}
	rules := strings.FieldsFunc(f.Rules, func(r rune) bool { return r == ',' || unicode.IsSpace(r) })
	cx, cancel := httpx.Ctx(c)
	defer cancel()
	res, err := u.d.Overlay.CreateTempAccess(cx, id, overlay.TempAccess{Name: f.Name, PublicKey: f.PublicKey, Rules: rules,
		CreatedBy: "admin"})
	if err != nil {
		return u.peerRefused(c, id, err, peerTempField(rules), func(p *pages.PeerProps, errs map[string]string) {
			p.Temp, p.TempErrors = f, errs
		})
	}
	u.d.Log.Info("temporary access granted", "request_id", httpx.RequestID(c), "remote", c.IP(), "peer_id", id, "temp_peer_id", res.ID)
	pi, err := u.d.Overlay.Peer(id)
	if err != nil {
		return err
	}
	p, err := u.peerProps(c, pi)
	if err != nil {
		return err
	}
	p.TempPeer = &pages.TempPeer{ID: res.ID, Name: res.Name, IP: res.IP.String(), Rules: strings.Join(res.Rules, ", "),
		FileName: confFileName(res.DNSLabel)}
	if res.PrivateKey != "" {
		p.TempPeer.Config = u.d.Overlay.ClientConfig(res.Created, u.d.Gateway)
	}
	return render(c, fiber.StatusOK, pages.Peer(p))
}

// peerTempField names the temporary-access form's field for a core field. The
// rules share one field, so a refused rule's message names the rule.
func peerTempField(rules []string) formFieldMap {
	return func(k, msg string) (string, string) {
		var i int
		if _, err := fmt.Sscanf(k, "rules[%d]", &i); err == nil && i >= 0 && i < len(rules) {
			return "temp_rules", fmt.Sprintf("%s (rule %q).", strings.TrimSuffix(msg, "."), rules[i])
		}
		if strings.HasPrefix(k, "rules") {
			return "temp_rules", msg
		}
		return "temp_" + k, msg
	}
}

// createPeerJob queues a debug-bundle job as POST /api/peers/{id}/jobs
// does, with the API's checks of the numbers.
func (u *ui) createPeerJob(c *fiber.Ctx) error {
	id := c.Params("id")
	f := pages.JobForm{BundleFor: peerFormFlag(c, "bundle_for"), Anonymize: peerFormFlag(c, "anonymize"),
		BundleForTime: strings.TrimSpace(c.FormValue("bundle_for_time")),
		LogFileCount:  strings.TrimSpace(c.FormValue("log_file_count"))}
	const params = "workload.parameters."
	v := &core.ValidationError{}
	p := jobs.Params{Anonymize: f.Anonymize, BundleFor: f.BundleFor,
		BundleForTime: peerFormNumber(v, params+"bundle_for_time", f.BundleForTime),
		LogFileCount:  peerFormNumber(v, params+"log_file_count", f.LogFileCount)}
	if f.LogFileCount != "" && p.LogFileCount == 0 {
		// 0 would be read as "the default"; a 0 typed in asks for none.
		v.Add(params+"log_file_count", "must be from 1 to 1000")
	}
	err := v.Err()
	if err == nil {
		cx, cancel := httpx.Ctx(c)
		defer cancel()
		_, err = u.d.Jobs.Create(cx, id, jobs.TypeBundle, p, "admin")
	}
	if err != nil {
		return u.peerRefused(c, id, err, func(k, msg string) (string, string) { return strings.TrimPrefix(k, params), msg },
			func(p *pages.PeerProps, errs map[string]string) { p.JobForm, p.JobErrors = f, errs })
	}
	u.d.Log.Info("debug bundle requested", "request_id", httpx.RequestID(c), "remote", c.IP(), "peer_id", id)
	return c.Redirect(peerPagePath(id)+"#"+pages.PeerJobsFragment, fiber.StatusSeeOther)
}

// peerFormNumber reads a whole-number field: empty is 0 (the core's
// "unset"), anything else must be a whole number; the core checks ranges.
func peerFormNumber(v *core.ValidationError, field, s string) int {
	if s == "" {
		return 0
	}
	f, err := strconv.ParseFloat(s, 64)
	switch {
	case err != nil:
		v.Add(field, "must be a number")
	case f != math.Trunc(f) || math.Abs(f) > 100000:
		v.Add(field, "must be a whole number")
	default:
		return int(f)
	}
	return 0
}

// peerBundle streams a finished bundle of one of this peer's jobs: the
// session stands in for the API's admin token. The job is looked up under
// the peer, so one peer's page cannot fetch another's bundle, and
// Jobs.Open checks the file against its hash as for the API.
func (u *ui) peerBundle(c *fiber.Ctx) error {
	cx, cancel := httpx.Ctx(c)
	defer cancel()
	j, err := u.d.Jobs.Get(cx, c.Params("id"), c.Params("job"))
	if err != nil {
		return err
	}
	if j.UploadKey == "" {
		return core.NotFound("this job has no bundle: it is %s", j.Status)
	}
	f, size, err := u.d.Jobs.Open(j.UploadKey)
	if err != nil {
		return err
	}
	_, uuid, _ := strings.Cut(j.UploadKey, "/")
	c.Set(fiber.HeaderContentType, "application/gzip")
	c.Set(fiber.HeaderContentDisposition, `attachment; filename="edgeward-bundle-`+uuid+`.tar.gz"`)
	return c.SendStream(f, int(size))
}
