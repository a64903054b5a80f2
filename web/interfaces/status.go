package interfaces

import (
	"github.com/edgeward/edgeward/web/internal/httpx"
	"strconv"

	"github.com/edgeward/edgeward/core/links"
	"github.com/gofiber/fiber/v2"
)

// nodeStatusJSON is api_interface_network_statuses.
type nodeStatusJSON struct {
	NodeID           int                 `json:"node_id"`
	NodeName         string              `json:"node_name"`
	UpdateStatus     string              `json:"update_status"`
	InterfaceDetails detailsJSON         `json:"interface_details"`
	InterfaceStatus  ifaceStatusJSON     `json:"interface_status"`
	NetworkStatuses  []networkStatusJSON `json:"network_statuses"`
}

type detailsJSON struct {
	Speed         int    `json:"speed"`
	BytesSent     string `json:"bytes_sent"`
	BytesReceived string `json:"bytes_received"`
	CableStatus   string `json:"cable_status"`
	// InterfaceStatus is UP, DOWN or MISSING: the original's clients
	// (and scripts filtering on interface_status=UP) know no other value.
	InterfaceStatus string `json:"interface_status"`
	MACAddress      string `json:"mac_address"`
	Timestamp       string `json:"timestamp"`
	// OperState is the kernel's operstate as it is (UNKNOWN for WireGuard,
	// LOWERLAYERDOWN, ...), an edgeward extension.
	OperState string `json:"operstate"`
}

type ifaceStatusJSON struct {
	InterfaceID        int    `json:"interface_id"`
	Name               string `json:"name"`
	DefaultGateway     string `json:"default_gateway"`
	DefaultGatewayIPv6 string `json:"default_gateway_ipv6"`
	BondingMode        string `json:"bonding_mode"`
	MTU                int    `json:"mtu"`
}

type networkStatusJSON struct {
	Name              string   `json:"name"`
	AssignedBy        string   `json:"assigned_by"`
	Address           string   `json:"address"`
	FloatingAddresses []string `json:"floating_addresses"`
	DNSServers        []string `json:"dns_servers"`
	DNSSearchDomains  []string `json:"dns_search_domains"`
	Netmask           string   `json:"netmask"`
	MTU               int      `json:"mtu"`
	VLANID            int      `json:"vlan_id"`
}

func toNodeStatusJSON(s links.NodeStatus) nodeStatusJSON {
	i := toIfaceJSON(s.Interface)
	out := nodeStatusJSON{NodeID: s.NodeID, NodeName: s.NodeName, UpdateStatus: s.UpdateStatus,
		InterfaceDetails: detailsJSON{Speed: s.Details.SpeedMbps, BytesSent: strconv.FormatUint(s.Details.BytesSent, 10),
			BytesReceived: strconv.FormatUint(s.Details.BytesReceived, 10), CableStatus: s.Details.CableStatus,
			InterfaceStatus: s.Details.State, MACAddress: s.Details.MAC,
			Timestamp: strconv.FormatInt(s.Details.SampledAt.Unix(), 10), OperState: s.Details.OperState},
		InterfaceStatus: ifaceStatusJSON{InterfaceID: i.ID, Name: i.Name, DefaultGateway: i.DefaultGateway,
			DefaultGatewayIPv6: i.DefaultGatewayIPv6, BondingMode: i.BondingMode, MTU: i.MTU},
		NetworkStatuses: []networkStatusJSON{}}
	for _, n := range s.Networks {
		out.NetworkStatuses = append(out.NetworkStatuses, networkStatusJSON{Name: n.Name, AssignedBy: n.AssignedBy,
			Address: n.Address, FloatingAddresses: list(n.FloatingAddresses), DNSServers: list(n.DNSServers),
			DNSSearchDomains: list(n.DNSSearchDomains), Netmask: n.Netmask, MTU: n.MTU, VLANID: n.VLANID})
	}
	return out
}

func (h *handler) statuses(c *fiber.Ctx) error {
	id, _, err := ifaceArgs(c, "")
	if err != nil {
		return h.fail(c, err)
	}
	cx, cancel := httpx.Ctx(c)
	defer cancel()
	sts, err := h.d.Links.Status(cx, id)
	if err == nil {
		err = h.etag(c, id)
	}
	if err != nil {
		return h.fail(c, err)
	}
	out := make([]nodeStatusJSON, 0, len(sts))
	for _, s := range sts {
		out = append(out, toNodeStatusJSON(s))
	}
	return httpx.OK(c, out)
}

func (h *handler) status(c *fiber.Ctx) error {
	id, node, err := ifaceArgs(c, "node_id")
	if err != nil {
		return h.fail(c, err)
	}
	cx, cancel := httpx.Ctx(c)
	defer cancel()
	s, err := h.d.Links.StatusOf(cx, id, node)
	if err == nil {
		err = h.etag(c, id)
	}
	if err != nil {
		return h.fail(c, err)
	}
	return httpx.OK(c, toNodeStatusJSON(s))
}
