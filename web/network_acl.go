package web

import (
	"bytes"
	"errors"
	"fmt"
	"mime"
	"strconv"
	"strings"
	"time"

	"github.com/edgeward/edgeward/core"
	"github.com/gofiber/fiber/v2"
)

// maxTTLSeconds bounds ttl_seconds so that it fits a time.Duration.
const maxTTLSeconds = 10 * 365 * 24 * 3600

// bulkReq is the JSON body of POST /network/acl/bulk.
type bulkReq struct {
	ACL        *string  `json:"acl"`
	Entries    []string `json:"entries"`
	TTLSeconds *int64   `json:"ttl_seconds"`
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
func (n *network) bulk(c *fiber.Ctx) error {
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
		err = badArg("bad_content_type", "content type %s: send application/json or text/plain", quote(mt))
	}
	if err != nil {
		return n.fail(c, err)
	}
	if req.ACL == nil {
		return n.fail(c, badArg("bad_body", "acl is required: ban or trust"))
	}
	ttl := deref(req.TTLSeconds)
	if ttl < 0 || ttl > maxTTLSeconds {
		return n.fail(c, badArg("bad_body", "ttl_seconds must be from 0 (for good) to %d, not %d", maxTTLSeconds, ttl))
	}
	cx, cancel := ctx(c)
	defer cancel()
	count, err := n.d.ACL.Bulk(cx, *req.ACL, req.Entries, time.Duration(ttl)*time.Second, caller(c).ID)
	if err != nil {
		return n.fail(c, byLine(err, lines))
	}
	return ok(c, bulkJSON{ACL: *req.ACL, Count: count, Enforced: n.d.ACL.Enforcement().Applied})
}

// bulkText reads a text/plain bulk body.
func bulkText(c *fiber.Ctx) (bulkReq, []int, error) {
	var req bulkReq
	if a := c.Query("acl"); a != "" {
		req.ACL = &a
	}
	if s := c.Query("ttl_seconds"); s != "" {
		v, err := strconv.ParseInt(s, 10, 64)
		if err != nil {
			return req, nil, badArg("bad_query", "ttl_seconds %s must be a whole number of seconds", quote(s))
		}
		req.TTLSeconds = &v
	}
	var lines []int
	for i, line := range bytes.Split(c.Body(), []byte("\n")) {
		e := strings.TrimSpace(string(line))
		if e == "" || strings.HasPrefix(e, "#") {
			continue
		}
		req.Entries = append(req.Entries, e)
		lines = append(lines, i+1)
	}
	return req, lines, nil
}

// byLine renames a text body's refused entries[i] after their line.
func byLine(err error, lines []int) error {
	var ve *core.ValidationError
	if !errors.As(err, &ve) || lines == nil {
		return err
	}
	out := &core.ValidationError{}
	for _, f := range ve.Fields {
		var i int
		if _, serr := fmt.Sscanf(f.Field, "entries[%d]", &i); serr == nil && i >= 0 && i < len(lines) {
			f.Field = fmt.Sprintf("line %d", lines[i])
		}
		out.Fields = append(out.Fields, f)
	}
	return out
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

func (n *network) aclStatus(c *fiber.Ctx) error {
	e, cnt := n.d.ACL.Enforcement(), n.d.ACL.Counts()
	return ok(c, aclStatusJSON{Enforced: e.Applied, Reason: e.Reason, Since: stamp(e.Since), Bans: cnt.Bans,
		Trusts: cnt.Trusts, Greylisted: cnt.Greylisted, PeerBans: cnt.PeerBans, PeerTrusts: cnt.PeerTrusts})
}
