package overlay

import (
	"net/netip"
	"strings"
)

// Gateway is what a client config says about the gateway a peer dials.
type Gateway struct {
	// PublicKey is the gateway's WireGuard public key; empty leaves the
	// [Peer] section out (the process runs without a data plane).
	PublicKey string
	// Endpoint is the gateway's host:port as peers dial it; empty writes
	// a commented placeholder the admin fills in.
	Endpoint string
	// DNS, when valid, is the overlay's resolver.
	DNS netip.Addr
}

// ClientConfig is a wg-quick file for a peer whose key the gateway made,
// so it can be handed over (or shown as a QR code) in one piece: the
// peer's key and address, and the gateway with every network the peer may
// reach through it. A peer with no private key (it brought its own public
// key) gets "". Safe for concurrent use.
func (s *Service) ClientConfig(p Created, gw Gateway) string {
	if p.PrivateKey == "" {
		return ""
	}
	var b strings.Builder
	b.WriteString("[Interface]\nPrivateKey = " + p.PrivateKey + "\nAddress = " + p.IP.String() + "/32\n")
	if gw.DNS.IsValid() {
		b.WriteString("DNS = " + gw.DNS.String() + "\n")
	}
	if gw.PublicKey == "" {
		return b.String()
	}
	allowed := []string{s.Network().String()}
	// A peer deleted meanwhile has no routes; the overlay alone still
	// describes the config that was made for it.
	routes, _ := s.Routes(p.ID)
	for _, r := range routes {
		allowed = append(allowed, r.String())
	}
	b.WriteString("\n[Peer]\nPublicKey = " + gw.PublicKey + "\n")
	if p.PresharedKey != "" {
		b.WriteString("PresharedKey = " + p.PresharedKey + "\n")
	}
	b.WriteString("AllowedIPs = " + strings.Join(allowed, ", ") + "\n")
	if gw.Endpoint != "" {
		b.WriteString("Endpoint = " + gw.Endpoint + "\nPersistentKeepalive = 25\n")
	} else {
		b.WriteString("# Endpoint = HOST:PORT of this gateway (start edgeward with --endpoint to fill it in)\n")
	}
	return b.String()
}
