package graph

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"
	"github.com/google/go-cmp/cmp"
)

func TestRate(t *testing.T) {
	for in, want := range map[int]string{0: "0 bit/s", 105: "840 bit/s", 1550: "12.4 kbit/s",
		125_000_000: "1.0 Gbit/s", 15_000_000: "120 Mbit/s", 1 << 30: "8.6 Gbit/s"} {
		if got := Rate(in); got != want {
			t.Errorf("Rate(%d) = %q, want %q", in, got, want)
		}
	}
}

func TestBits(t *testing.T) {
	for in, want := range map[float64]string{0: "0", 250: "250 bit/s", 2500: "2.5 kbit/s", 5e6: "5 Mbit/s",
		12.5e6: "12.5 Mbit/s", 1e10: "10 Gbit/s"} {
		if got := Bits(in); got != want {
			t.Errorf("Bits(%v) = %q, want %q", in, got, want)
		}
	}
}

// TestAxes: the rate axis ends at a round number at or above the peak,
// in four even ticks; the time axis spans the slots.
func TestAxes(t *testing.T) {
	hour := Props{Slots: 360, Step: 10 * time.Second}
	tests := []struct {
		name   string
		peak   int // bytes per second
		wantY  []string
		wantXs []string
	}{
		{"idle", 0, []string{"1 kbit/s", "750 bit/s", "500 bit/s", "250 bit/s", "0"}, nil},
		{"20 Mbit/s exactly", 2_500_000, []string{"20 Mbit/s", "15 Mbit/s", "10 Mbit/s", "5 Mbit/s", "0"}, nil},
		{"just over", 2_500_001, []string{"40 Mbit/s", "30 Mbit/s", "20 Mbit/s", "10 Mbit/s", "0"}, nil},
		{"7 Mbit/s", 875_000, []string{"8 Mbit/s", "6 Mbit/s", "4 Mbit/s", "2 Mbit/s", "0"}, nil},
		{"gigabit", 110_000_000, []string{"1 Gbit/s", "750 Mbit/s", "500 Mbit/s", "250 Mbit/s", "0"}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := hour
			p.Samples = []Sample{{Rx: tt.peak}, {Tx: tt.peak / 2}}
			if diff := cmp.Diff(tt.wantY, p.YTicks()); diff != "" {
				t.Errorf("y ticks (-want +got):\n%s", diff)
			}
			if p.Top() < float64(tt.peak) {
				t.Errorf("top %v under the peak %d", p.Top(), tt.peak)
			}
		})
	}
	if diff := cmp.Diff([]string{"-60 min", "-45 min", "-30 min", "-15 min", "now"}, Props{Slots: 361, Step: 10 * time.Second}.XTicks()); diff != "" {
		t.Errorf("hour ticks (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{"-40 s", "-30 s", "-20 s", "-10 s", "now"}, Props{Slots: 5, Step: 10 * time.Second}.XTicks()); diff != "" {
		t.Errorf("short ticks (-want +got):\n%s", diff)
	}
}

func TestPoints(t *testing.T) {
	// 100 B/s is 800 bit/s: the axis tops at 1 kbit/s, 125 B/s.
	p := Props{Slots: 5, Samples: []Sample{{Rx: 0, Tx: 50}, {Rx: 100, Tx: 0}}}
	if p.Peak() != 100 || p.Top() != 125 {
		t.Errorf("peak %d, top %v", p.Peak(), p.Top())
	}
	// Two samples fill the two rightmost of five slots: x 3 and 4.
	if got, want := p.Points(false), "3,1000 4,200"; got != want {
		t.Errorf("rx points %q, want %q", got, want)
	}
	if got, want := p.Points(true), "3,600 4,1000"; got != want {
		t.Errorf("tx points %q, want %q", got, want)
	}
	if got, want := p.Grid(), "M0 0H4M0 0V1000M0 250H4M1 0V1000M0 500H4M2 0V1000M0 750H4M3 0V1000M0 1000H4M4 0V1000"; got != want {
		t.Errorf("grid %q, want %q", got, want)
	}
	// No traffic at all: a flat line on the axis, no division by zero.
	idle := Props{Slots: 3, Samples: []Sample{{}, {}, {}}}
	if got := idle.Points(false); got != "0,1000 1,1000 2,1000" || strings.Contains(got, "NaN") {
		t.Errorf("idle points %q", got)
	}
}

// TestTrafficRenders: the figure carries both axes' labels, the legend's
// current values and what the hover readout needs.
func TestTrafficRenders(t *testing.T) {
	p := Props{Slots: 361, Step: 10 * time.Second, Samples: []Sample{{Rx: 2_000_000, Tx: 10_000}, {Rx: 1_250_000, Tx: 125_000}}}
	var b strings.Builder
	if err := Traffic(p).Render(context.Background(), &b); err != nil {
		t.Fatal(err)
	}
	doc, err := goquery.NewDocumentFromReader(strings.NewReader(b.String()))
	if err != nil {
		t.Fatal(err)
	}
	texts := func(sel string) []string {
		return doc.Find(sel).Map(func(_ int, s *goquery.Selection) string { return s.Text() })
	}
	if diff := cmp.Diff([]string{"20 Mbit/s", "15 Mbit/s", "10 Mbit/s", "5 Mbit/s", "0"}, texts(`[data-testid="graph-ytick"]`)); diff != "" {
		t.Errorf("y ticks (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{"-60 min", "-45 min", "-30 min", "-15 min", "now"}, texts(`[data-testid="graph-xtick"]`)); diff != "" {
		t.Errorf("x ticks (-want +got):\n%s", diff)
	}
	got := strings.Join(texts(`[data-testid="graph-rx-now"], [data-testid="graph-tx-now"], [data-testid="graph-peak"]`), " | ")
	if got != "10.0 Mbit/s | 1.0 Mbit/s | 16.0 Mbit/s" {
		t.Errorf("legend %q", got)
	}
	svg := doc.Find("svg")
	for attr, want := range map[string]string{"data-graph-top": "2500000", "data-graph-step": "10", "viewBox": "0 0 360 1000"} {
		if v, _ := svg.Attr(attr); v != want {
			t.Errorf("%s=%q, want %q", attr, v, want)
		}
	}
	if strings.Contains(b.String(), "style=") {
		t.Error("inline style: the CSP refuses it")
	}
}
