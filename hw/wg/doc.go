// Package wg runs the gateway's WireGuard interface and implements
// tunnel.Device on it.
//
// The interface is either the kernel's (a link of kind wireguard, created
// or adopted over rtnetlink) or an embedded wireguard-go device on a TUN
// interface, for kernels without the module. Both live in the network
// namespace they are given, UDP sockets included, and both answer the
// standard configuration protocol, so that wg(8) and wgctrl see the same
// device whichever runs: the kernel's over generic netlink, the embedded
// one over the UAPI socket /var/run/wireguard/<name>.sock. Peers are
// configured through wgctrl in both cases, one peer at a time, never by a
// rewrite of the whole device.
//
// A kernel link outlives the daemon, as the nftables table does: Close
// leaves it and its peers, and the next Open adopts it. The embedded
// device lives in the daemon's process and goes with it.
//
// All of it is Linux-only; elsewhere Open returns an error.
package wg
