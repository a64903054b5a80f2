// Package nft programs and reads edgeward's own nftables table, inet
// edgeward, and implements acl.Firewall and tunnel.Filter on it
// (google/nftables v0.3.0 over one long-lived netlink socket).
//
// For the ACL the table holds the base chain pre (filter, prerouting, priority -310:
// after defragmentation, before conntrack), and these sets: trust4/6 and
// bannet4/6 (interval), ban4/6 and banport4/6 (address, or address and
// port, with per-element timeouts), grey4/6 (greylist, also fed by the
// kernel), meter4/6 and wgmeter4/6 (per-source rate meters) and
// nogrey4/6 (interval: never metered). Chain pre accepts loopback and
// trusted sources, drops banned ones, drops greylisted ones on the guarded
// ports, and drops a source's WireGuard initiations above the rate. Chain
// meter (prerouting, -190, after conntrack) counts each TCP connection to
// a guarded port once its handshake completed (ct status assured; ct mark
// bit 0x40000000 records it was counted) and greylists a source above the
// rate: spoofed SYNs never count.
//
// For the overlay's policies (once InstallPolicy ran) it holds three more
// base chains: ovfwd (forward) lets through replies and exactly what the
// policy's rules accept between group member sets g<N> and resource sets
// r<N>, and drops anything else from or to the overlay interface; ovin
// (input) opens the gateway's own services to the overlay and nothing
// else; ovnat (postrouting) masquerades overlay traffic leaving through
// another link. An ACL Install re-queues the policy, so a repair of one
// never drops the other.
//
// No other table is ever touched, and the table is not deleted on Close,
// so that it keeps enforcing while the daemon restarts.
package nft
