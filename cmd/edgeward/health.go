package main

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"path/filepath"

	"github.com/edgeward/edgeward/core"
	"github.com/edgeward/edgeward/core/acl"
)

// healthKey is read by the health check; it never exists, so a read
// proves the store answers without touching any record.
const healthKey = "health/probe"

// health is /healthz's check: the store answers a read, and the firewall
// table is installed when the kernel firewall is enabled (fw opened).
// That the API serves is shown by the answer itself.
func health(db core.KV, guard *acl.Service, firewall bool) func(ctx context.Context) error {
	return func(ctx context.Context) error {
		err := db.View(ctx, func(tx core.Tx) error {
			_, err := tx.Get([]byte(healthKey))
			if errors.Is(err, core.ErrNotFound) {
				return nil
			}
			return err
		})
		if err != nil {
			return fmt.Errorf("read store: %w", err)
		}
		if firewall {
			if e := guard.Enforcement(); !e.Applied {
				return fmt.Errorf("firewall table not installed: %s", e.Reason)
			}
		}
		return nil
	}
}

// dirSize is the size in bytes of the files under dir, whatever the store
// backend keeps there; 0 when it cannot be read.
func dirSize(dir string) func() int64 {
	return func() int64 {
		var n int64
		_ = filepath.WalkDir(dir, func(_ string, d fs.DirEntry, err error) error {
			if err != nil || d.IsDir() {
				return nil
			}
			if fi, err := d.Info(); err == nil {
				n += fi.Size()
			}
			return nil
		})
		return n
	}
}
