//go:build !linux

package nic

import (
	"context"

	"github.com/edgeward/edgeward/core"
)

// Counters is a link's traffic counters as the kernel keeps them.
type Counters struct {
	RxBytes, TxBytes, RxPackets, TxPackets, RxErrors, TxErrors, RxDropped, TxDropped uint64
}

// LinkSnapshot is one link at one moment.
type LinkSnapshot struct{}

// Snapshot is Linux-only.
func (n *NIC) Snapshot(context.Context) ([]LinkSnapshot, error) { return nil, core.ErrUnsupported }
