package p2p

import (
	"mime"
	"net/netip"
	"strconv"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/edgeward/edgeward/core/acl"
	"github.com/edgeward/edgeward/web/internal/httpx"
)

// maxTTLSeconds bounds ttl_seconds: the ACL's longest timed ban.
const maxTTLSeconds = int64(acl.MaxTTL / time.Second)

// bulkReq is the JSON body of POST /network/acl/bulk.
type bulkReq struct {
	ACL        *string  `json:"acl"`
	Entries    []string `json:"entries"`
	TTLSeconds *int64   `json:"ttl_seconds"`
	Force      bool     `json:"force"` // ban even loopback, the gateway or the caller
}

// bulkJSON answers a bulk call: how many distinct entries were written and
// whether the kernel enforces the ACL.
type bulkJSON struct {
	ACL      string `json:"acl"`
	Count    int    `json:"count"`
	Enforced bool   `json:"enforced"`
}

// bulk bans or trusts many entries at once, from a JSON body or from a
// text/plain list (one entry per line, # comments) with ?acl= and
// ?ttl_seconds=. One bad entry refuses the whole call.
func (h *handler) bulk(c *fiber.Ctx) error {
	var (
		req   bulkReq
		lines []int // text: the line number of each entry
		err   error
	)
	mt, _, _ := mime.ParseMediaType(string(c.Request().Header.ContentType()))
	switch mt {
	case "text/plain":
		req, lines, err = bulkText(c)
	case "", fiber.MIMEApplicationJSON:
		err = decodeBody(c, &req)
	default:
		err = badArg("bad_content_type", "content type %s: send application/json or text/plain", httpx.Quote(mt))
	}
	if err != nil {
		return h.fail(c, err)
	}
	if req.ACL == nil {
		return h.fail(c, badArg("bad_body", "acl is required: ban or trust"))
	}
	ttl := deref(req.TTLSeconds)
	if ttl < 0 || ttl > maxTTLSeconds {
		return h.fail(c, badArg("bad_body", "ttl_seconds must be from 0 (for good) to %d, not %d", maxTTLSeconds, ttl))
	}
	cx, cancel := httpx.Ctx(c)
	defer cancel()
	count, err := h.ACL.Bulk(cx, *req.ACL, req.Entries, time.Duration(ttl)*time.Second, httpx.Caller(c).ID, guard(c, req.Force))
	if err != nil {
		return h.fail(c, acl.ByLine(err, lines))
	}
	return httpx.OK(c, bulkJSON{ACL: *req.ACL, Count: count, Enforced: h.ACL.Enforcement().Applied})
}

// bulkText reads a text/plain bulk body.
func bulkText(c *fiber.Ctx) (bulkReq, []int, error) {
	var req bulkReq
	if a := c.Query("acl"); a != "" {
		req.ACL = &a
	}
	force, err := forceArg(c)
	if err != nil {
		return req, nil, err
	}
	req.Force = force
	if s := c.Query("ttl_seconds"); s != "" {
		v, err := strconv.ParseInt(s, 10, 64)
		if err != nil {
			return req, nil, badArg("bad_query", "ttl_seconds %s must be a whole number of seconds", httpx.Quote(s))
		}
		req.TTLSeconds = &v
	}
	var lines []int
	req.Entries, lines = acl.SplitEntries(string(c.Body()))
	return req, lines, nil
}

// aclStatusJSON says whether the kernel enforces the ACL and how big it is.
type aclStatusJSON struct {
	Enforced   bool   `json:"enforced"`
	Reason     string `json:"reason,omitempty"`
	Since      string `json:"since"`
	Bans       int    `json:"bans"`
	Trusts     int    `json:"trusts"`
	Greylisted int    `json:"greylisted"`
	PeerBans   int    `json:"peer_bans"`
	PeerTrusts int    `json:"peer_trusts"`
}

func (h *handler) aclStatus(c *fiber.Ctx) error {
	e, cnt := h.ACL.Enforcement(), h.ACL.Counts()
	return httpx.OK(c, aclStatusJSON{Enforced: e.Applied, Reason: e.Reason, Since: stamp(e.Since), Bans: cnt.Bans,
		Trusts: cnt.Trusts, Greylisted: cnt.Greylisted, PeerBans: cnt.PeerBans, PeerTrusts: cnt.PeerTrusts})
}

// aclListLimit is how many entries GET /network/acl/entries answers with
// unless ?limit= says otherwise.
const aclListLimit = 1000

// aclEntryJSON is one ban or trust as GET /network/acl/entries lists it.
type aclEntryJSON struct {
	Target string `json:"target"`
	Scope  string `json:"scope"`
	Since  string `json:"since"`
	Until  string `json:"until,omitempty"` // absent: for good
	Reason string `json:"reason,omitempty"`
	By     string `json:"by,omitempty"`
}

// aclEntriesJSON lists the bans or trusts: addresses, ranges and
// address:port points in address order, then peer ids.
type aclEntriesJSON struct {
	ACL       string         `json:"acl"`
	Total     int            `json:"total"`
	Entries   []aclEntryJSON `json:"entries"`
	PeerTotal int            `json:"peer_total"`
	Peers     []aclEntryJSON `json:"peers"`
}

func toACLEntries(ls []acl.Listed) []aclEntryJSON {
	out := make([]aclEntryJSON, len(ls))
	for i, l := range ls {
		out[i] = aclEntryJSON{Target: l.Target, Scope: l.Scope, Since: stamp(l.Entry.Since), Reason: l.Entry.Reason, By: l.Entry.By}
		if !l.Entry.Until.IsZero() {
			out[i].Until = stamp(l.Entry.Until)
		}
	}
	return out
}

// aclEntries lists what is banned (?acl=ban) or trusted (?acl=trust), at
// most ?limit= of each kind (default 1000).
func (h *handler) aclEntries(c *fiber.Ctx) error {
	which := c.Query("acl")
	if which != acl.Ban && which != acl.Trust {
		return h.fail(c, badArg("bad_query", "acl must be ban or trust, not %s", httpx.Quote(which)))
	}
	limit := aclListLimit
	if s := c.Query("limit"); s != "" {
		v, err := strconv.Atoi(s)
		if err != nil || v < 1 || v > acl.MaxBulk {
			return h.fail(c, badArg("bad_query", "limit %s must be from 1 to %d", httpx.Quote(s), acl.MaxBulk))
		}
		limit = v
	}
	out := aclEntriesJSON{ACL: which}
	var list, peers []acl.Listed
	if which == acl.Ban {
		list, out.Total = h.ACL.Bans(limit)
		peers, out.PeerTotal = h.ACL.PeerBans(limit)
	} else {
		list, out.Total = h.ACL.Trusts(limit)
		peers, out.PeerTotal = h.ACL.PeerTrusts(limit)
	}
	out.Entries, out.Peers = toACLEntries(list), toACLEntries(peers)
	return httpx.OK(c, out)
}

// aclLiftReq is the body of POST /network/acl/lift.
type aclLiftReq struct {
	Entries []string `json:"entries"`
}

// aclLiftJSON answers a lift.
type aclLiftJSON struct {
	Lifted   int  `json:"lifted"`
	Enforced bool `json:"enforced"`
}

// aclLift lifts the bans and trusts of addresses, ranges and address:port
// points (peer ids are opened with PATCH /network/peers/{id}).
func (h *handler) aclLift(c *fiber.Ctx) error {
	var req aclLiftReq
	if err := decodeBody(c, &req); err != nil {
		return h.fail(c, err)
	}
	cx, cancel := httpx.Ctx(c)
	defer cancel()
	lifted, err := h.ACL.Lift(cx, req.Entries, httpx.Caller(c).ID)
	if err != nil {
		return h.fail(c, err)
	}
	return httpx.OK(c, aclLiftJSON{Lifted: lifted, Enforced: h.ACL.Enforcement().Applied})
}

// guard is the ban guard of a request: its source address, and whether
// the caller forced the ban.
func guard(c *fiber.Ctx, force bool) acl.Guard {
	from, _ := netip.ParseAddr(c.IP())
	return acl.Guard{From: from, Force: force}
}

// forceArg reads ?force=true|false.
func forceArg(c *fiber.Ctx) (bool, error) {
	switch v := c.Query("force"); v {
	case "", "false", "0":
		return false, nil
	case "true", "1":
		return true, nil
	default:
		return false, badArg("bad_query", "force %s must be true or false", httpx.Quote(v))
	}
}
