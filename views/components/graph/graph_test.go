package graph

import (
	"strings"
	"testing"
)

func TestRate(t *testing.T) {
	for in, want := range map[int]string{0: "0 bit/s", 105: "840 bit/s", 1550: "12.4 kbit/s",
		125_000_000: "1.0 Gbit/s", 15_000_000: "120 Mbit/s", 1 << 30: "8.6 Gbit/s"} {
		if got := Rate(in); got != want {
			t.Errorf("Rate(%d) = %q, want %q", in, got, want)
		}
	}
}

func TestPoints(t *testing.T) {
	p := Props{Slots: 5, Samples: []Sample{{Rx: 0, Tx: 50}, {Rx: 100, Tx: 0}}}
	if p.Peak() != 100 {
		t.Errorf("peak %d", p.Peak())
	}
	// Two samples fill the two rightmost of five slots: x 540 and 720;
	// the peak sits 4 units under the top.
	if got, want := p.Points(false), "540.0,160.0 720.0,4.0"; got != want {
		t.Errorf("rx points %q, want %q", got, want)
	}
	if got, want := p.Points(true), "540.0,82.0 720.0,160.0"; got != want {
		t.Errorf("tx points %q, want %q", got, want)
	}
	// No traffic at all: a flat line on the axis, no division by zero.
	idle := Props{Slots: 3, Samples: []Sample{{}, {}, {}}}
	if got := idle.Points(false); got != "0.0,160.0 360.0,160.0 720.0,160.0" || strings.Contains(got, "NaN") {
		t.Errorf("idle points %q", got)
	}
}
