// Package copy is the button that copies a text on the page (a token, a
// config) to the clipboard. It needs the page's script, so it starts
// hidden and app.js shows it.
package copy
