//go:build 386 || arm || mips || mipsle

package store

import "log/slog"

// openDefault is bbolt on 32-bit targets: Badger builds there but fails at
// run time (see README, "Targets").
// defaultEngine names the engine openDefault opens.
const defaultEngine = "bbolt"

func openDefault(opts Options, log *slog.Logger) (engine, error) { return openBolt(opts, log) }
