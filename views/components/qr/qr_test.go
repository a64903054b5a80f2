package qr

import (
	"bytes"
	"context"
	"image"
	"image/color"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/PuerkitoBio/goquery"
	"github.com/makiuchi-d/gozxing"
	zxqr "github.com/makiuchi-d/gozxing/qrcode"
)

// wgConfig is a wg-quick file as long as the ones the gateway generates
// with an endpoint, a little over 300 bytes.
const wgConfig = `[Interface]
PrivateKey = yAnz5TF+lXXJte14tji3zlMNq+hd2rYUIgJBgB3fBmk=
Address = 100.64.0.23/32

[Peer]
PublicKey = xTIBA5rboUvnH4htodjb6e697QjLERt1NAB4mZqp8Dg=
AllowedIPs = 100.64.0.0/10
Endpoint = gateway.example.net:51820
PersistentKeepalive = 25
# a comment line that makes the file as long as real ones get
`

// run is one "M{x} {y}h{n}v1h-{n}z" rectangle of the path.
var run = regexp.MustCompile(`^M(\d+) (\d+)h(\d+)v1h-(\d+)z`)

// rasterize draws the rendered SVG the way a browser would, scale pixels
// per module, from nothing but its viewBox and path.
func rasterize(t *testing.T, svg *goquery.Selection, scale int) (image.Image, int) {
	t.Helper()
	vb, _ := svg.Attr("viewBox")
	f := strings.Fields(vb)
	if len(f) != 4 || f[0] != "0" || f[1] != "0" || f[2] != f[3] {
		t.Fatalf("viewBox %q is not a square from 0 0", vb)
	}
	size, _ := strconv.Atoi(f[2])
	img := image.NewGray(image.Rect(0, 0, size*scale, size*scale))
	for i := range img.Pix {
		img.Pix[i] = 0xff
	}
	d, _ := svg.Find("path").Attr("d")
	for d != "" {
		m := run.FindStringSubmatch(d)
		if m == nil || m[3] != m[4] {
			t.Fatalf("path does not continue with a run: %.40q", d)
		}
		x, _ := strconv.Atoi(m[1])
		y, _ := strconv.Atoi(m[2])
		n, _ := strconv.Atoi(m[3])
		for px := x * scale; px < (x+n)*scale; px++ {
			for py := y * scale; py < (y+1)*scale; py++ {
				img.SetGray(px, py, color.Gray{})
			}
		}
		d = d[len(m[0]):]
	}
	return img, size
}

func render(t *testing.T, p Props) *goquery.Document {
	t.Helper()
	var b bytes.Buffer
	if err := Code(p).Render(context.Background(), &b); err != nil {
		t.Fatal(err)
	}
	doc, err := goquery.NewDocumentFromReader(&b)
	if err != nil {
		t.Fatal(err)
	}
	return doc
}

func TestCodeDecodes(t *testing.T) {
	tests := []struct {
		name, text string
	}{
		{"wg-quick config", wgConfig},
		{"short", "hello"},
		{"digits only", "0123456789"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			doc := render(t, Props{Text: tt.text, Label: "client configuration", TestID: "client-qr"})
			svg := doc.Find(`svg[data-testid="client-qr"]`)
			if svg.Length() != 1 {
				t.Fatalf("no svg with the test id:\n%s", doc.Text())
			}
			if l, _ := svg.Attr("aria-label"); l != "client configuration" {
				t.Errorf("aria-label %q", l)
			}
			if _, ok := svg.Attr("style"); ok || doc.Find("[style]").Length() > 0 {
				t.Error("a style attribute breaks the page's CSP")
			}
			img, size := rasterize(t, svg, 4)
			// Versions 1-40 are 21-177 modules a side, plus the quiet zone.
			if modules := size - 2*quiet; modules < 21 || modules > 177 || (modules-17)%4 != 0 {
				t.Errorf("%d modules a side is no QR version", modules)
			}
			bmp, err := gozxing.NewBinaryBitmapFromImage(img)
			if err != nil {
				t.Fatal(err)
			}
			res, err := zxqr.NewQRCodeReader().Decode(bmp, map[gozxing.DecodeHintType]any{
				gozxing.DecodeHintType_CHARACTER_SET: "UTF-8"})
			if err != nil {
				t.Fatalf("decode the rendered code: %v", err)
			}
			if res.GetText() != tt.text {
				t.Errorf("decoded %q, want %q", res.GetText(), tt.text)
			}
		})
	}
}

// A wg-quick file must fit a code a phone reads off a screen with ease.
func TestCodeSizeOfConfig(t *testing.T) {
	m, err := encode(wgConfig)
	if err != nil {
		t.Fatal(err)
	}
	if v := (m.size - 2*quiet - 17) / 4; v > 15 {
		t.Errorf("a %d-byte config needs version %d, want at most 15", len(wgConfig), v)
	}
}

func TestCodeTooLong(t *testing.T) {
	doc := render(t, Props{Text: strings.Repeat("x", 3000)})
	if doc.Find("svg").Length() != 0 || doc.Find(`[data-testid="qr-error"]`).Length() != 1 {
		t.Errorf("3000 bytes: want a note and no code, got %s", doc.Text())
	}
}
