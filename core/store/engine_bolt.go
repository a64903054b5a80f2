//go:build 386 || arm || mips || mipsle || bbolt

package store

import (
	"io"
	"log/slog"
)

// defaultEngine names the engine openDefault opens.
const defaultEngine = "bbolt"

// openDefault is bbolt on 32-bit targets, where Badger builds but fails at
// run time (see README, "Router builds"), and with the build tag bbolt.
func openDefault(opts Options, log *slog.Logger) (engine, error) { return openBolt(opts, log) }

// restoreDefault writes a bbolt backup into place.
func restoreDefault(opts Options, r io.Reader, log *slog.Logger) (engine, error) {
	return restoreBolt(opts, r, log)
}
