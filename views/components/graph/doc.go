// Package graph draws the dashboard's traffic graph as server-rendered
// SVG: no script, no canvas, nothing the CSP has to allow.
package graph
