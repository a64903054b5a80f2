// Package firmware turns the edgeward binary into something a router can
// run: the cross builds (make firmware-builds) and their size report
// (firmware/sizes).
package firmware
