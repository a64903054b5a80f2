//go:build !(386 || arm || mips || mipsle || bbolt)

package store

import (
	"bytes"
	"log/slog"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestSlogLogger(t *testing.T) {
	tests := []struct {
		name string
		log  func(l slogLogger)
		want string
	}{
		{"error", func(l slogLogger) { l.Errorf("disk %s\n", "full") }, "level=ERROR msg=\"disk full\" engine=badger\n"},
		{"warning", func(l slogLogger) { l.Warningf("slow %d", 3) }, "level=WARN msg=\"slow 3\" engine=badger\n"},
		{"info dropped", func(l slogLogger) { l.Infof("flushed %d", 1) }, ""},
		{"debug dropped", func(l slogLogger) { l.Debugf("x") }, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var buf bytes.Buffer
			h := slog.NewTextHandler(&buf, &slog.HandlerOptions{
				Level: slog.LevelDebug,
				// Drop the time so the line is stable.
				ReplaceAttr: func(_ []string, a slog.Attr) slog.Attr {
					if a.Key == slog.TimeKey {
						return slog.Attr{}
					}
					return a
				},
			})
			tt.log(slogLogger{log: slog.New(h)})
			if diff := cmp.Diff(tt.want, buf.String()); diff != "" {
				t.Errorf("log output (-want +got):\n%s", diff)
			}
		})
	}
}
