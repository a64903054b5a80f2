//go:build !(386 || arm || mips || mipsle || bbolt)

package store

import "log/slog"

// defaultEngine names the engine openDefault opens.
const defaultEngine = "badger"

// openDefault is Badger on 64-bit targets, where it is tested upstream.
func openDefault(opts Options, log *slog.Logger) (engine, error) { return openBadger(opts, log) }
