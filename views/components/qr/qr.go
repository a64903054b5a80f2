package qr

import (
	"strconv"
	"strings"

	encoder "rsc.io/qr"
)

// quiet is the blank margin around the code, in modules: scanners need
// four (ISO/IEC 18004).
const quiet = 4

// matrix is an encoded QR code ready to draw.
type matrix struct {
	size int    // modules on a side, quiet zone included
	path string // SVG path of the dark modules
}

// encode draws text at error-correction level M, which survives a glare
// or a smudged screen and still holds any wg-quick file (a version-40
// code takes 2,331 bytes).
func encode(text string) (matrix, error) {
	c, err := encoder.Encode(text, encoder.M)
	if err != nil {
		return matrix{}, err
	}
	var b strings.Builder
	// One rectangle per horizontal run of dark modules keeps the path a
	// few kilobytes.
	for y := 0; y < c.Size; y++ {
		for x := 0; x < c.Size; {
			if !c.Black(x, y) {
				x++
				continue
			}
			n := 1
			for c.Black(x+n, y) {
				n++
			}
			b.WriteString("M" + strconv.Itoa(x+quiet) + " " + strconv.Itoa(y+quiet) +
				"h" + strconv.Itoa(n) + "v1h-" + strconv.Itoa(n) + "z")
			x += n
		}
	}
	return matrix{size: c.Size + 2*quiet, path: b.String()}, nil
}

func (m matrix) viewBox() string {
	return "0 0 " + strconv.Itoa(m.size) + " " + strconv.Itoa(m.size)
}

// Props configures a code. Label is its accessible name; TestID its
// data-testid ("qr" when empty).
type Props struct {
	Text   string
	Label  string
	TestID string
}

func (p Props) testID() string {
	if p.TestID == "" {
		return "qr"
	}
	return p.TestID
}
