package httpx

import (
	"fmt"
	"io/fs"
	"syscall"
	"testing"

	"github.com/edgeward/edgeward/core"
	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

func TestClassify(t *testing.T) {
	tests := []struct {
		name string
		err  error
		want Failure
	}{
		{"no space", fmt.Errorf("update: %w", core.NoSpace("the data filesystem is full")),
			Failure{Status: 507, Msg: "the data filesystem is full", Kind: core.ErrNoSpace}},
		{"ENOSPC from a file write", fmt.Errorf("write bundle: %w", &fs.PathError{Op: "write", Path: "/data/x", Err: syscall.ENOSPC}),
			Failure{Status: 507, Msg: "the data filesystem is full: free some space", Kind: core.ErrNoSpace}},
		{"busy", core.Busy("try later"), Failure{Status: 429, Msg: "try later", Kind: core.ErrBusy}},
		{"internal", fmt.Errorf("open /secret: %w", syscall.EIO), Failure{Status: 500, Msg: "internal error", Internal: true}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if diff := cmp.Diff(tt.want, Classify(tt.err), cmpopts.EquateErrors()); diff != "" {
				t.Errorf("Classify (-want +got):\n%s", diff)
			}
		})
	}
}
