//go:build 386 || arm || mips || mipsle || bbolt

package store

import (
	"io"
	"testing"

	"github.com/edgeward/edgeward/core"
)

// loadBadger cannot run where Badger is not built; the suite runs on bbolt
// here, so restore never calls it.
func loadBadger(t *testing.T, _ io.Reader) core.KV {
	t.Fatal("no Badger on 32-bit targets")
	return nil
}
