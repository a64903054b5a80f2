package durable

import (
	"errors"
	"fmt"

	"github.com/edgeward/edgeward/core"
)

// Space guards a filesystem's last bytes. Writing into the last free pages
// of a memory-mapped file (Badger's WAL, value log and tables) does not
// fail with ENOSPC but kills the process with SIGBUS, so writers ask
// Check first and refuse while less than Reserve bytes are free.
type Space struct {
	Dir     string // any path on the filesystem
	Reserve uint64 // bytes kept free; 0 checks nothing
}

// Check returns an error matching core.ErrNoSpace when fewer than Reserve
// bytes are free to unprivileged writers on Dir's filesystem. A
// filesystem it cannot measure passes: the check guards, it does not gate.
func (s Space) Check() error { return s.CheckFor(0) }

// CheckFor is Check for a write of n bytes: the reserve must still be free
// after it.
func (s Space) CheckFor(n uint64) error {
	if s.Reserve == 0 || s.Dir == "" {
		return nil
	}
	free, err := Free(s.Dir)
	if err != nil || free >= s.Reserve+n {
		return nil
	}
	return core.NoSpace("the data filesystem is full (%s free, %s kept in reserve): free some space",
		bytesText(free), bytesText(s.Reserve))
}

// NoSpace maps a write's ENOSPC onto core.ErrNoSpace with a public message,
// and returns other errors unchanged.
func NoSpace(err error) error {
	if err != nil && isENOSPC(err) && !errors.Is(err, core.ErrNoSpace) {
		return fmt.Errorf("%w: %w", core.NoSpace("the data filesystem is full: free some space"), err)
	}
	return err
}

// bytesText is n in the largest binary unit that keeps it at least 1.
func bytesText(n uint64) string {
	switch {
	case n >= 1<<30:
		return fmt.Sprintf("%.1f GiB", float64(n)/(1<<30))
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%.1f KiB", float64(n)/(1<<10))
	}
	return fmt.Sprintf("%d B", n)
}
