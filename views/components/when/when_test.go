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

func TestTip(t *testing.T) {
	for _, tt := range []struct {
		name string
		t    time.Time
		want string
	}{
		{"zero is the text alone", time.Time{}, "for good"},
		{"moment in the tooltip", time.Date(2026, 5, 6, 14, 30, 9, 0, time.FixedZone("CEST", 2*3600)),
			`<time datetime="2026-05-06T12:30:09Z" title="2026-05-06 12:30 UTC" data-local-title>for good</time>`},
	} {
		t.Run(tt.name, func(t *testing.T) {
			var b strings.Builder
			if err := Tip(tt.t, "for good").Render(t.Context(), &b); err != nil {
				t.Fatal(err)
			}
			if b.String() != tt.want {
				t.Errorf("got  %s\nwant %s", b.String(), tt.want)
			}
		})
	}
}
