package httpx

import "fmt"

// Quote writes a client's value into a message, cut to 64 runes so a long
// value cannot flood the answer or the log.
func Quote(s string) string {
	const limit = 64
	if r := []rune(s); len(r) > limit {
		s = string(r[:limit]) + "…"
	}
	return fmt.Sprintf("%q", s)
}
