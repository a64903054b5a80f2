package core

import (
	"context"
	"time"
)

// Every calls fn every interval until ctx is done or fn returns false.
// It is the one loop behind the appliance's periodic work (sweeps,
// samples, store GC).
func Every(ctx context.Context, interval time.Duration, fn func() bool) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			if !fn() {
				return
			}
		}
	}
}
