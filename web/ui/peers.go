package ui

import (
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/edgeward/edgeward/core/overlay"
	"github.com/edgeward/edgeward/views/pages"
	"github.com/edgeward/edgeward/web/internal/httpx"
)

func (u *ui) peerRoutes(app *fiber.App) {
	app.Get("/peers", u.authed(u.peersPage)...)
	app.Post("/peers", u.authed(u.createPeer)...)
	app.Get("/peers/:id/delete", u.authed(u.peerDeleteForm)...)
	app.Post("/peers/:id/delete", u.authed(u.deletePeer)...)
	u.peerDetailRoutes(app)
	u.peerConfigRoutes(app)
}

// peersPage lists the peers. An htmx request aimed at the table (the
// filter form, or the table's own poll every 5 s) gets only the table.
func (u *ui) peersPage(c *fiber.Ctx) error {
	p := u.peersProps(c, c.Query("name"), c.Query("ip"))
	comp := pages.Peers(p)
	if c.Get("HX-Request") == "true" && c.Get("HX-Target") == pages.PeersTableFragment {
		comp = fragment(comp, pages.PeersTableFragment)
	}
	return render(c, fiber.StatusOK, comp)
}

func (u *ui) peersProps(c *fiber.Ctx, name, ip string) pages.PeersProps {
	p := pages.PeersProps{Page: u.navPage(c, "Peers", "/peers"), FilterName: name, FilterIP: ip, KeepKey: true}
	now := time.Now()
	infos := u.d.Overlay.Peers(overlay.Filter{Name: name, IP: ip})
	keys := make([]string, len(infos))
	for i, pi := range infos {
		keys[i] = pi.PublicKey
	}
	// Without a data plane there is no traffic history: no column.
	sparks := u.peerSparks(keys)
	p.Sparks = sparks != nil
	for _, pi := range infos {
		r := peerRow(pi, now)
		if s, ok := sparks[pi.PublicKey]; ok {
			r.Spark = &s
		}
		p.Rows = append(p.Rows, r)
	}
	return p
}

// peerRow is p as a table row, its connection as of now.
func peerRow(p overlay.PeerInfo, now time.Time) pages.PeerRow {
	r := pages.PeerRow{ID: p.ID, Name: p.Name, IP: p.IP.String(), DNSName: p.FQDN, Conn: peerConn(p.Status, now),
		Waiting: p.ApprovalRequired}
	names := make([]string, len(p.Groups))
	for i, g := range p.Groups {
		names[i] = g.Name
	}
	r.Groups = strings.Join(names, ", ")
	return r
}

// createPeer adds a peer. On success the page shows it, with its client
// configuration when the gateway made the key. Unless the admin asked the
// gateway to keep the key, this is the only time the key is shown, so the
// page is rendered here rather than after a redirect. An unchecked box is
// not sent, which is "do not keep".
func (u *ui) createPeer(c *fiber.Ctx) error {
	name, key := strings.TrimSpace(c.FormValue("name")), strings.TrimSpace(c.FormValue("wg_pub_key"))
	keep := peerFormFlag(c, "keep_key")
	cx, cancel := httpx.Ctx(c)
	defer cancel()
	// The core records an API token id as the creator; a page has none.
	created, err := u.d.Overlay.CreatePeer(cx, overlay.NewPeer{Name: name, PublicKey: key, CreatedBy: "admin", KeepKey: keep})
	if err != nil {
		fields, status, ok := pageFormErrors(err, peerSameField)
		if !ok {
			return err
		}
		p := u.peersProps(c, "", "")
		p.Name, p.PublicKey, p.KeepKey, p.Errors = name, key, keep, fields
		return render(c, status, pages.Peers(p))
	}
	kept := keep && created.PrivateKey != ""
	u.d.Log.Info("peer created", "request_id", httpx.RequestID(c), "remote", c.IP(), "peer_id", created.ID, "key_kept", kept)
	p := u.peersProps(c, "", "")
	p.Created = &pages.CreatedPeer{ID: created.ID, Name: created.Name, IP: created.IP.String(), Kept: kept,
		FileName: confFileName(created.DNSLabel)}
	if created.PrivateKey != "" {
		p.Created.Config = u.d.Overlay.ClientConfig(created, u.d.Gateway)
	}
	return render(c, fiber.StatusOK, pages.Peers(p))
}

// peerDeleteForm asks before deleting; an unknown id is a 404 page.
func (u *ui) peerDeleteForm(c *fiber.Ctx) error {
	p, err := u.d.Overlay.Peer(c.Params("id"))
	if err != nil {
		return err
	}
	return render(c, fiber.StatusOK, pages.PeerDelete(pages.PeerDeleteProps{
		Page: u.navPage(c, "Delete peer", "/peers"), ID: p.ID, Name: p.Name}))
}

func (u *ui) deletePeer(c *fiber.Ctx) error {
	cx, cancel := httpx.Ctx(c)
	defer cancel()
	id := c.Params("id")
	if err := u.d.Overlay.DeletePeer(cx, id); err != nil {
		return err
	}
	u.d.Log.Info("peer deleted", "request_id", httpx.RequestID(c), "remote", c.IP(), "peer_id", id)
	return c.Redirect("/peers", fiber.StatusSeeOther)
}
