package badge

import (
	"strings"
	"testing"
)

func TestBadge(t *testing.T) {
	for _, tt := range []struct {
		name string
		p    Props
		want string
	}{
		{"good", Props{Tone: Good, Text: "Connected"}, `<span class="badge badge-good">Connected</span>`},
		{"zero tone is muted", Props{Text: "Never"}, `<span class="badge badge-muted">Never</span>`},
		{"test id, text escaped", Props{Tone: Bad, Text: "<Down>", TestID: "link"},
			`<span class="badge badge-bad" data-testid="link">&lt;Down&gt;</span>`},
	} {
		t.Run(tt.name, func(t *testing.T) {
			var b strings.Builder
			if err := Badge(tt.p).Render(t.Context(), &b); err != nil {
				t.Fatal(err)
			}
			if b.String() != tt.want {
				t.Errorf("got  %s\nwant %s", b.String(), tt.want)
			}
		})
	}
}
