// Package badge shows a status as a plain word on a coloured tint.
package badge
