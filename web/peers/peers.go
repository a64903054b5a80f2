package peers

import (
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/edgeward/edgeward/core"
	"github.com/edgeward/edgeward/core/overlay"
	"github.com/edgeward/edgeward/web/internal/httpx"
)

// peerJSON is the seed's Peer (and, with AccessiblePeersCount, PeerBatch).
// Peers here are plain WireGuard devices: the agent-reported fields (os,
// versions, location, serial) are empty because nothing reports them.
type peerJSON struct {
	ID                          string         `json:"id"`
	Name                        string         `json:"name"`
	CreatedAt                   time.Time      `json:"created_at"`
	IP                          string         `json:"ip"`
	ConnectionIP                string         `json:"connection_ip"`
	Connected                   bool           `json:"connected"`
	LastSeen                    time.Time      `json:"last_seen"`
	OS                          string         `json:"os"`
	KernelVersion               string         `json:"kernel_version"`
	GeonameID                   int            `json:"geoname_id"`
	Version                     string         `json:"version"`
	Groups                      []groupMinJSON `json:"groups"`
	SSHEnabled                  bool           `json:"ssh_enabled"`
	UserID                      string         `json:"user_id"`
	Hostname                    string         `json:"hostname"`
	UIVersion                   string         `json:"ui_version"`
	DNSLabel                    string         `json:"dns_label"`
	LoginExpirationEnabled      bool           `json:"login_expiration_enabled"`
	LoginExpired                bool           `json:"login_expired"`
	LastLogin                   time.Time      `json:"last_login"`
	InactivityExpirationEnabled bool           `json:"inactivity_expiration_enabled"`
	ApprovalRequired            bool           `json:"approval_required"`
	DisapprovalReason           string         `json:"disapproval_reason,omitempty"`
	CountryCode                 string         `json:"country_code"`
	CityName                    string         `json:"city_name"`
	SerialNumber                string         `json:"serial_number"`
	ExtraDNSLabels              []string       `json:"extra_dns_labels"`
	Ephemeral                   bool           `json:"ephemeral"`
	LocalFlags                  localFlagsJSON `json:"local_flags"`
	AccessiblePeersCount        *int           `json:"accessible_peers_count,omitempty"`
	WGPubKey                    string         `json:"wg_pub_key"`
	PrivateKey                  string         `json:"wg_private_key,omitempty"`
	ClientConfig                string         `json:"client_config,omitempty"`
}

type localFlagsJSON struct {
	RosenpassEnabled     bool `json:"rosenpass_enabled"`
	RosenpassPermissive  bool `json:"rosenpass_permissive"`
	ServerSSHAllowed     bool `json:"server_ssh_allowed"`
	DisableClientRoutes  bool `json:"disable_client_routes"`
	DisableServerRoutes  bool `json:"disable_server_routes"`
	DisableDNS           bool `json:"disable_dns"`
	DisableFirewall      bool `json:"disable_firewall"`
	BlockLANAccess       bool `json:"block_lan_access"`
	BlockInbound         bool `json:"block_inbound"`
	LazyConnectionEnable bool `json:"lazy_connection_enabled"`
}

type groupMinJSON struct {
	ID             string `json:"id"`
	Name           string `json:"name"`
	PeersCount     int    `json:"peers_count"`
	ResourcesCount int    `json:"resources_count"`
	Issued         string `json:"issued"`
}

func toPeerJSON(p overlay.PeerInfo, batch bool) peerJSON {
	out := peerJSON{
		ID: p.ID, Name: p.Name, CreatedAt: p.CreatedAt, IP: p.IP.String(), Connected: p.Connected,
		LastSeen: p.LastSeen, Groups: make([]groupMinJSON, len(p.Groups)), SSHEnabled: p.SSHEnabled,
		UserID: p.CreatedBy, Hostname: p.Name, DNSLabel: p.FQDN,
		LoginExpirationEnabled: p.LoginExpirationEnabled, LastLogin: p.CreatedAt,
		InactivityExpirationEnabled: p.InactivityExpirationEnabled, ApprovalRequired: p.ApprovalRequired,
		ExtraDNSLabels: []string{}, Ephemeral: p.Ephemeral, WGPubKey: p.PublicKey,
	}
	if p.Endpoint.IsValid() {
		out.ConnectionIP = p.Endpoint.Addr().String()
	}
	if p.ApprovalRequired {
		out.DisapprovalReason = "waiting for an admin to approve the peer"
	}
	for i, g := range p.Groups {
		out.Groups[i] = groupMinJSON(g)
	}
	if batch {
		n := p.AccessibleCount
		out.AccessiblePeersCount = &n
	}
	return out
}

func (h *handler) listPeers(c *fiber.Ctx) error {
	h.writePeerList(c, overlay.Filter{Name: c.Query("name"), IP: c.Query("ip")})
	return nil
}

func (h *handler) getPeer(c *fiber.Ctx) error {
	p, err := h.d.Peers.Peer(c.Params("id"))
	if err != nil {
		return h.fail(c, err)
	}
	return httpx.OK(c, toPeerJSON(p, false))
}

type createPeerReq struct {
	Name     *string  `json:"name"`
	WGPubKey *string  `json:"wg_pub_key"`
	Groups   []string `json:"groups"`
}

func (h *handler) createPeer(c *fiber.Ctx) error {
	var req createPeerReq
	if err := httpx.Decode(c, &req); err != nil {
		return h.fail(c, err)
	}
	if req.Name == nil {
		return h.fail(c, core.Invalid("name", "is required"))
	}
	cx, cancel := httpx.Ctx(c)
	defer cancel()
	created, err := h.d.Peers.CreatePeer(cx, overlay.NewPeer{
		Name: *req.Name, PublicKey: deref(req.WGPubKey), Groups: req.Groups, CreatedBy: httpx.Caller(c).ID})
	if err != nil {
		return h.fail(c, err)
	}
	out := toPeerJSON(created.PeerInfo, false)
	if created.PrivateKey != "" {
		out.PrivateKey = created.PrivateKey
		out.ClientConfig = h.d.Access.ClientConfig(created, h.d.Gateway)
		httpx.NoStore(c)
	}
	return httpx.OK(c, out)
}

// updatePeerReq is the original's PeerRequest. Every field goes to the
// core, which refuses what the gateway cannot honour (ipv6, turning
// expiration on) rather than letting it drop silently.
type updatePeerReq struct {
	Name                        *string `json:"name"`
	SSHEnabled                  *bool   `json:"ssh_enabled"`
	LoginExpirationEnabled      *bool   `json:"login_expiration_enabled"`
	InactivityExpirationEnabled *bool   `json:"inactivity_expiration_enabled"`
	ApprovalRequired            *bool   `json:"approval_required"`
	IP                          *string `json:"ip"`
	IPv6                        *string `json:"ipv6"`
}

func (h *handler) updatePeer(c *fiber.Ctx) error {
	var req updatePeerReq
	if err := httpx.Decode(c, &req); err != nil {
		return h.fail(c, err)
	}
	v := &core.ValidationError{}
	for _, f := range []struct {
		name    string
		missing bool
	}{
		{"name", req.Name == nil},
		{"ssh_enabled", req.SSHEnabled == nil},
		{"login_expiration_enabled", req.LoginExpirationEnabled == nil},
		{"inactivity_expiration_enabled", req.InactivityExpirationEnabled == nil},
	} {
		if f.missing {
			v.Add(f.name, "is required")
		}
	}
	if err := v.Err(); err != nil {
		return h.fail(c, err)
	}
	cx, cancel := httpx.Ctx(c)
	defer cancel()
	p, err := h.d.Peers.UpdatePeer(cx, c.Params("id"), overlay.PeerUpdate{
		Name: *req.Name, SSHEnabled: *req.SSHEnabled, LoginExpirationEnabled: req.LoginExpirationEnabled,
		InactivityExpirationEnabled: req.InactivityExpirationEnabled, ApprovalRequired: req.ApprovalRequired, IP: req.IP, IPv6: req.IPv6,
	})
	if err != nil {
		return h.fail(c, err)
	}
	return httpx.OK(c, toPeerJSON(p, false))
}

func (h *handler) deletePeer(c *fiber.Ctx) error {
	cx, cancel := httpx.Ctx(c)
	defer cancel()
	if err := h.d.Peers.DeletePeer(cx, c.Params("id")); err != nil {
		return h.fail(c, err)
	}
	return httpx.OK(c, fiber.Map{})
}

type accessiblePeerJSON struct {
	ID          string    `json:"id"`
	Name        string    `json:"name"`
	IP          string    `json:"ip"`
	DNSLabel    string    `json:"dns_label"`
	UserID      string    `json:"user_id"`
	OS          string    `json:"os"`
	CountryCode string    `json:"country_code"`
	CityName    string    `json:"city_name"`
	GeonameID   int       `json:"geoname_id"`
	Connected   bool      `json:"connected"`
	LastSeen    time.Time `json:"last_seen"`
}

func (h *handler) accessiblePeers(c *fiber.Ctx) error {
	peers, err := h.d.Access.Accessible(c.Params("id"))
	if err != nil {
		return h.fail(c, err)
	}
	out := make([]accessiblePeerJSON, len(peers))
	for i, p := range peers {
		out[i] = accessiblePeerJSON{ID: p.ID, Name: p.Name, IP: p.IP.String(), DNSLabel: p.FQDN,
			UserID: p.CreatedBy, Connected: p.Connected, LastSeen: p.LastSeen}
	}
	return httpx.OK(c, out)
}

type tempAccessReq struct {
	Name     *string  `json:"name"`
	WGPubKey *string  `json:"wg_pub_key"`
	Rules    []string `json:"rules"`
}

type tempAccessJSON struct {
	Name  string   `json:"name"`
	ID    string   `json:"id"`
	Rules []string `json:"rules"`
}

func (h *handler) tempAccess(c *fiber.Ctx) error {
	var req tempAccessReq
	if err := httpx.Decode(c, &req); err != nil {
		return h.fail(c, err)
	}
	v := &core.ValidationError{}
	if req.Name == nil {
		v.Add("name", "is required")
	}
	// The response has no place for a private key, so the API never asks
	// the core to generate one: an empty key is as good as none.
	if req.WGPubKey == nil || *req.WGPubKey == "" {
		v.Add("wg_pub_key", "is required")
	}
	if req.Rules == nil {
		v.Add("rules", "is required")
	}
	if err := v.Err(); err != nil {
		return h.fail(c, err)
	}
	cx, cancel := httpx.Ctx(c)
	defer cancel()
	res, err := h.d.Access.CreateTempAccess(cx, c.Params("id"), overlay.TempAccess{
		Name: *req.Name, PublicKey: *req.WGPubKey, Rules: req.Rules, CreatedBy: httpx.Caller(c).ID})
	if err != nil {
		return h.fail(c, err)
	}
	// It grants a key access: no cache keeps that answer.
	httpx.NoStore(c)
	return httpx.OK(c, tempAccessJSON{Name: res.Name, ID: res.ID, Rules: res.Rules})
}
