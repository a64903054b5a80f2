//go:build linux || darwin

package durable

import (
	"errors"
	"fmt"
	"syscall"
)

// Free is the bytes an unprivileged writer may still use on the
// filesystem holding path (statfs f_bavail: root's reserved blocks, which
// edgeward may not use on every box, are left out).
func Free(path string) (uint64, error) {
	var st syscall.Statfs_t
	if err := syscall.Statfs(path, &st); err != nil {
		return 0, fmt.Errorf("statfs %s: %w", path, err)
	}
	return uint64(st.Bavail) * uint64(st.Bsize), nil
}

func isENOSPC(err error) bool { return errors.Is(err, syscall.ENOSPC) }
