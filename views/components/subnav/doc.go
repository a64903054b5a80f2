// Package subnav renders the second row of navigation that ties the pages
// of one area together (peers, groups and policies; the settings pages).
package subnav
