package p2p

import (
	"bytes"
	"encoding/json"
	"errors"
	"net/netip"
	"slices"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/edgeward/edgeward/core/acl"
	"github.com/edgeward/edgeward/core/p2pid"
	"github.com/edgeward/edgeward/web/internal/httpx"
)

// pointArg parses the {point} path parameter.
func pointArg(c *fiber.Ctx) (netip.AddrPort, error) {
	s, err := pathArg(c, "point")
	if err != nil {
		return netip.AddrPort{}, err
	}
	ap, err := acl.ParsePoint(s)
	if err != nil {
		return netip.AddrPort{}, badArg("bad_point", "point %s: %s", httpx.Quote(s), err.Error())
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
		return badArg("bad_peer_id", "%s %s is not a peer id: want 30 Base58Check characters starting with \"id\"", what, httpx.Quote(s))
	}
	return nil
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
			return nil, badArg("bad_filter", "filter %s: must be one of %s", httpx.Quote(s), strings.Join(allowed, ", "))
		}
		out[s] = true
	}
	return out, nil
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

func deref[T any](p *T) T {
	if p == nil {
		var zero T
		return zero
	}
	return *p
}
