//go:build !(386 || arm || mips || mipsle || bbolt)

package store

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
)

// slogLogger implements badger.Logger over slog. Badger's own level option
// only filters its default stderr logger, so the filtering happens here:
// INFO and DEBUG (table flushes, compactions, replay progress) are dropped
// to keep a router's small log buffer for what matters.
type slogLogger struct {
	log *slog.Logger
}

func (l slogLogger) Errorf(format string, args ...any) {
	l.emit(slog.LevelError, format, args)
}

func (l slogLogger) Warningf(format string, args ...any) {
	l.emit(slog.LevelWarn, format, args)
}

func (slogLogger) Infof(string, ...any)  {}
func (slogLogger) Debugf(string, ...any) {}

func (l slogLogger) emit(level slog.Level, format string, args []any) {
	// Badger logs from background goroutines that have no context.
	ctx := context.Background()
	if !l.log.Enabled(ctx, level) {
		return
	}
	// Badger's formats often end in a newline, which slog would keep.
	msg := strings.TrimSpace(fmt.Sprintf(format, args...))
	l.log.Log(ctx, level, msg, "engine", "badger")
}
