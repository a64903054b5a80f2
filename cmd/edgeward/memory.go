package main

import (
	"context"
	"os"
	"runtime/debug"
	"runtime/metrics"
	"strconv"
	"strings"
	"time"
)

// gcPercent is the collector's target when GOGC is not set: the heap may
// grow by half of what is live before a collection, not by all of it as
// Go's default lets it. A router has no room for the difference (about
// 40 MiB with 10,000 peers and 100,000 bans), and the hot paths allocate
// little, so the extra collections cost little.
const gcPercent = 50

// tuneMemory sets the collector for a small box, unless the operator set
// GOGC or GOMEMLIMIT.
func tuneMemory() {
	if _, set := os.LookupEnv("GOGC"); !set {
		debug.SetGCPercent(gcPercent)
	}
	if _, set := os.LookupEnv("GOMEMLIMIT"); !set {
		debug.SetMemoryLimit(memoryLimit())
	}
}

// memoryLimit is the soft heap limit: 96 MiB, or a quarter of the box's
// memory when that is more. A fixed small limit is right for a router with
// a few hundred peers; past it (the embedded WireGuard device holds about
// 30 KB a peer) a limit below the live heap has the collector run without
// pause, which cost half the throughput with 10,000 peers.
func memoryLimit() int64 {
	const floor = 96 << 20
	b, err := os.ReadFile("/proc/meminfo")
	if err != nil {
		return floor
	}
	for line := range strings.Lines(string(b)) {
		if rest, ok := strings.CutPrefix(line, "MemTotal:"); ok {
			kb, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 10, 64)
			if err == nil && kb*1024/4 > floor {
				return kb * 1024 / 4
			}
		}
	}
	return floor
}

// trimMemory hands unused heap back to the kernel once the box goes
// quiet: when no collection ran for an interval since the last one it
// did not trim after. The runtime collects only as allocation goes on and
// its scavenger returns memory only down to the goal of the last busy
// moment, so after a bulk ban of 100,000 (about 100 MB of short-lived
// garbage) an idle box kept tens of MiB for good. Two forced collections
// per quiet spell is cheap next to that on a router; a busy box collects
// by itself and is left alone.
func trimMemory(ctx context.Context, interval time.Duration) {
	t := time.NewTicker(interval)
	defer t.Stop()
	last, trimmed := gcCycles(), false
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		switch n := gcCycles(); {
		case n != last:
			last, trimmed = n, false
		case !trimmed:
			// Twice: sync.Pool keeps what it holds through one collection,
			// and fasthttp pools the buffers of closed connections there.
			debug.FreeOSMemory()
			debug.FreeOSMemory()
			last, trimmed = gcCycles(), true
		}
	}
}

// gcCycles counts the collections so far.
func gcCycles() uint64 {
	s := []metrics.Sample{{Name: "/gc/cycles/total:gc-cycles"}}
	metrics.Read(s)
	if s[0].Value.Kind() != metrics.KindUint64 {
		return 0
	}
	return s[0].Value.Uint64()
}
