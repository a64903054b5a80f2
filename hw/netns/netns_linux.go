// Package netns runs code inside another network namespace.
package netns

import (
	"errors"
	"fmt"
	"os"
	"runtime"

	"golang.org/x/sys/unix"
)

// Do runs fn on an OS thread that has joined the network namespace fd
// (0: fn runs where it is called).
//
// A socket belongs to the namespace of the thread that creates it and keeps
// it for life, but Go moves goroutines between threads and setns(2)
// switches one thread only. So fn runs on a fresh goroutine whose thread is
// locked for the switch and switched back before it is unlocked; the
// caller's thread is never touched. Sockets fn creates can then be used
// from any goroutine. Should switching back fail, the thread stays locked
// and the runtime ends it when the goroutine exits, so no other goroutine
// ever runs in the wrong namespace. An error entering the namespace wraps
// the errno (EPERM without CAP_SYS_ADMIN).
func Do(fd int, fn func() error) error {
	if fd == 0 {
		return fn()
	}
	errc := make(chan error, 1)
	go func() {
		runtime.LockOSThread()
		orig, err := os.Open("/proc/thread-self/ns/net")
		if err != nil {
			runtime.UnlockOSThread()
			errc <- fmt.Errorf("open own network namespace: %w", err)
			return
		}
		defer orig.Close()
		if err := unix.Setns(fd, unix.CLONE_NEWNET); err != nil {
			runtime.UnlockOSThread()
			errc <- fmt.Errorf("enter network namespace: %w", err)
			return
		}
		ferr := fn()
		if err := unix.Setns(int(orig.Fd()), unix.CLONE_NEWNET); err != nil {
			errc <- errors.Join(ferr, fmt.Errorf("leave network namespace: %w", err))
			return // still locked: the thread dies with this goroutine
		}
		runtime.UnlockOSThread()
		errc <- ferr
	}()
	return <-errc
}
