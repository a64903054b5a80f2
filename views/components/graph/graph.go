package graph

import (
	"strconv"
	"strings"
)

// Size of the drawing in SVG units; CSS scales it to the page's width.
const (
	Width  = 720
	Height = 160
)

// Sample is one point of the graph: received and sent, in bytes per second.
type Sample struct {
	Rx, Tx int
}

// Props is a traffic graph over Slots evenly spaced points, the newest at
// the right; Samples fill the rightmost slots (fewer than Slots right after
// start). Span labels the left edge ("60 min ago").
type Props struct {
	Samples []Sample
	Slots   int
	Span    string
}

// Peak is the highest rate of either direction.
func (p Props) Peak() int {
	peak := 0
	for _, s := range p.Samples {
		peak = max(peak, s.Rx, s.Tx)
	}
	return peak
}

// Points is the SVG polyline of one direction.
func (p Props) Points(tx bool) string {
	slots := max(p.Slots, len(p.Samples), 2)
	peak := float64(max(p.Peak(), 1))
	var b strings.Builder
	b.Grow(len(p.Samples) * len("720.0,160.0 "))
	first := slots - len(p.Samples)
	for i, s := range p.Samples {
		v := s.Rx
		if tx {
			v = s.Tx
		}
		x := float64(first+i) * Width / float64(slots-1)
		// A little headroom so the peak's line stays visible.
		y := Height - float64(v)/peak*(Height-4)
		if i > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(strconv.FormatFloat(x, 'f', 1, 64))
		b.WriteByte(',')
		b.WriteString(strconv.FormatFloat(y, 'f', 1, 64))
	}
	return b.String()
}

// Rate formats bytes per second as bits per second, as network admins
// read link rates: "0 bit/s", "840 bit/s", "12.4 kbit/s", "1.2 Gbit/s".
func Rate(bytesPerSec int) string {
	bits := float64(bytesPerSec) * 8
	for _, u := range []struct {
		div  float64
		unit string
	}{{1e9, "Gbit/s"}, {1e6, "Mbit/s"}, {1e3, "kbit/s"}} {
		if bits >= u.div {
			v := bits / u.div
			prec := 1
			if v >= 100 {
				prec = 0
			}
			return strconv.FormatFloat(v, 'f', prec, 64) + " " + u.unit
		}
	}
	return strconv.Itoa(int(bits)) + " bit/s"
}
