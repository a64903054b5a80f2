package when

import (
	"strings"
	"testing"
	"time"
)

func TestTime(t *testing.T) {
	berlin := time.FixedZone("CEST", 2*3600)
	for _, tt := range []struct {
		name string
		t    time.Time
		want string
	}{
		{"zero renders nothing", time.Time{}, ""},
		{"written in UTC", time.Date(2026, 5, 6, 14, 30, 9, 0, berlin),
			`<time datetime="2026-05-06T12:30:09Z" data-local>2026-05-06 12:30 UTC</time>`},
	} {
		t.Run(tt.name, func(t *testing.T) {
			var b strings.Builder
			if err := Time(tt.t).Render(t.Context(), &b); err != nil {
				t.Fatal(err)
			}
			if b.String() != tt.want {
				t.Errorf("got  %s\nwant %s", b.String(), tt.want)
			}
		})
	}
}
