// Package dns is the DNS server the gateway runs on its overlay address for
// the WireGuard peers (github.com/miekg/dns, UDP and TCP).
//
// Names under the overlay's domain are answered authoritatively, and only
// to peers the policy lets reach the named peer: to anyone else the name
// does not exist, so that a denied peer cannot even learn who is there.
// Every other name is forwarded to the upstream resolvers the gateway
// itself uses (ResolvConf reads them), over the transport the question
// came on.
//
// Sockets are created in the network namespace the caller names and keep
// it for life. On Linux the listening sockets use IP_FREEBIND, so the
// server can start before the WireGuard interface has its address; other
// systems bind plainly, and the address must exist.
package dns
