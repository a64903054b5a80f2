// Package host describes the box edgeward runs on, as the dashboard's
// system card shows it: load, memory, uptime. hw/sysinfo reads it from
// the kernel; core only names the shape, so the pages take plain data.
package host

import "time"

// Facts are the box's numbers at one moment.
type Facts struct {
	// Load1, Load5 and Load15 are the kernel's load averages over 1, 5
	// and 15 minutes; CPUs is how many processors share that load.
	Load1, Load5, Load15 float64
	CPUs                 int
	// MemTotal and MemAvailable are bytes; available is what the kernel
	// can hand out without swapping (page cache included), which is what
	// "used" should be measured against.
	MemTotal, MemAvailable uint64
	// RSS is this process's resident memory in bytes.
	RSS uint64
	// Uptime is how long the box has run since it booted.
	Uptime time.Duration
}

// MemUsedPercent is the share of memory not available, 0 to 100; 0 when
// the total is unknown.
func (f Facts) MemUsedPercent() int {
	if f.MemTotal == 0 || f.MemAvailable > f.MemTotal {
		return 0
	}
	return int((f.MemTotal - f.MemAvailable) * 100 / f.MemTotal)
}

// Read reads the facts now. Implementations are safe for concurrent use.
type Read func() (Facts, error)
