package sparkline

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"
)

func TestSparkline(t *testing.T) {
	tests := []struct {
		name       string
		p          Props
		wantPoints string
		wantLabel  string
		wantClass  string
	}{
		{"idle", Props{Step: 10 * time.Second, Slots: 30}, "0,15 60,15", "No traffic over the last 5 min", "spark spark-idle"},
		{"full window", Props{Step: 10 * time.Second, Samples: []int{0, 1000, 500}},
			"0.0,15.0 30.0,1.0 60.0,8.0", "Traffic over the last 1 min: now 4.0 kbit/s, peak 8.0 kbit/s", "spark"},
		{"short series sits right", Props{Step: 10 * time.Second, Slots: 5, Samples: []int{200, 100}},
			"45.0,1.0 60.0,8.0", "Traffic over the last 1 min: now 800 bit/s, peak 1.6 kbit/s", "spark"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var b strings.Builder
			if err := Sparkline(tt.p).Render(context.Background(), &b); err != nil {
				t.Fatal(err)
			}
			doc, err := goquery.NewDocumentFromReader(strings.NewReader(b.String()))
			if err != nil {
				t.Fatal(err)
			}
			svg := doc.Find("svg")
			pts, _ := svg.Find("polyline").Attr("points")
			label, _ := svg.Attr("aria-label")
			class, _ := svg.Attr("class")
			if pts != tt.wantPoints || label != tt.wantLabel || class != tt.wantClass || svg.Find("title").Text() != tt.wantLabel {
				t.Errorf("points %q label %q class %q title %q\nwant %q %q %q", pts, label, class, svg.Find("title").Text(),
					tt.wantPoints, tt.wantLabel, tt.wantClass)
			}
		})
	}
}
