//go:build 386 || arm || mips || mipsle || bbolt

package store

import "log/slog"

// defaultEngine names the engine openDefault opens.
const defaultEngine = "bbolt"

// openDefault is bbolt on 32-bit targets, where Badger builds but fails at
// run time (see README, "Router builds"), and with the build tag bbolt.
func openDefault(opts Options, log *slog.Logger) (engine, error) { return openBolt(opts, log) }
