//go:build !(linux || darwin)

package durable

import (
	"fmt"

	"github.com/edgeward/edgeward/core"
)

// Free is not measured on this system.
func Free(path string) (uint64, error) {
	return 0, fmt.Errorf("free space of %s: %w", path, core.ErrUnsupported)
}

func isENOSPC(error) bool { return false }
