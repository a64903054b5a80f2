package nft

import (
	"errors"
	"fmt"

	"github.com/google/nftables"
	"golang.org/x/sys/unix"
)

// Remove deletes table inet edgeward, everything edgeward put in the
// kernel's firewall, from the namespace netnsFD (0: the caller's), for an
// uninstall or a workstation after a test run. It reports whether there
// was a table; removing an absent table is not an error. No Firewall may
// be running there: it would put the table back. Without CAP_NET_ADMIN it
// returns an error matching core.ErrPermission.
func Remove(netnsFD int) (removed bool, err error) {
	var opts []nftables.ConnOption
	if netnsFD != 0 {
		opts = append(opts, nftables.WithNetNSFd(netnsFD))
	}
	c, err := nftables.New(opts...)
	if err != nil {
		return false, fmt.Errorf("open nftables socket: %w", mapErr(err))
	}
	tables, err := c.ListTablesOfFamily(nftables.TableFamilyINet)
	if err != nil {
		return false, fmt.Errorf("list tables: %w", mapErr(err))
	}
	for _, t := range tables {
		if t.Name != TableName {
			continue
		}
		c.DelTable(t)
		err := c.Flush()
		if errors.Is(err, unix.ENOENT) {
			return false, nil // removed meanwhile by someone else
		}
		if err != nil {
			return false, fmt.Errorf("delete table inet %s: %w", TableName, mapErr(err))
		}
		return true, nil
	}
	return false, nil
}
