// Package pages holds one templ component per admin page, each rendered
// from a plain view model.
package pages
