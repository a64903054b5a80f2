//go:build !linux

// Package netns runs code inside another network namespace.
package netns

import "github.com/edgeward/edgeward/core"

// Do runs fn where it is called; other namespaces are Linux-only.
func Do(fd int, fn func() error) error {
	if fd != 0 {
		return core.ErrUnsupported
	}
	return fn()
}
