// Package card is the box every page groups its content in: a heading,
// an optional line of help, then the content and its buttons.
package card
