package web

import (
	"strings"
	"testing"

	"github.com/PuerkitoBio/goquery"
	"github.com/google/go-cmp/cmp"

	"github.com/edgeward/edgeward/core/dataplane"
	"github.com/edgeward/edgeward/core/tunnel/tunneltest"
)

// TestUIPoliciesSayWhetherEnforced: the policies page claims that what no
// policy accepts is dropped only when the kernel filter runs.
func TestUIPoliciesSayWhetherEnforced(t *testing.T) {
	for _, tc := range []struct {
		name     string
		plane    func(t *testing.T, e *uiEnv)
		enforced bool
		why      string
	}{
		{"no plane", func(*testing.T, *uiEnv) {}, false, "no WireGuard data plane in this process"},
		{"no device", func(t *testing.T, e *uiEnv) {
			plane := dataplane.New(e.ov, nil, nil, dataplane.Config{Interface: "wg0", Unavailable: "no CAP_NET_ADMIN"})
			e.rebuild(func(d *Deps) { d.Plane = plane })
		}, false, "no CAP_NET_ADMIN"},
		{"no filter", func(t *testing.T, e *uiEnv) {
			plane := dataplane.New(e.ov, tunneltest.NewDevice(), nil, dataplane.Config{Interface: "wg0"})
			e.rebuild(func(d *Deps) { d.Plane = plane })
		}, false, "policies are not enforced: the kernel filter is unavailable"},
		{"enforced", func(t *testing.T, e *uiEnv) { e.runningPlane(t) }, true, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newUIEnv(t)
			tc.plane(t, e)
			b := e.browser(t)
			e.setUp(t, b)
			p := b.get("/policies")
			if got := p.has("policy-enforced"); got != tc.enforced {
				t.Errorf("claims enforcement: %v, want %v", got, tc.enforced)
			}
			if got := p.text("policy-unenforced"); !tc.enforced && !strings.Contains(got, tc.why) {
				t.Errorf("unenforced note %q, want it to say %q", got, tc.why)
			}
		})
	}
}

// TestUIPeersSparklines: with a data plane each row of the peers table has
// its recent traffic as a sparkline named in words, in its own column, in
// the full page and in the table's poll; without one the column is left
// out rather than shown empty.
func TestUIPeersSparklines(t *testing.T) {
	for _, withPlane := range []bool{true, false} {
		e := newUIEnv(t)
		if withPlane {
			e.runningPlane(t)
		}
		b := e.browser(t)
		e.setUp(t, b)
		e.addPeer(t, "laptop")
		e.addPeer(t, "phone")
		for _, p := range []page{b.get("/peers"), b.get("/peers", "HX-Request", "true", "HX-Target", "peers-table")} {
			var labels []string
			p.doc.Find(`[data-testid="peer-row"] td[data-label="Last 5 min"] svg[data-testid="peer-spark"]`).Each(func(_ int, s *goquery.Selection) {
				labels = append(labels, s.AttrOr("aria-label", ""))
			})
			heading := p.doc.Find(`[data-testid="peers-table"] th:contains("Last 5 min")`).Length() == 1
			want := []string(nil)
			if withPlane {
				want = []string{"No traffic over the last 5 min", "No traffic over the last 5 min"}
			}
			if diff := cmp.Diff(want, labels); diff != "" || heading != withPlane {
				t.Errorf("plane %v: column heading %v, sparklines (-want +got):\n%s", withPlane, heading, diff)
			}
		}
	}
}
