package graph

import (
	"math"
	"strconv"
	"strings"
	"time"
)

// Height of the plot in SVG units; its width is the number of slots less
// one, so that a point's x is its slot and both coordinates are short
// integers (the two lines of an hour are most of the page's bytes). CSS
// stretches it to the page (the lines keep their width: non-scaling
// strokes). The labels are HTML around it, so they stay readable at any
// width.
const Height = 1000

// Ticks is how many intervals each axis has: five labels per axis.
const Ticks = 4

// Sample is one point of the graph: received and sent, in bytes per second.
type Sample struct {
	Rx, Tx int
}

// Props is a traffic graph over Slots evenly spaced points Step apart,
// the newest at the right; Samples fill the rightmost slots (fewer than
// Slots right after start).
type Props struct {
	Samples []Sample
	Slots   int
	Step    time.Duration
}

// Peak is the highest rate of either direction.
func (p Props) Peak() int {
	peak := 0
	for _, s := range p.Samples {
		peak = max(peak, s.Rx, s.Tx)
	}
	return peak
}

// Current is the newest sample; zero before the first.
func (p Props) Current() Sample {
	if len(p.Samples) == 0 {
		return Sample{}
	}
	return p.Samples[len(p.Samples)-1]
}

// Top is the y axis' upper end in bytes per second: the peak rounded up
// to a round number of bits per second (1, 2, 2.5 or 5 times a power of
// ten per tick), so the ticks read "0, 5, 10, 15, 20 Mbit/s". An idle box
// gets 1 kbit/s.
func (p Props) Top() float64 {
	bits := max(float64(p.Peak())*8, 1000)
	return niceStep(bits/Ticks) * Ticks / 8
}

// niceStep is the smallest of 1, 2, 2.5, 5 or 10 times a power of ten that
// is at least x.
func niceStep(x float64) float64 {
	exp := math.Pow(10, math.Floor(math.Log10(x)))
	for _, f := range []float64{1, 2, 2.5, 5} {
		// A tolerance for x already round ("5" computed as 4.999…).
		if f*exp >= x*(1-1e-9) {
			return f * exp
		}
	}
	return 10 * exp
}

// YTicks are the y axis' labels, top first.
func (p Props) YTicks() []string {
	top := p.Top() * 8
	out := make([]string, Ticks+1)
	for i := range out {
		out[i] = Bits(top * float64(Ticks-i) / Ticks)
	}
	return out
}

// XTicks are the time axis' labels, oldest first: "-60 min" … "now".
func (p Props) XTicks() []string {
	span := time.Duration(max(p.Slots-1, 1)) * p.Step
	out := make([]string, Ticks+1)
	for i := range out {
		ago := span * time.Duration(Ticks-i) / Ticks
		switch {
		case i == Ticks:
			out[i] = "now"
		case ago >= time.Minute:
			out[i] = "-" + strconv.Itoa(int(ago.Round(time.Minute)/time.Minute)) + " min"
		default:
			out[i] = "-" + strconv.Itoa(int(ago.Round(time.Second)/time.Second)) + " s"
		}
	}
	return out
}

// Span is what the graph covers, in words ("60 min").
func (p Props) Span() string {
	return strings.TrimPrefix(p.XTicks()[0], "-")
}

// Width is the plot's width in SVG units: one per slot interval.
func (p Props) Width() int { return max(p.Slots, len(p.Samples), 2) - 1 }

// Points is the SVG polyline of one direction, scaled to Top.
func (p Props) Points(tx bool) string {
	top := p.Top()
	b := make([]byte, 0, len(p.Samples)*len("359,1000 "))
	first := p.Width() + 1 - len(p.Samples)
	for i, s := range p.Samples {
		v := s.Rx
		if tx {
			v = s.Tx
		}
		if i > 0 {
			b = append(b, ' ')
		}
		b = strconv.AppendInt(b, int64(first+i), 10)
		b = append(b, ',')
		b = strconv.AppendInt(b, int64(Height-int(math.Round(float64(v)/top*Height))), 10)
	}
	return string(b)
}

// Grid is the path of the grid lines: one across per rate tick, one down
// per time tick.
func (p Props) Grid() string {
	var b strings.Builder
	w := p.Width()
	for i := range Ticks + 1 {
		b.WriteString("M0 " + strconv.Itoa(i*Height/Ticks) + "H" + strconv.Itoa(w))
		b.WriteString("M" + ftoa(float64(i*w)/Ticks) + " 0V" + strconv.Itoa(Height))
	}
	return b.String()
}

// Rate formats bytes per second as bits per second, as network admins
// read link rates: "0 bit/s", "840 bit/s", "12.4 kbit/s", "1.2 Gbit/s".
func Rate(bytesPerSec int) string {
	bits := float64(bytesPerSec) * 8
	for _, u := range units {
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

// Bits formats an axis tick, bits per second, without trailing zeros:
// "0", "250 bit/s", "2.5 Mbit/s", "10 Gbit/s".
func Bits(bits float64) string {
	if bits <= 0 {
		return "0"
	}
	for _, u := range units {
		if bits >= u.div {
			return strconv.FormatFloat(math.Round(bits/u.div*100)/100, 'f', -1, 64) + " " + u.unit
		}
	}
	return strconv.FormatFloat(math.Round(bits), 'f', -1, 64) + " bit/s"
}

var units = []struct {
	div  float64
	unit string
}{{1e9, "Gbit/s"}, {1e6, "Mbit/s"}, {1e3, "kbit/s"}}

// ftoa is a number for an SVG or data attribute.
func ftoa(v float64) string { return strconv.FormatFloat(v, 'f', -1, 64) }
