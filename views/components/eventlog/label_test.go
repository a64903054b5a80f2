package eventlog

import (
	"testing"

	"github.com/edgeward/edgeward/core/events"
)

func TestLabel(t *testing.T) {
	tests := []struct {
		name, kind, want string
	}{
		{"known", string(events.PointBanned), "Address blocked"},
		{"interface", string(events.LinkConfigRolledBack), "Change rolled back"},
		{"unknown reads as words", "ban_added", "Ban added"},
		{"empty", "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Label(tt.kind); got != tt.want {
				t.Errorf("Label(%q) = %q, want %q", tt.kind, got, tt.want)
			}
		})
	}
}
