package card

import (
	"context"
	"io"
	"strings"
	"testing"

	"github.com/a-h/templ"
)

func TestCard(t *testing.T) {
	body := templ.ComponentFunc(func(_ context.Context, w io.Writer) error {
		_, err := io.WriteString(w, `<p>inside</p>`)
		return err
	})
	for _, tt := range []struct {
		name string
		p    Props
		want string
	}{
		{"title only", Props{Title: "System"},
			`<section class="card"><header class="card-head"><h2>System</h2></header><p>inside</p></section>`},
		{"help and test id", Props{Title: "Peers", Help: "Devices that connect.", TestID: "peers"},
			`<section class="card" data-testid="peers"><header class="card-head"><h2>Peers</h2><p class="help">Devices that connect.</p></header><p>inside</p></section>`},
	} {
		t.Run(tt.name, func(t *testing.T) {
			var b strings.Builder
			if err := Card(tt.p).Render(templ.WithChildren(t.Context(), body), &b); err != nil {
				t.Fatal(err)
			}
			if b.String() != tt.want {
				t.Errorf("got  %s\nwant %s", b.String(), tt.want)
			}
		})
	}
}
