package sparkline

import (
	"strconv"
	"strings"
	"time"

	"github.com/edgeward/edgeward/views/components/graph"
)

// Size of the drawing in SVG units; CSS sets its size on the page.
const (
	Width  = 60
	Height = 16
)

// Props is one peer's recent traffic: Samples are rates in bytes per
// second, oldest first, Step apart; nil or empty draws a flat line (no
// traffic in the window). TestID marks it for tests ("" for none).
type Props struct {
	Samples []int
	Step    time.Duration
	// Slots is how many samples a full window holds, so that a short
	// series sits at the right; 0 means len(Samples).
	Slots  int
	TestID string
}

func (p Props) slots() int { return max(p.Slots, len(p.Samples), 2) }

// Peak is the highest sample.
func (p Props) Peak() int {
	peak := 0
	for _, v := range p.Samples {
		peak = max(peak, v)
	}
	return peak
}

// Label is the sparkline in words: "Traffic over the last 5 min: now
// 12.4 kbit/s, peak 1.2 Mbit/s", or "No traffic over the last 5 min".
func (p Props) Label() string {
	span := "last " + strconv.Itoa(int((time.Duration(p.slots())*p.Step).Round(time.Minute)/time.Minute)) + " min"
	if p.Peak() == 0 {
		return "No traffic over the " + span
	}
	return "Traffic over the " + span + ": now " + graph.Rate(p.Samples[len(p.Samples)-1]) + ", peak " + graph.Rate(p.Peak())
}

// Points is the polyline, scaled to the peak with a unit of headroom so
// the line's top stays inside the box.
func (p Props) Points() string {
	slots := p.slots()
	if len(p.Samples) == 0 {
		return "0," + strconv.Itoa(Height-1) + " " + strconv.Itoa(Width) + "," + strconv.Itoa(Height-1)
	}
	peak := float64(max(p.Peak(), 1))
	first := slots - len(p.Samples)
	var b strings.Builder
	for i, v := range p.Samples {
		if i > 0 {
			b.WriteByte(' ')
		}
		x := float64(first+i) * Width / float64(slots-1)
		y := (Height - 1) - float64(v)/peak*(Height-2)
		b.WriteString(strconv.FormatFloat(x, 'f', 1, 64))
		b.WriteByte(',')
		b.WriteString(strconv.FormatFloat(y, 'f', 1, 64))
	}
	return b.String()
}
