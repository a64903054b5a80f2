// Package layouts holds the page shell every admin page renders in.
package layouts
