package main

import (
	"context"
	"os"
	"runtime"
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

// trimSlack is how much heap past the collector's goal a quiet process
// may keep before trimMemory hands it back at once.
const trimSlack = 16 << 20

// trimMemory collects once the box goes quiet (no collection for an
// interval since the last one it did not follow), and then hands freed heap
// back to the kernel at once if the heap holds more than trimSlack past
// the collector's goal. The runtime collects only as allocation goes on,
// and its scavenger returns memory only down to the goal of the last busy
// moment, so after a bulk ban of 100,000 (about 100 MB of short-lived
// garbage) an idle box kept tens of MiB for good. Handing back everything
// holds the heap lock for milliseconds, so it is done only when there is
// that much to hand back, not after every quiet spell.
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
			runtime.GC()
			runtime.GC()
			if heldPastGoal() > trimSlack {
				debug.FreeOSMemory()
			}
			last, trimmed = gcCycles(), true
		}
	}
}

// heldPastGoal is the heap the process holds from the kernel beyond the
// collector's goal for the live heap; right after a collection.
func heldPastGoal() int64 {
	s := []metrics.Sample{
		{Name: "/memory/classes/heap/objects:bytes"},
		{Name: "/memory/classes/heap/unused:bytes"},
		{Name: "/memory/classes/heap/free:bytes"},
		{Name: "/gc/heap/live:bytes"},
	}
	metrics.Read(s)
	var v [4]int64
	for i := range s {
		if s[i].Value.Kind() != metrics.KindUint64 {
			return 0
		}
		v[i] = int64(s[i].Value.Uint64())
	}
	live := v[3]
	return v[0] + v[1] + v[2] - live - live*gcPercent/100
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
