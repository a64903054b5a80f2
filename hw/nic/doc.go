// Package nic reads and configures the router's network interfaces. NIC
// implements links.Kernel over rtnetlink (links, counters, addresses,
// default routes) and ethtool netlink (speed, duplex, link detection), in
// the caller's network namespace or another one; Traffic feeds the traffic
// sampler from the same link dump, without the reads it does not need.
// Snapshot reads the caller's namespace for debug bundles. All of it is
// Linux-only; elsewhere every call returns core.ErrUnsupported.
package nic
