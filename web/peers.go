package web

import (
	"github.com/edgeward/edgeward/web/internal/httpx"
	"time"

	"github.com/edgeward/edgeward/core"
	"github.com/edgeward/edgeward/core/overlay"
	"github.com/gofiber/fiber/v2"
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

func (a *api_) listPeers(c *fiber.Ctx) error {
	peers := a.d.Overlay.Peers(overlay.Filter{Name: c.Query("name"), IP: c.Query("ip")})
	out := make([]peerJSON, len(peers))
	for i, p := range peers {
		out[i] = toPeerJSON(p, true)
	}
	return ok(c, out)
}

func (a *api_) getPeer(c *fiber.Ctx) error {
	p, err := a.d.Overlay.Peer(c.Params("id"))
	if err != nil {
		return a.fail(c, err)
	}
	return ok(c, toPeerJSON(p, false))
}

type createPeerReq struct {
	Name     *string  `json:"name"`
	WGPubKey *string  `json:"wg_pub_key"`
	Groups   []string `json:"groups"`
}

func (a *api_) createPeer(c *fiber.Ctx) error {
	var req createPeerReq
	if err := httpx.Decode(c, &req); err != nil {
		return a.fail(c, err)
	}
	if req.Name == nil {
		return a.fail(c, core.Invalid("name", "is required"))
	}
	cx, cancel := httpx.Ctx(c)
	defer cancel()
	created, err := a.d.Overlay.CreatePeer(cx, overlay.NewPeer{
		Name: *req.Name, PublicKey: deref(req.WGPubKey), Groups: req.Groups, CreatedBy: httpx.Caller(c).ID})
	if err != nil {
		return a.fail(c, err)
	}
	out := toPeerJSON(created.PeerInfo, false)
	if created.PrivateKey != "" {
		out.PrivateKey = created.PrivateKey
		out.ClientConfig = clientConfig(a.d, created)
	}
	return ok(c, out)
}

// clientConfig is a wg-quick file for a peer whose key the gateway made,
// so the admin can hand it over (or show it as a QR code) in one piece.
func clientConfig(d Deps, p overlay.Created) string {
	cfg := "[Interface]\nPrivateKey = " + p.PrivateKey + "\nAddress = " + p.IP.String() + "/32\n"
	if d.DNS.IsValid() {
		cfg += "DNS = " + d.DNS.String() + "\n"
	}
	if d.GatewayKey != "" {
		allowed := d.Overlay.Network().String()
		routes, _ := d.Overlay.Routes(p.ID)
		for _, r := range routes {
			allowed += ", " + r.String()
		}
		cfg += "\n[Peer]\nPublicKey = " + d.GatewayKey + "\n"
		if p.PresharedKey != "" {
			cfg += "PresharedKey = " + p.PresharedKey + "\n"
		}
		cfg += "AllowedIPs = " + allowed + "\n"
		if d.Endpoint != "" {
			cfg += "Endpoint = " + d.Endpoint + "\nPersistentKeepalive = 25\n"
		} else {
			cfg += "# Endpoint = HOST:PORT of this gateway (start edgeward with --endpoint to fill it in)\n"
		}
	}
	return cfg
}

type updatePeerReq struct {
	Name                        *string `json:"name"`
	SSHEnabled                  *bool   `json:"ssh_enabled"`
	LoginExpirationEnabled      *bool   `json:"login_expiration_enabled"`
	InactivityExpirationEnabled *bool   `json:"inactivity_expiration_enabled"`
	ApprovalRequired            *bool   `json:"approval_required"`
	IP                          *string `json:"ip"`
}

func (a *api_) updatePeer(c *fiber.Ctx) error {
	var req updatePeerReq
	if err := httpx.Decode(c, &req); err != nil {
		return a.fail(c, err)
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
		return a.fail(c, err)
	}
	cx, cancel := httpx.Ctx(c)
	defer cancel()
	p, err := a.d.Overlay.UpdatePeer(cx, c.Params("id"), overlay.PeerUpdate{
		Name: *req.Name, SSHEnabled: *req.SSHEnabled, LoginExpirationEnabled: req.LoginExpirationEnabled,
		InactivityExpirationEnabled: req.InactivityExpirationEnabled, ApprovalRequired: req.ApprovalRequired, IP: req.IP,
	})
	if err != nil {
		return a.fail(c, err)
	}
	return ok(c, toPeerJSON(p, false))
}

func (a *api_) deletePeer(c *fiber.Ctx) error {
	cx, cancel := httpx.Ctx(c)
	defer cancel()
	if err := a.d.Overlay.DeletePeer(cx, c.Params("id")); err != nil {
		return a.fail(c, err)
	}
	return ok(c, fiber.Map{})
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

func (a *api_) accessiblePeers(c *fiber.Ctx) error {
	peers, err := a.d.Overlay.Accessible(c.Params("id"))
	if err != nil {
		return a.fail(c, err)
	}
	out := make([]accessiblePeerJSON, len(peers))
	for i, p := range peers {
		out[i] = accessiblePeerJSON{ID: p.ID, Name: p.Name, IP: p.IP.String(), DNSLabel: p.FQDN,
			UserID: p.CreatedBy, Connected: p.Connected, LastSeen: p.LastSeen}
	}
	return ok(c, out)
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

func (a *api_) tempAccess(c *fiber.Ctx) error {
	var req tempAccessReq
	if err := httpx.Decode(c, &req); err != nil {
		return a.fail(c, err)
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
		return a.fail(c, err)
	}
	cx, cancel := httpx.Ctx(c)
	defer cancel()
	res, err := a.d.Overlay.CreateTempAccess(cx, c.Params("id"), overlay.TempAccess{
		Name: *req.Name, PublicKey: *req.WGPubKey, Rules: req.Rules, CreatedBy: httpx.Caller(c).ID})
	if err != nil {
		return a.fail(c, err)
	}
	return ok(c, tempAccessJSON{Name: res.Name, ID: res.ID, Rules: res.Rules})
}

func deref[T any](p *T) T {
	var zero T
	if p == nil {
		return zero
	}
	return *p
}
