package ui

import (
	"errors"
	"fmt"
	"net/netip"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/edgeward/edgeward/core"
	"github.com/edgeward/edgeward/core/acl"
	"github.com/edgeward/edgeward/core/p2pid"
	"github.com/edgeward/edgeward/core/p2pview"
	"github.com/edgeward/edgeward/views/pages"
	"github.com/edgeward/edgeward/web/internal/httpx"
)

// The network page lives under /p2p: /network is the JSON dialect's.
// Its handlers make the same core calls as that dialect's (web/p2p) and
// read the same model of points, peers and connections (core/p2pview).

// ListLimit caps each list on the page: the ACL may hold 100,000 bans,
// which no browser on a phone should be sent at once.
const ListLimit = 200

// p2pBy is who the ACL records as the author of a change made on a page:
// pages have one admin and no token id.
const p2pBy = "admin"

// networkRoutes mounts the network page.
func (u *ui) networkRoutes(app *fiber.App) {
	app.Get("/p2p", u.authed(u.p2pPage)...)
	app.Post("/p2p/acl", u.authed(u.p2pACL)...)
	app.Post("/p2p/bulk", u.authed(u.p2pBulk)...)
	app.Post("/p2p/lift", u.authed(u.p2pLift)...)
	app.Post("/p2p/greylist/clear", u.authed(u.p2pClearGreylist)...)
	app.Post("/p2p/connections/:peer_id/disconnect", u.authed(u.p2pDisconnect)...)
	for _, op := range []string{acl.Ban, acl.Trust, acl.Open} {
		app.Post("/p2p/points/:point/"+op, u.authed(u.p2pPointOp(op))...)
		app.Post("/p2p/peers/:peer_id/"+op, u.authed(u.p2pPeerOp(op))...)
	}
}

func (u *ui) p2pPage(c *fiber.Ctx) error {
	p := u.p2pProps(c)
	p.Notice = p2pNotice(c.Query("done"), c.Query("n"))
	comp := pages.Network(p)
	if p2pSwap(c) {
		comp = fragment(comp, pages.NetworkStateFragment)
	}
	return render(c, fiber.StatusOK, comp)
}

// p2pSwap reports whether an htmx request wants only the page's state.
func p2pSwap(c *fiber.Ctx) bool {
	return c.Get("HX-Request") == "true" && c.Get("HX-Target") == pages.NetworkStateFragment
}

// p2pDone ends a successful change: htmx gets the new state at once, a
// plain form a redirect back to the page.
func (u *ui) p2pDone(c *fiber.Ctx, done string) error {
	if p2pSwap(c) {
		return render(c, fiber.StatusOK, fragment(pages.Network(u.p2pProps(c)), pages.NetworkStateFragment))
	}
	return c.Redirect("/p2p?done="+done, fiber.StatusSeeOther)
}

// p2pNotice is the message of a change's redirect. Only known changes have
// one, so a crafted link cannot make the page say anything else.
func p2pNotice(done, n string) string {
	count, _ := strconv.Atoi(n)
	switch done {
	case acl.Ban:
		return "Blocked."
	case acl.Trust:
		return "Trusted."
	case acl.Open:
		return "Unblocked: its block, trust or greylisting is lifted."
	case "lift":
		return "Removed: the entry no longer blocks or trusts anyone."
	case "clear":
		return "Greylist cleared; blocks and trusts stay."
	case "disconnect":
		return "Peer disconnected."
	case "bulk-" + acl.Ban:
		return fmt.Sprintf("%d entries blocked.", count)
	case "bulk-" + acl.Trust:
		return fmt.Sprintf("%d entries trusted.", count)
	}
	return ""
}

func (u *ui) p2pProps(c *fiber.Ctx) pages.NetworkProps {
	p := pages.NetworkProps{Page: u.navPage(c, "Firewall", "/p2p"),
		Form: pages.NetACLForm{Action: acl.Ban}, Bulk: pages.NetBulkForm{Action: acl.Ban}, Events: u.liveEvents("Event log")}
	p.Page.Live = p.Events.Stream != ""
	e, n := u.d.ACL.Enforcement(), u.d.ACL.Counts()
	p.Enforced, p.EnforcementReason, p.EnforcementSince = e.Applied, e.Reason, e.Since
	p.Counts = pages.NetCounts(n)
	now := time.Now()
	u.p2pConnections(&p)
	p2pPoints(&p, u.d.P2P.Points(ListLimit), now)
	u.p2pLists(&p, now)
	u.p2pGreylist(&p, now)
	return p
}

func (u *ui) p2pConnections(p *pages.NetworkProps) {
	for _, conn := range u.d.P2P.Connections() {
		dir := "outgoing"
		if conn.Incoming {
			dir = "incoming"
		}
		addr := "unknown"
		if conn.Endpoint.IsValid() {
			addr = conn.Endpoint.String()
		}
		p.Connections = append(p.Connections, pages.NetConnRow{PeerID: conn.PeerID, Name: conn.Name, Address: addr,
			Direction: dir, Since: conn.Since, Banned: conn.Banned, Trusted: conn.Trusted})
	}
}

// p2pPoints lists the first points of book as GET /network/points lists
// them all.
func p2pPoints(p *pages.NetworkProps, book p2pview.Book, now time.Time) {
	points := book.List()
	for _, ap := range points[:min(len(points), ListLimit)] {
		pt, _ := book.Info(ap)
		r := pages.NetPointRow{Point: ap.String(), Label: p2pPointLabel(ap), State: pt.State, PeerID: pt.PeerID, Banned: pt.Banned, Trusted: pt.Trusted}
		if !pt.GreylistedTill.IsZero() {
			r.GreyLeft = Duration(pt.GreylistedTill.Sub(now))
		}
		p.Points = append(p.Points, r)
	}
	p.PointsMore = len(points) + book.Left - len(p.Points)
}

// p2pLists fills the bans and trusts: addresses, ranges and address:port
// points in address order, then peer ids, each list cut at p2pListLimit.
func (u *ui) p2pLists(p *pages.NetworkProps, now time.Time) {
	bans, nBans := u.d.ACL.Bans(ListLimit)
	trusts, nTrusts := u.d.ACL.Trusts(ListLimit)
	p.Bans, p.Trusts = p2pEntries(bans, now), p2pEntries(trusts, now)
	peerBans, nPeerBans := u.d.ACL.PeerBans(ListLimit)
	peerTrusts, nPeerTrusts := u.d.ACL.PeerTrusts(ListLimit)
	p.PeerBans, p.PeerTrusts = u.p2pPeers(peerBans), u.p2pPeers(peerTrusts)
	p.BansMore = nBans - len(bans) + nPeerBans - len(peerBans)
	p.TrustsMore = nTrusts - len(trusts) + nPeerTrusts - len(peerTrusts)
}

// p2pScopeWords name the ACL's scopes for people.
var p2pScopeWords = map[string]string{acl.ScopeAddress: "Address", acl.ScopeRange: "Range", acl.ScopePort: "One port", acl.ScopePeer: "Peer"}

// p2pPointLabel is a point as people read it: port 0 stands for the whole
// address, so it is left out.
func p2pPointLabel(ap netip.AddrPort) string {
	if ap.Port() == 0 {
		return ap.Addr().String()
	}
	return ap.String()
}

func p2pEntries(list []acl.Listed, now time.Time) []pages.NetEntryRow {
	rows := make([]pages.NetEntryRow, len(list))
	for i, l := range list {
		rows[i] = pages.NetEntryRow{Target: l.Target, Kind: p2pScopeWords[l.Scope], Since: l.Entry.Since, Reason: l.Entry.Reason}
		if !l.Entry.Until.IsZero() {
			rows[i].Left, rows[i].Until = Duration(l.Entry.Until.Sub(now)), l.Entry.Until
		}
	}
	return rows
}

// p2pPeers names the listed peer ids after their overlay peers; an id no
// overlay peer has keeps an empty name.
// p2pPeers names the listed peer ids that are overlay peers (looked up by
// id, not by walking every peer).
func (u *ui) p2pPeers(list []acl.Listed) []pages.NetPeerRow {
	rows := make([]pages.NetPeerRow, len(list))
	for i, l := range list {
		rows[i] = pages.NetPeerRow{PeerID: l.Target, Since: l.Entry.Since}
		if peer, err := u.d.Overlay.ByPeerID(l.Target); err == nil {
			rows[i].Name = peer.Name
		}
	}
	return rows
}

func (u *ui) p2pGreylist(p *pages.NetworkProps, now time.Time) {
	addrs, since := u.d.ACL.GreylistIPs()
	for i, a := range addrs {
		if i == ListLimit {
			p.GreylistMore = len(addrs) - i
			break
		}
		e, live := u.d.ACL.Greylisted(a)
		if !live {
			continue // expired since GreylistIPs
		}
		p.Greylist = append(p.Greylist, pages.NetGreyRow{Addr: a.String(), Left: Duration(e.Until.Sub(now)),
			Until: e.Until, Reason: e.Reason})
	}
	p.GreyPeers = u.d.ACL.GreylistedPeers()
	p.GreyUnreliableAt = since
}

// p2pACL bans or trusts what the form names, with the core call that takes
// it: a peer id goes to the peer ACL; a single address for good to the
// point ACL, as PATCH /network/points does (which also ends its
// connections); ranges, single ports and expiring bans to a one-entry bulk
// call, the only call that takes them.
func (u *ui) p2pACL(c *fiber.Ctx) error {
	f := pages.NetACLForm{Address: strings.TrimSpace(c.FormValue("address")), Action: c.FormValue("action"),
		Duration: strings.TrimSpace(c.FormValue("duration"))}
	ttl, err := p2pTTL(f.Duration)
	switch {
	case err != nil:
		return u.p2pRefuseForm(c, f, fiber.StatusUnprocessableEntity, map[string]string{"duration": sentence(err.Error())})
	case f.Address == "":
		return u.p2pRefuseForm(c, f, fiber.StatusUnprocessableEntity,
			map[string]string{"address": "Enter an address, a range, an address:port or a peer id."})
	}
	_, perr := p2pid.Parse(f.Address)
	isPeer := perr == nil
	if isPeer && ttl > 0 {
		return u.p2pRefuseForm(c, f, fiber.StatusUnprocessableEntity,
			map[string]string{"duration": "A peer id is banned or trusted for good: leave this empty."})
	}
	cx, cancel := httpx.Ctx(c)
	defer cancel()
	addr, addrErr := netip.ParseAddr(f.Address)
	switch {
	case isPeer:
		err = u.d.ACL.SetPeer(cx, f.Address, f.Action, p2pBy)
	case addrErr == nil && addr.Zone() == "" && ttl == 0:
		err = u.d.ACL.SetPoint(cx, netip.AddrPortFrom(addr, 0), f.Action, p2pBy, acl.Guard{From: remote(c)})
	default:
		_, err = u.d.ACL.Bulk(cx, f.Action, []string{f.Address}, ttl, p2pBy, acl.Guard{From: remote(c)})
	}
	if err != nil {
		fields, ok := formErrors(err)
		if !ok {
			return err
		}
		return u.p2pRefuseForm(c, f, p2pStatus(err), p2pFields(fields, "address",
			map[string]string{"entries[0]": "address", "acl": "action", "ttl": "duration"}))
	}
	u.d.Log.Info("acl changed", "request_id", httpx.RequestID(c), "remote", c.IP(), "target", f.Address, "acl", f.Action, "ttl", ttl)
	return u.p2pDone(c, f.Action)
}

func (u *ui) p2pRefuseForm(c *fiber.Ctx, f pages.NetACLForm, status int, errs map[string]string) error {
	p := u.p2pProps(c)
	f.Errors = errs
	p.Form = f
	return render(c, status, pages.Network(p))
}

// p2pBulk bans or trusts a pasted list, split into lines as the API's
// text/plain bulk body is; errors name the line.
func (u *ui) p2pBulk(c *fiber.Ctx) error {
	f := pages.NetBulkForm{Entries: c.FormValue("entries"), Action: c.FormValue("bulk_action"),
		Duration: strings.TrimSpace(c.FormValue("bulk_duration"))}
	ttl, err := p2pTTL(f.Duration)
	if err != nil {
		return u.p2pRefuseBulk(c, f, fiber.StatusUnprocessableEntity, map[string]string{"bulk_duration": sentence(err.Error())}, nil)
	}
	entries, lines := acl.SplitEntries(f.Entries)
	cx, cancel := httpx.Ctx(c)
	defer cancel()
	count, err := u.d.ACL.Bulk(cx, f.Action, entries, ttl, p2pBy, acl.Guard{From: remote(c)})
	if err != nil {
		fields, bad, ok := p2pBulkErrors(acl.ByLine(err, lines))
		if !ok {
			return err
		}
		return u.p2pRefuseBulk(c, f, p2pStatus(err), fields, bad)
	}
	u.d.Log.Info("acl bulk change", "request_id", httpx.RequestID(c), "remote", c.IP(), "acl", f.Action, "count", count, "ttl", ttl)
	return u.p2pDone(c, fmt.Sprintf("bulk-%s&n=%d", f.Action, count))
}

// p2pBulkErrors splits a refused bulk call into the form's field messages
// and the refused lines, in the order of the list.
func p2pBulkErrors(err error) (fields map[string]string, lines []string, ok bool) {
	all, ok := formErrors(err)
	if !ok {
		return nil, nil, false
	}
	var ve *core.ValidationError
	if errors.As(err, &ve) {
		for _, fe := range ve.Fields {
			if strings.HasPrefix(fe.Field, "line ") {
				lines = append(lines, fmt.Sprintf("Line %s: %s", strings.TrimPrefix(fe.Field, "line "), sentence(fe.Msg)))
				delete(all, fe.Field)
			}
		}
	}
	return p2pFields(all, "entries", map[string]string{"entries": "entries", "acl": "bulk_action", "ttl": "bulk_duration"}), lines, true
}

func (u *ui) p2pRefuseBulk(c *fiber.Ctx, f pages.NetBulkForm, status int, errs map[string]string, lines []string) error {
	p := u.p2pProps(c)
	f.Errors, f.Lines = errs, lines
	p.Bulk = f
	return render(c, status, pages.Network(p))
}

func (u *ui) p2pClearGreylist(c *fiber.Ctx) error {
	cx, cancel := httpx.Ctx(c)
	defer cancel()
	if err := u.d.ACL.ClearGreylist(cx); err != nil {
		return err
	}
	u.d.Log.Info("greylist cleared", "request_id", httpx.RequestID(c), "remote", c.IP())
	return u.p2pDone(c, "clear")
}

// p2pLift lifts the ban or trust of the row's target (an address, range
// or address:port point); it leaves greylisting alone, unlike a point's
// open. A target that is no entry is refused on an error page: the row's
// hidden field has no input to show the message next to.
func (u *ui) p2pLift(c *fiber.Ctx) error {
	target := strings.TrimSpace(c.FormValue("target"))
	cx, cancel := httpx.Ctx(c)
	defer cancel()
	if _, err := u.d.ACL.Lift(cx, []string{target}, p2pBy); err != nil {
		var ve *core.ValidationError
		if errors.As(err, &ve) {
			return u.errorPage(c, fiber.StatusUnprocessableEntity, sentence(ve.Fields[0].Msg))
		}
		return err // a NotFound becomes the 404 page
	}
	u.d.Log.Info("acl lifted", "request_id", httpx.RequestID(c), "remote", c.IP(), "target", target)
	return u.p2pDone(c, "lift")
}

// p2pPointOp applies op to the point in the path, as PATCH
// /network/points/{point} does. Opening what the ACL does not hold is a 404.
func (u *ui) p2pPointOp(op string) fiber.Handler {
	return func(c *fiber.Ctx) error {
		ap, err := p2pPoint(c)
		if err != nil {
			return err
		}
		if op == acl.Open {
			if _, known := u.d.ACL.Point(ap.Addr()); !known {
				return fiber.NewError(fiber.StatusNotFound, fmt.Sprintf("The ACL holds nothing for %s.", ap.Addr()))
			}
		}
		cx, cancel := httpx.Ctx(c)
		defer cancel()
		if err := u.d.ACL.SetPoint(cx, ap, op, p2pBy, acl.Guard{From: remote(c)}); err != nil {
			return err
		}
		u.d.Log.Info("acl changed", "request_id", httpx.RequestID(c), "remote", c.IP(), "point", ap.String(), "acl", op)
		return u.p2pDone(c, op)
	}
}

// p2pPeerOp applies op to the peer id in the path, as PATCH
// /network/peers/{peer_id} does. Opening what the ACL does not hold is a 404.
func (u *ui) p2pPeerOp(op string) fiber.Handler {
	return func(c *fiber.Ctx) error {
		id, err := p2pPeerID(c)
		if err != nil {
			return err
		}
		if op == acl.Open && u.d.ACL.Peer(id) == (acl.PeerState{}) {
			return fiber.NewError(fiber.StatusNotFound, fmt.Sprintf("The ACL holds nothing for peer %s.", id))
		}
		cx, cancel := httpx.Ctx(c)
		defer cancel()
		if err := u.d.ACL.SetPeer(cx, id, op, p2pBy); err != nil {
			return err
		}
		u.d.Log.Info("acl changed", "request_id", httpx.RequestID(c), "remote", c.IP(), "peer_id", id, "acl", op)
		return u.p2pDone(c, op)
	}
}

// p2pDisconnect ends a peer's connection, as DELETE /network/connections
// does; a peer that is not connected is a 404.
func (u *ui) p2pDisconnect(c *fiber.Ctx) error {
	id, err := p2pPeerID(c)
	if err != nil {
		return err
	}
	cx, cancel := httpx.Ctx(c)
	defer cancel()
	was, err := u.d.Overlay.Disconnect(cx, id)
	if err != nil {
		return err
	}
	if !was {
		return fiber.NewError(fiber.StatusNotFound, fmt.Sprintf("Peer %s is not connected.", id))
	}
	u.d.Log.Info("peer disconnected", "request_id", httpx.RequestID(c), "remote", c.IP(), "peer_id", id)
	return u.p2pDone(c, "disconnect")
}

// p2pPoint reads the :point path argument: a point as the API takes it
// (addr:port) or a plain address, which names port 0. A malformed one is
// a 404 page: such a path names nothing.
func p2pPoint(c *fiber.Ctx) (netip.AddrPort, error) {
	s, err := url.PathUnescape(c.Params("point"))
	if err != nil {
		return netip.AddrPort{}, fiber.NewError(fiber.StatusNotFound, "No such point.")
	}
	ap, err := acl.ParsePoint(s)
	if err == nil {
		return ap, nil
	}
	if a, aerr := netip.ParseAddr(s); aerr == nil && a.Zone() == "" {
		return netip.AddrPortFrom(a.Unmap(), 0), nil
	}
	return netip.AddrPort{}, fiber.NewError(fiber.StatusNotFound, sentence(fmt.Sprintf("point %s: %s", httpx.Quote(s), err.Error())))
}

// p2pPeerID reads the :peer_id path argument; a malformed one is a 404
// page.
func p2pPeerID(c *fiber.Ctx) (string, error) {
	s, err := url.PathUnescape(c.Params("peer_id"))
	if err == nil {
		_, err = p2pid.Parse(s)
	}
	if err != nil {
		return "", fiber.NewError(fiber.StatusNotFound,
			sentence(fmt.Sprintf("peer_id %s is not a peer id: want 30 Base58Check characters starting with \"id\"", httpx.Quote(s))))
	}
	return s, nil
}

// p2pStatus is the status of a refused form: 422, or the kind of a public
// core error (409 for a conflict).
func p2pStatus(err error) int {
	var pub *core.Error
	if errors.As(err, &pub) {
		return httpx.StatusOf(pub.Kind)
	}
	return fiber.StatusUnprocessableEntity
}

// p2pFields renames core field names to the form's; a field the form does
// not have is shown on fallback, so no message is lost.
func p2pFields(fields map[string]string, fallback string, rename map[string]string) map[string]string {
	out := map[string]string{}
	for k, msg := range fields {
		name, ok := rename[k]
		if !ok {
			name = fallback
		}
		if _, seen := out[name]; !seen {
			out[name] = sentence(msg)
		}
	}
	return out
}

// p2pTTL reads a form's optional duration: "90m", "12h" or whole days
// "7d". Empty means for good.
func p2pTTL(s string) (time.Duration, error) {
	if s == "" {
		return 0, nil
	}
	const day = 24 * time.Hour
	maxTTL := acl.MaxTTL
	var d time.Duration
	var err error
	if days, ok := strings.CutSuffix(s, "d"); ok {
		var n int64
		n, err = strconv.ParseInt(days, 10, 64)
		d = time.Duration(min(max(n, -1), int64(maxTTL/day)+1)) * day // clamped: no overflow
	} else {
		d, err = time.ParseDuration(s)
	}
	switch {
	case err != nil:
		return 0, errors.New("write a duration such as 30m, 12h or 7d, or leave it empty for good")
	case d < time.Second:
		return 0, errors.New("must be at least 1s; leave it empty for good")
	case d > maxTTL:
		return 0, fmt.Errorf("must be at most %dd", maxTTL/day)
	}
	return d, nil
}

// remote is the request's source address, which a ban from the page must
// not cover unless the admin means to lock themselves out.
func remote(c *fiber.Ctx) netip.Addr {
	a, _ := netip.ParseAddr(c.IP())
	return a
}
