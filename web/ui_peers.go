package web

import (
	"strings"

	"github.com/gofiber/fiber/v2"

	"github.com/edgeward/edgeward/core/overlay"
	"github.com/edgeward/edgeward/views/pages"
)

func (u *ui) peerRoutes(app *fiber.App) {
	app.Get("/peers", u.authed(u.peersPage)...)
	app.Post("/peers", u.authed(u.createPeer)...)
	app.Get("/peers/:id/delete", u.authed(u.peerDeleteForm)...)
	app.Post("/peers/:id/delete", u.authed(u.deletePeer)...)
	u.peerDetailRoutes(app)
}

// peersPage lists the peers. An htmx request aimed at the table gets only
// the table.
func (u *ui) peersPage(c *fiber.Ctx) error {
	p := u.peersProps(c, c.Query("name"), c.Query("ip"))
	comp := pages.Peers(p)
	if c.Get("HX-Request") == "true" && c.Get("HX-Target") == pages.PeersTableFragment {
		comp = fragment(comp, pages.PeersTableFragment)
	}
	return render(c, fiber.StatusOK, comp)
}

func (u *ui) peersProps(c *fiber.Ctx, name, ip string) pages.PeersProps {
	p := pages.PeersProps{Page: u.navPage(c, "Peers", "/peers"), FilterName: name, FilterIP: ip}
	for _, pi := range u.d.Overlay.Peers(overlay.Filter{Name: name, IP: ip}) {
		p.Rows = append(p.Rows, peerRow(pi))
	}
	return p
}

func peerRow(p overlay.PeerInfo) pages.PeerRow {
	r := pages.PeerRow{ID: p.ID, Name: p.Name, IP: p.IP.String(), DNSName: p.FQDN, Connected: p.Connected, LastSeen: "never"}
	if !p.LastSeen.IsZero() {
		r.LastSeen = pageTime(p.LastSeen)
	}
	names := make([]string, len(p.Groups))
	for i, g := range p.Groups {
		names[i] = g.Name
	}
	r.Groups = strings.Join(names, ", ")
	return r
}

// createPeer adds a peer. On success the page shows it once, with its
// client configuration when the gateway made the key: the private key is
// not kept anywhere, so the page is rendered here rather than after a
// redirect.
func (u *ui) createPeer(c *fiber.Ctx) error {
	name, key := strings.TrimSpace(c.FormValue("name")), strings.TrimSpace(c.FormValue("wg_pub_key"))
	cx, cancel := ctx(c)
	defer cancel()
	// The core records an API token id as the creator; a page has none.
	created, err := u.d.Overlay.CreatePeer(cx, overlay.NewPeer{Name: name, PublicKey: key, CreatedBy: "admin"})
	if err != nil {
		fields, status, ok := pageFormErrors(err, peerSameField)
		if !ok {
			return err
		}
		p := u.peersProps(c, "", "")
		p.Name, p.PublicKey, p.Errors = name, key, fields
		return render(c, status, pages.Peers(p))
	}
	u.d.Log.Info("peer created", "request_id", requestID(c), "remote", c.IP(), "peer_id", created.ID)
	p := u.peersProps(c, "", "")
	p.Created = &pages.CreatedPeer{Name: created.Name, IP: created.IP.String()}
	if created.PrivateKey != "" {
		p.Created.Config = clientConfig(u.d, created)
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
	cx, cancel := ctx(c)
	defer cancel()
	id := c.Params("id")
	if err := u.d.Overlay.DeletePeer(cx, id); err != nil {
		return err
	}
	u.d.Log.Info("peer deleted", "request_id", requestID(c), "remote", c.IP(), "peer_id", id)
	return c.Redirect("/peers", fiber.StatusSeeOther)
}
