// Package interfaces serves the network-interface dialect under /v2/network:
// the shape of Qumulo's v2 network API (interface and network configs,
// per-node status), backed by core/links, and the session login
// (/v1/session) its clients use to get a bearer token. Writes answer 202
// with a monitor_uri; GETs carry an ETag that PUT, PATCH and DELETE may
// send back as If-Match. Every error, the token check's included, is a
// qError body.
package interfaces

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"strconv"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/edgeward/edgeward/core/links"
	"github.com/edgeward/edgeward/web/internal/httpx"
)

// Config reads the stored interface and network configs.
type Config interface {
	Interfaces(ctx context.Context) []links.Interface
	Interface(id int) (links.Interface, error)
	Networks(id int) ([]links.Network, error)
	Network(id, nid int) (links.Network, error)
	ETag(id int) (string, error)
}

// Status samples how the kernel runs an interface.
type Status interface {
	Status(ctx context.Context, id int) ([]links.NodeStatus, error)
	StatusOf(ctx context.Context, id, nodeID int) (links.NodeStatus, error)
}

// Writer changes the configs. A read-only links service (edgeward started
// without --manage-links) refuses every write with links.ErrReadOnly.
type Writer interface {
	SetInterface(ctx context.Context, id int, p links.InterfacePatch, opts links.WriteOpts) error
	AddNetwork(ctx context.Context, id int, p links.NetworkPatch, opts links.WriteOpts) (int, error)
	SetNetwork(ctx context.Context, id, nid int, p links.NetworkPatch, opts links.WriteOpts) error
	DeleteNetwork(ctx context.Context, id, nid int, opts links.WriteOpts) error
	Confirm(ctx context.Context, id int) error
}

// Links is what the dialect needs of core/links (*links.Service).
type Links interface {
	Config
	Status
	Writer
}

// Deps are what the dialect consumes. The zero Deps is enough to mount
// (and list) the routes, not to serve them.
type Deps struct {
	Log   *slog.Logger
	Links Links
	// Guard checks API tokens (core/auth) on every /v2 route; its
	// refusals are written as qError bodies.
	Guard httpx.Guard
	// Sessions, when not nil, serves /v1/session/login and logout and
	// lets the /v2 routes accept the bearer tokens it issues.
	Sessions Sessions
}

// handler serves the dialect's routes.
type handler struct{ d Deps }

// Mount adds the /v2 routes, /v1/session and a /v2 catch-all answering
// unknown paths in the dialect's shape to r.
func Mount(r fiber.Router, d Deps) {
	if d.Log == nil {
		d.Log = slog.New(slog.DiscardHandler)
	}
	if d.Guard.Log == nil {
		d.Guard.Log = d.Log
	}
	h := &handler{d: d}
	auth := h.authenticate()
	h.sessionRoutes(r.Group("/v1/session"), auth)
	v2 := r.Group("/v2", auth)
	h.routes(v2)
	v2.Use(h.notFound)
}

func (h *handler) routes(r fiber.Router) {
	const one = "/network/interfaces/:interface_id"
	r.Get("/network/interfaces/", h.list)
	r.Get(one, h.get)
	r.Put(one, h.setInterface(true))
	r.Patch(one, h.setInterface(false))
	r.Get(one+"/networks/", h.listNetworks)
	r.Post(one+"/networks/", h.addNetwork)
	r.Get(one+"/networks/:network_id", h.getNetwork)
	r.Put(one+"/networks/:network_id", h.setNetwork(true))
	r.Patch(one+"/networks/:network_id", h.setNetwork(false))
	r.Delete(one+"/networks/:network_id", h.deleteNetwork)
	r.Get(one+"/status/", h.statuses)
	r.Get(one+"/status/:node_id", h.status)
	r.Post(one+"/confirm", h.confirm)
}

type ifaceJSON struct {
	ID                 int    `json:"id"`
	Name               string `json:"name"`
	DefaultGateway     string `json:"default_gateway"`
	DefaultGatewayIPv6 string `json:"default_gateway_ipv6"`
	BondingMode        string `json:"bonding_mode"`
	MTU                int    `json:"mtu"`
}

type ifaceReq struct {
	ID                 *int    `json:"id"`
	Name               *string `json:"name"`
	DefaultGateway     *string `json:"default_gateway"`
	DefaultGatewayIPv6 *string `json:"default_gateway_ipv6"`
	BondingMode        *string `json:"bonding_mode"`
	MTU                *int    `json:"mtu"`
}

type networkJSON struct {
	ID               int      `json:"id"`
	Name             string   `json:"name"`
	AssignedBy       string   `json:"assigned_by"`
	IPRanges         []string `json:"ip_ranges"`
	FloatingIPRanges []string `json:"floating_ip_ranges"`
	Netmask          string   `json:"netmask"`
	DNSServers       []string `json:"dns_servers"`
	DNSSearchDomains []string `json:"dns_search_domains"`
	MTU              int      `json:"mtu"`
	VLANID           int      `json:"vlan_id"`
}

type networkReq struct {
	ID               *int      `json:"id"`
	Name             *string   `json:"name"`
	AssignedBy       *string   `json:"assigned_by"`
	IPRanges         *[]string `json:"ip_ranges"`
	FloatingIPRanges *[]string `json:"floating_ip_ranges"`
	Netmask          *string   `json:"netmask"`
	DNSServers       *[]string `json:"dns_servers"`
	DNSSearchDomains *[]string `json:"dns_search_domains"`
	MTU              *int      `json:"mtu"`
	VLANID           *int      `json:"vlan_id"`
}

type monitorJSON struct {
	MonitorURI string `json:"monitor_uri"`
}

func addrString(a netip.Addr) string {
	if !a.IsValid() {
		return ""
	}
	return a.String()
}

func toIfaceJSON(i links.Interface) ifaceJSON {
	return ifaceJSON{ID: i.ID, Name: i.Name, DefaultGateway: addrString(i.DefaultGateway),
		DefaultGatewayIPv6: addrString(i.DefaultGatewayV6), BondingMode: i.BondingMode, MTU: i.MTU}
}

func list(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

func toNetworkJSON(n links.Network) networkJSON {
	return networkJSON{ID: n.ID, Name: n.Name, AssignedBy: n.AssignedBy, IPRanges: list(n.IPRanges),
		FloatingIPRanges: list(n.FloatingIPRanges), Netmask: n.Netmask, DNSServers: list(n.DNSServers),
		DNSSearchDomains: list(n.DNSSearchDomains), MTU: n.MTU, VLANID: n.VLANID}
}

// idArg parses a numeric path parameter.
func idArg(c *fiber.Ctx, name string) (int, error) {
	raw := c.Params(name)
	n, err := strconv.Atoi(raw)
	if err != nil || n < 0 {
		return 0, qBadArg("%s: %s is not a number", name, httpx.Quote(raw))
	}
	return n, nil
}

// writeOpts reads If-Match, ?confirm_within= and the address the request
// came in on.
func writeOpts(c *fiber.Ctx, replace bool) (links.WriteOpts, error) {
	o := links.WriteOpts{IfMatch: c.Get(fiber.HeaderIfMatch), Replace: replace}
	if raw := c.Query("confirm_within"); raw != "" {
		n, err := strconv.Atoi(raw)
		if err != nil || n < 1 || n > 86400 {
			return o, qBadArg("confirm_within: %s is not a number of seconds from 1 to 86400", httpx.Quote(raw))
		}
		o.ConfirmWithin = time.Duration(n) * time.Second
	}
	if ta, ok := c.Context().LocalAddr().(*net.TCPAddr); ok {
		if a, ok := netip.AddrFromSlice(ta.IP); ok {
			o.ClientAddr = a.Unmap()
		}
	}
	return o, nil
}

func accepted(c *fiber.Ctx, id int) error {
	return c.Status(fiber.StatusAccepted).JSON(monitorJSON{MonitorURI: fmt.Sprintf("/v2/network/interfaces/%d/status/", id)})
}

// etag sets the interface's ETag on a GET.
func (h *handler) etag(c *fiber.Ctx, id int) error {
	tag, err := h.d.Links.ETag(id)
	if err != nil {
		return err
	}
	c.Set(fiber.HeaderETag, tag)
	return nil
}

func (h *handler) list(c *fiber.Ctx) error {
	cx, cancel := httpx.Ctx(c)
	defer cancel()
	out := []ifaceJSON{}
	sum := sha256.New()
	for _, i := range h.d.Links.Interfaces(cx) {
		tag, _ := h.d.Links.ETag(i.ID)
		sum.Write([]byte(tag))
		out = append(out, toIfaceJSON(i))
	}
	c.Set(fiber.HeaderETag, `"`+hex.EncodeToString(sum.Sum(nil)[:16])+`"`)
	return httpx.OK(c, out)
}

func (h *handler) get(c *fiber.Ctx) error {
	id, err := idArg(c, "interface_id")
	if err != nil {
		return h.fail(c, err)
	}
	i, err := h.d.Links.Interface(id)
	if err == nil {
		err = h.etag(c, id)
	}
	if err != nil {
		return h.fail(c, err)
	}
	return httpx.OK(c, toIfaceJSON(i))
}

func (h *handler) setInterface(replace bool) fiber.Handler {
	return func(c *fiber.Ctx) error {
		id, err := idArg(c, "interface_id")
		if err != nil {
			return h.fail(c, err)
		}
		opts, err := writeOpts(c, replace)
		if err != nil {
			return h.fail(c, err)
		}
		var req ifaceReq
		if err := httpx.Decode(c, &req); err != nil {
			return h.fail(c, err)
		}
		cx, cancel := httpx.Ctx(c)
		defer cancel()
		err = h.d.Links.SetInterface(cx, id, links.InterfacePatch{ID: req.ID, Name: req.Name, DefaultGateway: req.DefaultGateway,
			DefaultGatewayV6: req.DefaultGatewayIPv6, BondingMode: req.BondingMode, MTU: req.MTU}, opts)
		if err != nil {
			return h.fail(c, err)
		}
		return accepted(c, id)
	}
}

func (h *handler) confirm(c *fiber.Ctx) error {
	id, err := idArg(c, "interface_id")
	if err != nil {
		return h.fail(c, err)
	}
	cx, cancel := httpx.Ctx(c)
	defer cancel()
	if err := h.d.Links.Confirm(cx, id); err != nil {
		return h.fail(c, err)
	}
	return accepted(c, id)
}

// ifaceArgs parses the interface id and, when name is set, a second id.
func ifaceArgs(c *fiber.Ctx, name string) (id, second int, err error) {
	if id, err = idArg(c, "interface_id"); err != nil || name == "" {
		return id, 0, err
	}
	second, err = idArg(c, name)
	return id, second, err
}
