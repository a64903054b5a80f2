// Package csrf renders the hidden form field that carries a page's CSRF
// token, so forms work without JavaScript.
package csrf
