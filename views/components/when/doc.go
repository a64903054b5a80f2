// Package when shows a moment: the server writes it in UTC and the page's
// script rewrites it in the browser's own time zone.
package when
