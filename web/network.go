package web

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"github.com/edgeward/edgeward/web/internal/httpx"
	"net/netip"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/edgeward/edgeward/core"
	"github.com/edgeward/edgeward/core/acl"
	"github.com/edgeward/edgeward/core/auth"
	"github.com/edgeward/edgeward/core/events"
	"github.com/edgeward/edgeward/core/p2pid"
	"github.com/gofiber/fiber/v2"
)

// network serves the P2P dialect under /network: the shape of the Octez
// node's P2P RPCs (points, peers, connections, greylists, event streams),
// backed by edgeward's ACL, overlay and event journal. Its errors are the
// original's error array (see netError); 401 and the method check stay with
// the shared token middleware.
type network struct{ d Deps }

func (n *network) routes(r fiber.Router) {
	if n.d.Journal == nil {
		// Nothing publishes to it: logs are empty and streams stay idle.
		n.d.Journal = events.New(1, nil)
	}
	r.Get("/self", n.self)
	r.Get("/stat", n.stat)
	r.Get("/version", n.version)
	r.Get("/versions", n.versions)
	r.Get("/log", n.log)

	r.Get("/connections", n.connections)
	r.Get("/connections/:peer_id", n.connection)
	r.Delete("/connections/:peer_id", n.disconnect)
	r.Get("/tunnel", n.tunnel)

	r.Get("/points", n.points)
	r.Get("/points/:point", n.point)
	r.Patch("/points/:point", n.patchPoint)
	r.Get("/points/:point/banned", n.pointBanned)
	r.Get("/points/:point/log", n.pointLog)
	for _, op := range deprecatedOps {
		r.Get("/points/:point/"+op, n.adminOnly, n.pointOp(op))
	}

	r.Get("/peers", n.peers)
	r.Get("/peers/:peer_id", n.peer)
	r.Patch("/peers/:peer_id", n.patchPeer)
	r.Get("/peers/:peer_id/banned", n.peerBanned)
	r.Get("/peers/:peer_id/log", n.peerLog)
	for _, op := range deprecatedOps {
		r.Get("/peers/:peer_id/"+op, n.adminOnly, n.peerOp(op))
	}

	r.Delete("/greylist", n.clearGreylist)
	r.Get("/greylist/clear", n.adminOnly, n.clearGreylist)
	r.Get("/greylist/ips", n.greylistIPs)
	r.Get("/greylist/peers", n.greylistPeers)

	r.Post("/acl/bulk", n.bulk)
	r.Get("/acl/status", n.aclStatus)
	r.Get("/acl/entries", n.aclEntries)
	r.Post("/acl/lift", n.aclLift)
}

// deprecatedOps are the original's state-changing GETs, kept for old
// clients; each needs an admin token.
var deprecatedOps = []string{"ban", "unban", "trust", "untrust"}

// netError is one element of the dialect's error body, the original's
// error array: [{"kind":"permanent","id":"edgeward.bad_point","msg":"…"}].
type netError struct {
	Kind string `json:"kind"`
	ID   string `json:"id"`
	Msg  string `json:"msg"`
}

// netFailure is a refusal a handler of this dialect decides itself. Its
// message is public-safe.
type netFailure struct {
	status int
	id     string
	msg    string
}

func (f *netFailure) Error() string { return f.msg }

func badArg(id, format string, args ...any) error {
	return &netFailure{status: fiber.StatusBadRequest, id: id, msg: fmt.Sprintf(format, args...)}
}

func unknown(id, format string, args ...any) error {
	return &netFailure{status: fiber.StatusNotFound, id: id, msg: fmt.Sprintf(format, args...)}
}

// fail is the dialect's one error mapper. Only public-safe messages reach
// the client; anything else is logged with the request id and answered
// "internal error".
func (n *network) fail(c *fiber.Ctx, err error) error {
	status, id, msg := fiber.StatusInternalServerError, "internal", "internal error"
	var f *netFailure
	var ve *core.ValidationError
	var pub *core.Error
	switch {
	case errors.As(err, &f):
		status, id, msg = f.status, f.id, f.msg
	case errors.As(err, &ve):
		status, id, msg = fiber.StatusBadRequest, "invalid_argument", ve.Error()
	case errors.Is(err, core.ErrNotFound):
		status, id, msg = fiber.StatusNotFound, "not_found", "not found"
		if errors.As(err, &pub) {
			msg = pub.Msg
		}
	case errors.Is(err, core.ErrInvalid):
		status, id, msg = fiber.StatusBadRequest, "invalid_argument", "invalid argument"
		if errors.As(err, &pub) {
			msg = pub.Msg
		}
	case errors.Is(err, core.ErrPermission):
		status, id, msg = fiber.StatusForbidden, "permission_denied", "permission denied"
	}
	if status == fiber.StatusInternalServerError {
		n.d.Log.Error("request failed", "request_id", httpx.RequestID(c), "method", c.Method(), "path", c.Path(), "err", err)
	}
	return c.Status(status).JSON([]netError{{Kind: "permanent", ID: "edgeward." + id, Msg: msg}})
}

// adminOnly guards the deprecated GETs that change state: the token
// middleware lets every GET through.
func (n *network) adminOnly(c *fiber.Ctx) error {
	if tok := httpx.Caller(c); tok.Role != auth.RoleAdmin {
		return n.fail(c, &netFailure{status: fiber.StatusForbidden, id: "forbidden",
			msg: "token " + tok.Name + " has role " + tok.Role + " and may not change the ACL; this needs an admin token"})
	}
	return c.Next()
}

// pathArg returns a path parameter, percent-decoded: clients escape the
// brackets and zone of an IPv6 point.
func pathArg(c *fiber.Ctx, name string) (string, error) {
	raw := c.Params(name)
	s, err := url.PathUnescape(raw)
	if err != nil {
		return "", badArg("bad_"+name, "%s %s is not a valid URL path segment", name, quote(raw))
	}
	return s, nil
}

// pointArg parses the {point} path parameter.
func pointArg(c *fiber.Ctx) (netip.AddrPort, error) {
	s, err := pathArg(c, "point")
	if err != nil {
		return netip.AddrPort{}, err
	}
	ap, err := acl.ParsePoint(s)
	if err != nil {
		return netip.AddrPort{}, badArg("bad_point", "point %s: %s", quote(s), err.Error())
	}
	return ap, nil
}

// peerIDArg parses the {peer_id} path parameter.
func peerIDArg(c *fiber.Ctx) (string, error) {
	s, err := pathArg(c, "peer_id")
	if err != nil {
		return "", err
	}
	if err := checkPeerID("peer_id", s); err != nil {
		return "", err
	}
	return s, nil
}

func checkPeerID(what, s string) error {
	if _, err := p2pid.Parse(s); err != nil {
		return badArg("bad_peer_id", "%s %s is not a peer id: want 30 Base58Check characters starting with \"id\"", what, quote(s))
	}
	return nil
}

// quote quotes client input for a message, cut to a readable length.
func quote(s string) string {
	const limit = 64
	if r := []rune(s); len(r) > limit {
		s = string(r[:limit]) + "…"
	}
	return fmt.Sprintf("%q", s)
}

// stateFilter reads the repeatable ?filter= of the points and peers lists;
// the answer lists what matches any of them. nil means no filter.
func stateFilter(c *fiber.Ctx, allowed ...string) (map[string]bool, error) {
	vals := c.Context().QueryArgs().PeekMulti("filter")
	if len(vals) == 0 {
		return nil, nil
	}
	out := map[string]bool{}
	for _, v := range vals {
		s := string(v)
		if !slices.Contains(allowed, s) {
			return nil, badArg("bad_filter", "filter %s: must be one of %s", quote(s), strings.Join(allowed, ", "))
		}
		out[s] = true
	}
	return out, nil
}

// aclBody is the PATCH body of a point or a peer.
type aclBody struct {
	ACL    *string `json:"acl"`
	PeerID *string `json:"peer_id"`
}

// decodeBody parses a JSON object body strictly: the original refuses
// unknown fields, and a typo here would otherwise silently do nothing.
func decodeBody(c *fiber.Ctx, v any) error {
	body := bytes.TrimSpace(c.Body())
	switch {
	case len(body) == 0:
		return badArg("bad_body", "the request body is empty: send a JSON object, e.g. {\"acl\":\"ban\"}")
	case string(body) == "null":
		return badArg("bad_body", "the request body must be a JSON object, not null")
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	err := dec.Decode(v)
	if err == nil && dec.More() {
		err = errors.New("trailing data")
	}
	var te *json.UnmarshalTypeError
	switch {
	case err == nil:
		return nil
	case errors.As(err, &te) && te.Field != "":
		return badArg("bad_body", "%s must be %s, not %s", te.Field, httpx.JSONType(te.Type.Kind().String()), te.Value)
	case errors.As(err, &te):
		return badArg("bad_body", "the request body must be a JSON object, not %s", te.Value)
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		return badArg("bad_body", "unknown field %s in the request body", strings.TrimPrefix(err.Error(), "json: unknown field "))
	}
	return badArg("bad_body", "the request body is not valid JSON")
}

// stamp writes a time as the dialect's timestamps: RFC 3339, UTC,
// milliseconds, e.g. "2026-11-23T10:00:00.123Z".
func stamp(t time.Time) string {
	return t.UTC().Format("2006-01-02T15:04:05.000Z")
}

// p2pAddr writes an address as the original's p2p_address: IPv6 text, so
// IPv4 appears as "::ffff:1.2.3.4".
func p2pAddr(a netip.Addr) string {
	if !a.IsValid() {
		return "::"
	}
	return netip.AddrFrom16(a.As16()).String()
}

// idPointJSON is a p2p_connection.id: an address and, when known, a port.
type idPointJSON struct {
	Addr string `json:"addr"`
	Port uint16 `json:"port,omitempty"`
}

func idPoint(ap netip.AddrPort) idPointJSON {
	return idPointJSON{Addr: p2pAddr(ap.Addr()), Port: ap.Port()}
}

// statJSON is the original's p2p_stat: 64-bit totals as decimal strings.
type statJSON struct {
	TotalSent      string `json:"total_sent"`
	TotalRecv      string `json:"total_recv"`
	CurrentInflow  int    `json:"current_inflow"`
	CurrentOutflow int    `json:"current_outflow"`
}

var zeroStat = statJSON{TotalSent: "0", TotalRecv: "0"}

// versionJSON is the original's network_version.
type versionJSON struct {
	ChainName            string `json:"chain_name"`
	DistributedDBVersion uint16 `json:"distributed_db_version"`
	P2PVersion           uint16 `json:"p2p_version"`
}

var netVersion = versionJSON{ChainName: "edgeward", DistributedDBVersion: 0, P2PVersion: 1}

func (n *network) self(c *fiber.Ctx) error { return ok(c, n.d.NodeID) }

func (n *network) stat(c *fiber.Ctx) error {
	if n.d.Stats == nil {
		return ok(c, zeroStat)
	}
	s := n.d.Stats.Stat()
	return ok(c, statJSON{TotalSent: fmt.Sprint(s.TotalSent), TotalRecv: fmt.Sprint(s.TotalRecv),
		CurrentInflow: s.Inflow, CurrentOutflow: s.Outflow})
}

func (n *network) version(c *fiber.Ctx) error { return ok(c, netVersion) }

func (n *network) versions(c *fiber.Ctx) error { return ok(c, []versionJSON{netVersion}) }
