//go:build !linux

package nft

import (
	"context"

	"github.com/edgeward/edgeward/core"
)

// TableName is the one table edgeward owns.
const TableName = "edgeward"

// Ruleset is Linux-only.
func Ruleset(ctx context.Context, netnsFD int) ([]byte, error) { return nil, core.ErrUnsupported }
