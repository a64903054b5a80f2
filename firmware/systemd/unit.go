// Package systemd holds edgeward's systemd unit and the example flags file
// it reads; the tests verify the unit with systemd-analyze and check its
// flags against the binary's.
package systemd

import _ "embed"

// Unit is edgeward.service.
//
//go:embed edgeward.service
var Unit string

// Default is the example /etc/default/edgeward.
//
//go:embed edgeward.default
var Default string
