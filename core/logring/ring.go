// Package logring keeps the gateway's recent log output in memory, as a
// bounded ring of chunks, so that a debug bundle can include "the N most
// recent log files" without the gateway ever writing logs to flash, which
// wears out.
//
// A Ring is an io.Writer: put it behind a slog handler (alone or through
// io.MultiWriter). slog handlers write each record with a single Write call,
// and a Ring never splits one Write across chunks, so every chunk holds whole
// records.
package logring

import "sync"

// Ring is an io.Writer that retains at most a fixed number of chunks of
// roughly chunkSize bytes each, dropping the oldest chunk when a new one is
// needed. The newest chunk is the one being written to.
//
// Memory is bounded by chunks × chunkSize, except that a single Write larger
// than chunkSize is kept whole as its own chunk.
//
// A Ring is safe for concurrent use. The zero value is not usable; create one
// with New.
type Ring struct {
	chunkSize int
	max       int

	mu     sync.Mutex
	chunks [][]byte // oldest first; the last is the current chunk; none empty
}

// New returns an empty Ring that keeps up to chunks chunks of chunkSize
// bytes. It panics if either is not positive, which is a programmer error.
func New(chunkSize, chunks int) *Ring {
	if chunkSize < 1 || chunks < 1 {
		panic("logring: chunkSize and chunks must be positive")
	}
	return &Ring{chunkSize: chunkSize, max: chunks, chunks: make([][]byte, 0, chunks)}
}

// Write appends a copy of p to the current chunk. When p does not fit in
// the room left in a non-empty current chunk, that chunk is closed and p
// starts a new one, so p is never split; the oldest chunk is dropped when
// that would exceed the chunk limit. p is not retained. Write always returns
// len(p), nil.
func (r *Ring) Write(p []byte) (int, error) {
	if len(p) == 0 {
		return 0, nil
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if n := len(r.chunks); n == 0 || len(r.chunks[n-1])+len(p) > r.chunkSize {
		r.startChunk(len(p))
	}
	last := len(r.chunks) - 1
	r.chunks[last] = append(r.chunks[last], p...)
	return len(p), nil
}

// startChunk appends an empty chunk with room for at least need bytes,
// evicting the oldest chunk when the ring is full. r.mu must be held.
func (r *Ring) startChunk(need int) {
	var buf []byte
	if len(r.chunks) == r.max {
		old := r.chunks[0]
		copy(r.chunks, r.chunks[1:])
		r.chunks = r.chunks[:len(r.chunks)-1]
		// Reuse the evicted buffer unless it came from an oversized
		// write: keeping that one would pin its memory for good.
		if cap(old) <= r.chunkSize && cap(old) >= need {
			buf = old[:0]
		}
	}
	if buf == nil {
		buf = make([]byte, 0, max(r.chunkSize, need))
	}
	r.chunks = append(r.chunks, buf)
}

// Chunks returns copies of the n most recent chunks, oldest first; the last
// one is the chunk still being written to. It returns every chunk when n
// exceeds what the ring holds, and nil when n < 1 or nothing was written.
// The caller owns the result: changing it does not affect the ring.
func (r *Ring) Chunks(n int) [][]byte {
	if n < 1 {
		return nil
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	src := r.chunks[max(len(r.chunks)-n, 0):]
	if len(src) == 0 {
		return nil
	}
	out := make([][]byte, len(src))
	for i, c := range src {
		out[i] = append([]byte(nil), c...)
	}
	return out
}
