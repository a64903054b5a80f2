// Package core holds edgeward's domain rules and the ports they need.
//
// It knows nothing of HTTP, templates, netlink or nftables: the packages under
// core implement peers, policies, tokens and jobs, and declare the small
// interfaces (storage, firewall, links) that core/store and hw implement.
package core
