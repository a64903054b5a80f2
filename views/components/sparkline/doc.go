// Package sparkline draws a tiny inline traffic line for a table cell
// (the Peers page): server-rendered SVG, no axes, its numbers in the
// accessible name.
package sparkline
