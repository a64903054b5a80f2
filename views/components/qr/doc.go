// Package qr renders text as a QR code in inline SVG: drawn on the server,
// so a phone can scan a client configuration from a page that runs no
// script and loads no image.
package qr
