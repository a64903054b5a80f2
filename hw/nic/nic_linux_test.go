package nic

import (
	"errors"
	"fmt"
	"testing"

	"github.com/edgeward/edgeward/core"
	"github.com/mdlayher/netlink"
	"golang.org/x/sys/unix"
)

func TestKernelErr(t *testing.T) {
	errOther := errors.New("other")
	tests := []struct {
		name    string
		err     error
		invalid []unix.Errno
		want    error // a sentinel the result matches; nil: none of them
	}{
		{name: "no such device", err: &netlink.OpError{Op: "receive", Err: unix.ENODEV}, want: core.ErrNotFound},
		{name: "no such entry", err: unix.ENOENT, want: core.ErrNotFound},
		{name: "not permitted", err: fmt.Errorf("set: %w", unix.EPERM), want: core.ErrPermission},
		{name: "exists", err: unix.EEXIST, want: core.ErrConflict},
		{name: "busy", err: unix.EBUSY, want: core.ErrBusy},
		{name: "invalid where the caller says so", err: unix.ERANGE, invalid: []unix.Errno{unix.EINVAL, unix.ERANGE},
			want: core.ErrInvalid},
		{name: "invalid elsewhere stays as it is", err: unix.EINVAL},
		{name: "other errors stay as they are", err: errOther},
	}
	sentinels := []error{core.ErrNotFound, core.ErrPermission, core.ErrConflict, core.ErrBusy, core.ErrInvalid}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := KernelErr(tt.err, tt.invalid...)
			if !errors.Is(got, tt.err) {
				t.Errorf("KernelErr(%v) = %v, which no longer matches the kernel's error", tt.err, got)
			}
			if got.Error() != tt.err.Error() {
				t.Errorf("KernelErr(%v) reads %q, want the kernel's text", tt.err, got)
			}
			for _, s := range sentinels {
				if errors.Is(got, s) != (s == tt.want) {
					t.Errorf("errors.Is(KernelErr(%v), %v) = %t", tt.err, s, errors.Is(got, s))
				}
			}
		})
	}
	if KernelErr(nil) != nil {
		t.Error("KernelErr(nil) is not nil")
	}
}
