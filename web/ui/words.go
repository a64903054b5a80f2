package ui

import (
	"fmt"
	"time"
)

// Duration is d in words, in its largest unit and the next one when that
// is not zero: "42 s", "3 min", "2 h 5 min", "1 day 3 h", "4 days". It is
// the one way pages show a span of time (uptime, "2 min ago", time left).
// Under a second, and negative spans (clocks that disagree a little), are
// "0 s". Smaller units are cut off, not rounded: "59 s" is never "1 min".
func Duration(d time.Duration) string {
	s := int64(d / time.Second)
	if s < 0 {
		s = 0
	}
	switch {
	case s < 60:
		return fmt.Sprintf("%d s", s)
	case s < 3600:
		return fmt.Sprintf("%d min", s/60)
	case s < 86400:
		return pair(s/3600, "h", "h", s/60%60, "min", "min")
	}
	return pair(s/86400, "day", "days", s/3600%24, "h", "h")
}

// pair is "n unit" followed by "m small" unless m is zero.
func pair(n int64, unit, units string, m int64, small, smalls string) string {
	if m == 0 {
		return Plural(n, unit, units)
	}
	return Plural(n, unit, units) + " " + Plural(m, small, smalls)
}

// Plural is n with the word that fits it: "1 entry", "0 entries",
// "2 entries". English has no other forms the pages need.
func Plural[N ~int | ~int64 | ~uint64](n N, one, many string) string {
	if n == 1 {
		return fmt.Sprintf("1 %s", one)
	}
	return fmt.Sprintf("%d %s", n, many)
}
