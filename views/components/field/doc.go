// Package field renders one labelled form input with its error message
// next to it.
package field
