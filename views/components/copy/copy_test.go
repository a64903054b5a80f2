package copy

import (
	"strings"
	"testing"
)

func TestButton(t *testing.T) {
	for _, tt := range []struct{ label, want string }{
		{"", `<button type="button" class="btn btn-small btn-secondary" data-copy="#conf" data-testid="copy-conf" hidden>Copy</button>`},
		{"Copy config", `<button type="button" class="btn btn-small btn-secondary" data-copy="#conf" data-testid="copy-conf" hidden>Copy config</button>`},
	} {
		var b strings.Builder
		if err := Button("conf", tt.label).Render(t.Context(), &b); err != nil {
			t.Fatal(err)
		}
		if b.String() != tt.want {
			t.Errorf("label %q:\ngot  %s\nwant %s", tt.label, b.String(), tt.want)
		}
	}
}
