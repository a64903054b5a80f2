//go:build !(386 || arm || mips || mipsle || bbolt)

package store

import (
	"io"
	"log/slog"
)

// defaultEngine names the engine openDefault opens.
const defaultEngine = "badger"

// openDefault is Badger on 64-bit targets, where it is tested upstream.
func openDefault(opts Options, log *slog.Logger) (engine, error) { return openBadger(opts, log) }

// restoreDefault loads a Badger backup stream.
func restoreDefault(opts Options, r io.Reader, log *slog.Logger) (engine, error) {
	return restoreBadger(opts, r, log)
}
