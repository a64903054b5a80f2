package main

import (
	"context"
	"runtime/metrics"
	"sync"
	"testing"
	"time"
)

// heapHeld is the heap the process holds from the kernel: its objects,
// live or not yet collected, and the free memory it has not handed back.
func heapHeld() uint64 {
	s := []metrics.Sample{
		{Name: "/memory/classes/heap/objects:bytes"},
		{Name: "/memory/classes/heap/unused:bytes"},
		{Name: "/memory/classes/heap/free:bytes"},
	}
	metrics.Read(s)
	return s[0].Value.Uint64() + s[1].Value.Uint64() + s[2].Value.Uint64()
}

var trimSink [][]byte

// TestTrimMemoryHandsBackAfterQuiet drops 64 MiB of garbage with no
// collection after it, as a bulk ban does, and waits for the trimmer to
// hand it back; then, with nothing allocated, it must not collect again.
func TestTrimMemoryHandsBackAfterQuiet(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	t.Cleanup(func() { cancel(); wg.Wait() })

	for range 64 {
		trimSink = append(trimSink, make([]byte, 1<<20))
	}
	trimSink = nil
	held := heapHeld()
	if held < 64<<20 {
		t.Fatalf("the heap holds %d bytes after 64 MiB were allocated", held)
	}
	const interval = 20 * time.Millisecond
	wg.Go(func() { trimMemory(ctx, interval) })
	awaitFor(t, 10*time.Second, "the garbage handed back", func() bool {
		return heapHeld() <= held-32<<20
	})

	// Quiet from now on: one trim per quiet spell, so the count of
	// collections stays put over many intervals.
	awaitFor(t, 10*time.Second, "no collection over 10 intervals", func() bool {
		n := gcCycles()
		time.Sleep(10 * interval)
		return gcCycles() == n
	})
}
