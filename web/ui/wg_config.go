package ui

import (
	"regexp"

	"github.com/gofiber/fiber/v2"

	"github.com/edgeward/edgeward/core"
	"github.com/edgeward/edgeward/core/overlay"
	"github.com/edgeward/edgeward/views/pages"
	"github.com/edgeward/edgeward/web/internal/httpx"
)

// A peer's client configuration, when the gateway keeps its private key
// (overlay.NewPeer.KeepKey): downloaded again as a wg-quick file, shown as
// a QR code on the peer's page, or forgotten. The key goes into the
// response and nowhere else: never into a log line or an error.

// peerConfigRoutes mounts the download and the forgetting of a kept key.
func (u *ui) peerConfigRoutes(app *fiber.App) {
	app.Get("/peers/:id/wg.conf", u.authed(u.peerConfigDownload)...)
	app.Get("/peers/:id/forget-key", u.authed(u.peerForgetKeyForm)...)
	app.Post("/peers/:id/forget-key", u.authed(u.peerForgetKey)...)
}

// keptConfig is pi's client configuration when the gateway keeps its
// private key, else nil.
func (u *ui) keptConfig(c *fiber.Ctx, pi overlay.PeerInfo) (*pages.PeerConfig, error) {
	cx, cancel := httpx.Ctx(c)
	defer cancel()
	kept, ok, err := u.d.Overlay.Kept(cx, pi.ID)
	if err != nil || !ok {
		return nil, err
	}
	return &pages.PeerConfig{Text: u.d.Overlay.ClientConfig(kept, u.d.Gateway),
		Download: peerPagePath(pi.ID) + "/wg.conf", FileName: confFileName(pi.DNSLabel)}, nil
}

// errKeyNotKept answers for a peer whose key the gateway does not keep.
var errKeyNotKept = core.NotFound("the gateway does not keep this peer's private key: its configuration was shown once, at creation")

// confName matches a DNS label that is safe as a file name in a
// Content-Disposition header as it is.
var confName = regexp.MustCompile(`^[a-z0-9][a-z0-9-]{0,62}$`)

// confFileName is the name a peer's config downloads as: its DNS label
// when that is safe in a header as it is, else "peer.conf".
func confFileName(label string) string {
	if confName.MatchString(label) {
		return label + ".conf"
	}
	return "peer.conf"
}

// peerConfigDownload serves the peer's wg-quick file as an attachment
// named after its DNS label. It is as secret as the key: never cached.
func (u *ui) peerConfigDownload(c *fiber.Ctx) error {
	pi, err := u.d.Overlay.Peer(c.Params("id"))
	if err != nil {
		return err
	}
	cfg, err := u.keptConfig(c, pi)
	if err != nil {
		return err
	}
	if cfg == nil {
		return errKeyNotKept
	}
	c.Set(fiber.HeaderCacheControl, "no-store")
	c.Set(fiber.HeaderContentDisposition, `attachment; filename="`+confFileName(pi.DNSLabel)+`"`)
	c.Set(fiber.HeaderContentType, fiber.MIMETextPlainCharsetUTF8)
	u.d.Log.Info("peer config downloaded", "request_id", httpx.RequestID(c), "remote", c.IP(), "peer_id", pi.ID)
	return c.Status(fiber.StatusOK).SendString(cfg.Text)
}

// peerForgetKeyForm asks before the key is dropped. A peer whose key is
// not kept has nothing to forget: a 404 page says so.
func (u *ui) peerForgetKeyForm(c *fiber.Ctx) error {
	pi, err := u.d.Overlay.Peer(c.Params("id"))
	if err != nil {
		return err
	}
	cx, cancel := httpx.Ctx(c)
	defer cancel()
	if _, ok, err := u.d.Overlay.Kept(cx, pi.ID); err != nil || !ok {
		if err != nil {
			return err
		}
		return errKeyNotKept
	}
	return render(c, fiber.StatusOK, pages.PeerForgetKey(pages.PeerForgetKeyProps{
		Page: u.navPage(c, "Forget private key", "/peers"), ID: pi.ID, Name: pi.Name}))
}

// peerForgetKey drops the kept key and goes back to the peer's page.
// Forgetting a key that is not kept changes nothing and is not an error.
func (u *ui) peerForgetKey(c *fiber.Ctx) error {
	id := c.Params("id")
	cx, cancel := httpx.Ctx(c)
	defer cancel()
	if err := u.d.Overlay.ForgetKey(cx, id); err != nil {
		return err
	}
	u.d.Log.Info("peer key forgotten", "request_id", httpx.RequestID(c), "remote", c.IP(), "peer_id", id)
	return c.Redirect(peerPagePath(id)+"?forgotten=1", fiber.StatusSeeOther)
}
