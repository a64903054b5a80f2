// Package views holds edgeward's admin pages as templ components:
// layouts/ (the page shell), components/<name>/ (one reusable part each,
// configured by a Props struct) and pages/ (one file per page). Views take
// plain view models, never services or store types, and every form works
// without JavaScript.
//
// The *_templ.go files are generated and committed; CI fails when
// regenerating them changes anything. Generate from the module root
// (go tool templ generate -include-version=false) or with go generate
// ./views: the -path .. below makes both name the sources the same way
// (views/...) in the generated error positions.
package views

//go:generate go tool templ generate -include-version=false -path ..
