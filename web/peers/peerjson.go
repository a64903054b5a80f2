package peers

import (
	"bytes"
	"encoding/json"
	"strconv"
	"sync/atomic"
	"time"
	"unicode/utf8"

	"github.com/gofiber/fiber/v2"

	"github.com/edgeward/edgeward/core/overlay"
)

// appendPeerJSON appends what encoding/json (HTML escaping off, as
// httpx.EncodeJSON) writes for toPeerJSON(p, batch), without reflection or
// the intermediate struct: the list of 10,000 peers is 11 MB and was spent
// mostly in reflection and in the garbage it left. peerjson_test.go holds
// it byte-equal to the reflective encoding.
func appendPeerJSON(b []byte, p *overlay.PeerInfo, batch bool) []byte {
	b = appendPeerHead(b, p)
	b = appendPeerLive(b, &p.Status)
	return appendPeerTail(b, p, batch)
}

// appendPeerHead writes the stored fields before the live ones, up to the
// opening quote of connection_ip.
func appendPeerHead(b []byte, p *overlay.PeerInfo) []byte {
	b = append(b, `{"id":`...)
	b = appendJSONString(b, p.ID)
	b = append(b, `,"name":`...)
	b = appendJSONString(b, p.Name)
	b = append(b, `,"created_at":`...)
	b = appendJSONTime(b, p.CreatedAt)
	b = append(b, `,"ip":"`...)
	if p.IP.IsValid() {
		b = p.IP.AppendTo(b)
	} else {
		b = append(b, "invalid IP"...) // what netip.Addr.String says
	}
	return append(b, `","connection_ip":"`...)
}

// appendPeerLive writes what the data plane changes without a new state
// generation: connection_ip's address, connected and last_seen.
func appendPeerLive(b []byte, st *overlay.Status) []byte {
	if st.Endpoint.IsValid() {
		b = st.Endpoint.Addr().AppendTo(b)
	}
	b = append(b, `","connected":`...)
	b = strconv.AppendBool(b, st.Connected)
	b = append(b, `,"last_seen":`...)
	return appendJSONTime(b, st.LastSeen)
}

// appendPeerTail writes the stored fields after the live ones: constant
// text between three parts that vary, which the list cache keeps without
// the constants (about half of each peer's JSON).
func appendPeerTail(b []byte, p *overlay.PeerInfo, batch bool) []byte {
	b = append(b, tailFixed[0]...)
	b = appendPeerMiddle(b, p)
	b = append(b, tailFixed[1]...)
	b = strconv.AppendBool(b, p.Ephemeral)
	b = append(b, tailFixed[2]...)
	return appendPeerEnd(b, p, batch)
}

// tailFixed is the constant text of appendPeerTail, in order.
var tailFixed = [3]string{
	`,"os":"","kernel_version":"","geoname_id":0,"version":"","groups":[`,
	`,"country_code":"","city_name":"","serial_number":"","extra_dns_labels":[],"ephemeral":`,
	`,"local_flags":{"rosenpass_enabled":false,"rosenpass_permissive":false,"server_ssh_allowed":false,` +
		`"disable_client_routes":false,"disable_server_routes":false,"disable_dns":false,"disable_firewall":false,` +
		`"block_lan_access":false,"block_inbound":false,"lazy_connection_enabled":false}`,
}

// appendPeerMiddle writes the groups up to approval.
func appendPeerMiddle(b []byte, p *overlay.PeerInfo) []byte {
	for i, g := range p.Groups {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, `{"id":`...)
		b = appendJSONString(b, g.ID)
		b = append(b, `,"name":`...)
		b = appendJSONString(b, g.Name)
		b = append(b, `,"peers_count":`...)
		b = strconv.AppendInt(b, int64(g.PeersCount), 10)
		b = append(b, `,"resources_count":`...)
		b = strconv.AppendInt(b, int64(g.ResourcesCount), 10)
		b = append(b, `,"issued":`...)
		b = appendJSONString(b, g.Issued)
		b = append(b, '}')
	}
	b = append(b, `],"ssh_enabled":`...)
	b = strconv.AppendBool(b, p.SSHEnabled)
	b = append(b, `,"user_id":`...)
	b = appendJSONString(b, p.CreatedBy)
	b = append(b, `,"hostname":`...)
	b = appendJSONString(b, p.Name)
	b = append(b, `,"ui_version":"","dns_label":`...)
	b = appendJSONString(b, p.FQDN)
	b = append(b, `,"login_expiration_enabled":`...)
	b = strconv.AppendBool(b, p.LoginExpirationEnabled)
	b = append(b, `,"login_expired":false,"last_login":`...)
	b = appendJSONTime(b, p.CreatedAt)
	b = append(b, `,"inactivity_expiration_enabled":`...)
	b = strconv.AppendBool(b, p.InactivityExpirationEnabled)
	b = append(b, `,"approval_required":`...)
	b = strconv.AppendBool(b, p.ApprovalRequired)
	if p.ApprovalRequired {
		b = append(b, `,"disapproval_reason":"waiting for an admin to approve the peer"`...)
	}
	return b
}

// appendPeerEnd writes what follows local_flags.
func appendPeerEnd(b []byte, p *overlay.PeerInfo, batch bool) []byte {
	if batch {
		b = append(b, `,"accessible_peers_count":`...)
		b = strconv.AppendInt(b, int64(p.AccessibleCount), 10)
	}
	b = append(b, `,"wg_pub_key":`...)
	b = appendJSONString(b, p.PublicKey)
	return append(b, '}')
}

// appendJSONString writes s as a JSON string. Names and keys are plain
// ASCII almost always; anything else goes through encoding/json so that
// escapes stay exactly its own.
func appendJSONString(b []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		if !plainJSON[s[i]] {
			return appendJSONSlow(b, s)
		}
	}
	b = append(b, '"')
	b = append(b, s...)
	return append(b, '"')
}

// plainJSON marks the bytes a JSON string holds as they are.
var plainJSON = func() (t [256]bool) {
	for c := 0x20; c < utf8.RuneSelf; c++ {
		t[c] = c != '"' && c != '\\'
	}
	return t
}()

func appendJSONSlow(b []byte, s string) []byte {
	w := bytes.NewBuffer(b)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)              // as httpx.EncodeJSON
	if err := enc.Encode(s); err != nil { // a string always encodes
		panic(err)
	}
	return bytes.TrimSuffix(w.Bytes(), []byte("\n"))
}

// appendJSONTime writes t as time.Time.MarshalJSON does (RFC 3339 with
// nanoseconds, quoted).
func appendJSONTime(b []byte, t time.Time) []byte {
	b = append(b, '"')
	b = t.AppendFormat(b, time.RFC3339Nano)
	return append(b, '"')
}

// listCache holds each peer's stored fields as JSON for one state
// generation, by list position, so a list of 10,000 peers is mostly copying
// (it was 8 ms of shaping and formatting per request). Rows are filled by
// whichever list meets them first; concurrent lists may both fill a row,
// with equal bytes.
type listCache struct {
	gen  uint64
	rows []atomic.Pointer[cachedRow]
}

// cachedRow is a peer's stored fields without tailFixed, in the exact
// size: head | middle | ephemeral | end, cut at cut.
type cachedRow struct {
	json []byte
	cut  [3]uint32
}

// rowFor builds p's cached row; scratch is reused between rows.
func rowFor(scratch []byte, p *overlay.PeerInfo) (*cachedRow, []byte) {
	var r cachedRow
	b := appendPeerHead(scratch[:0], p)
	r.cut[0] = uint32(len(b))
	b = appendPeerMiddle(b, p)
	r.cut[1] = uint32(len(b))
	b = strconv.AppendBool(b, p.Ephemeral)
	r.cut[2] = uint32(len(b))
	b = appendPeerEnd(b, p, true)
	r.json = bytes.Clone(b)
	return &r, b
}

// appendRow writes a cached row around the live fields as appendPeerJSON
// does.
func appendRow(b []byte, r *cachedRow, live *overlay.Status) []byte {
	b = append(b, r.json[:r.cut[0]]...)
	b = appendPeerLive(b, live)
	b = append(b, tailFixed[0]...)
	b = append(b, r.json[r.cut[0]:r.cut[1]]...)
	b = append(b, tailFixed[1]...)
	b = append(b, r.json[r.cut[1]:r.cut[2]]...)
	b = append(b, tailFixed[2]...)
	return append(b, r.json[r.cut[2]:]...)
}

// rowsFor returns the cache of r's generation, replacing an older one.
func (h *handler) rowsFor(r *overlay.PeerRow) *listCache {
	for {
		c := h.list.Load()
		if c != nil && c.gen == r.Gen && len(c.rows) == r.Count {
			return c
		}
		n := &listCache{gen: r.Gen, rows: make([]atomic.Pointer[cachedRow], r.Count)}
		if h.list.CompareAndSwap(c, n) {
			return n
		}
	}
}

// writePeerList writes the peers each yields as a JSON array into the
// response body. The body buffer is fasthttp's pooled one, so a list of
// 10,000 peers (11 MB) costs no fresh 11 MB per request; a chunked body
// stream was tried and is slower (a goroutine and a pipe per response).
func (h *handler) writePeerList(c *fiber.Ctx, f overlay.Filter) {
	c.Status(fiber.StatusOK)
	c.Set(fiber.HeaderContentType, fiber.MIMEApplicationJSON)
	// Append straight into the pooled body buffer (SwapBody hands over its
	// array), so the 11 MB are written once and not copied again. It is
	// sized for the last unfiltered list at once: growing it by doubling left about
	// 20 MB of garbage per list.
	res := c.Response()
	b := res.SwapBody(nil)[:0]
	all := f == (overlay.Filter{})
	if want := int(h.listSize.Load()); all && cap(b) < want {
		b = make([]byte, 0, want+want/16)
	}
	b = append(b, '[')
	first := true
	var cache *listCache
	var scratch []byte
	h.d.Peers.EachPeer(f, func(r *overlay.PeerRow) {
		if !first {
			b = append(b, ',')
		}
		first = false
		if cache == nil {
			cache = h.rowsFor(r)
		}
		row := cache.rows[r.Index].Load()
		if row == nil {
			row, scratch = rowFor(scratch, r.Info())
			cache.rows[r.Index].Store(row)
		}
		b = appendRow(b, row, &r.Status)
	})
	b = append(b, ']')
	if all {
		h.listSize.Store(int64(len(b)))
	}
	res.SwapBody(b)
}
