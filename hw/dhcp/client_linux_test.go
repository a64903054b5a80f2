//go:build linux

package dhcp

import (
	"net/netip"
	"testing"
	"time"

	"github.com/edgeward/edgeward/core"
	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

func TestNewValidates(t *testing.T) {
	tests := []struct {
		name    string
		opts    Options
		wantErr error
	}{
		{"ok", Options{Iface: "wan0"}, nil},
		{"no iface", Options{}, core.ErrInvalid},
		{"iface too long", Options{Iface: "a-very-long-name0"}, core.ErrInvalid},
		{"negative netns", Options{Iface: "wan0", NetNS: -1}, core.ErrInvalid},
		{"negative timeout", Options{Iface: "wan0", Timeout: -time.Second}, core.ErrInvalid},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := New(tt.opts)
			if diff := cmp.Diff(tt.wantErr, err, cmpopts.EquateErrors()); diff != "" {
				t.Fatalf("error (-want +got):\n%s", diff)
			}
			if err != nil {
				return
			}
			if _, ok := c.Lease(); ok {
				t.Error("new client holds a lease")
			}
			if c.opts.Timeout != defaultTimeout {
				t.Errorf("timeout = %v, want %v", c.opts.Timeout, defaultTimeout)
			}
		})
	}
}

func TestRetryWait(t *testing.T) {
	tests := []struct {
		name string
		left time.Duration
		want time.Duration
	}{
		{"half of what is left", 10 * time.Minute, 5 * time.Minute},
		{"at least a minute", 100 * time.Second, time.Minute},
		{"never past the stage", 30 * time.Second, 30 * time.Second},
		{"stage over", -time.Second, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := retryWait(tt.left); got != tt.want {
				t.Errorf("retryWait(%v) = %v, want %v", tt.left, got, tt.want)
			}
		})
	}
}

func TestLifetime(t *testing.T) {
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	tests := []struct {
		name string
		d    time.Duration
		now  time.Time
		want uint32
	}{
		{"whole lease", 2 * time.Minute, t0, 120},
		{"part left, rounded up", 2 * time.Minute, t0.Add(1500 * time.Millisecond), 119},
		{"expired still finite", time.Minute, t0.Add(time.Hour), 1},
		{"infinite lease stays below forever", 0xffffffff * time.Second, t0, 0xfffffffe},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			l := Lease{Obtained: t0, Duration: tt.d}
			if got := lifetime(l, tt.now); got != tt.want {
				t.Errorf("lifetime = %d, want %d", got, tt.want)
			}
		})
	}
}

func TestAddrMessageBroadcast(t *testing.T) {
	tests := []struct {
		prefix string
		want   string // "" for none
	}{
		{"10.1.2.55/24", "10.1.2.255"},
		{"100.64.3.9/10", "100.127.255.255"},
		{"192.0.2.8/31", ""},
		{"192.0.2.8/32", ""},
	}
	for _, tt := range tests {
		t.Run(tt.prefix, func(t *testing.T) {
			m := addrMessage(3, netip.MustParsePrefix(tt.prefix))
			got := ""
			if b := m.Attributes.Broadcast; b != nil {
				got = b.String()
			}
			if got != tt.want {
				t.Errorf("broadcast = %q, want %q", got, tt.want)
			}
			if m.Index != 3 {
				t.Errorf("index = %d, want 3", m.Index)
			}
		})
	}
}

func TestBackoff(t *testing.T) {
	b := backoff{min: time.Second, max: 8 * time.Second}
	for i, want := range []time.Duration{1, 2, 4, 8, 8} {
		want *= time.Second
		got := b.next()
		if got > want || got < want*3/4 {
			t.Errorf("step %d: %v, want %v less up to 25%%", i, got, want)
		}
	}
}
