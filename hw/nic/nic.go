package nic

// Options configures New.
type Options struct {
	// NetNS is an open file descriptor of the network namespace to read
	// and configure (for example of /run/netns/NAME); 0 means the
	// process's own. New keeps a duplicate, so the caller may close its
	// descriptor once New returns.
	NetNS int
}
