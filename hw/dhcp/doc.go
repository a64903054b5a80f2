// Package dhcp is the DHCPv4 client of one uplink: it gets, renews and
// releases a lease and makes the kernel match it (the address with a finite
// lifetime, which is how the rest of the appliance tells DHCP addresses from
// static ones, and the default route via the lease's router). DNS servers and
// search domains go to a callback; the resolver file is written elsewhere.
//
// The protocol is github.com/insomniacslk/dhcp's nclient4; addresses and
// routes go through rtnetlink. Only Linux is supported: elsewhere New
// returns core.ErrUnsupported.
package dhcp
