package acl

import (
	"context"
	"errors"
	"net/netip"
	"strings"
	"testing"

	"github.com/edgeward/edgeward/core"
	"github.com/edgeward/edgeward/core/store"
)

// TestLockout covers the ban guard: loopback in v4, v4-mapped and v6
// form, ranges covering it, the gateway's own addresses, the requester,
// and force.
func TestLockout(t *testing.T) {
	db, err := store.Open(context.Background(), store.Options{Dir: t.TempDir()}, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	own := []netip.Prefix{netip.MustParsePrefix("192.168.1.1/32"), netip.MustParsePrefix("2001:db8:1::1/128")}
	svc, err := New(context.Background(), db, newFake(), nil, Config{Own: own})
	if err != nil {
		t.Fatal(err)
	}
	admin := Guard{From: netip.MustParseAddr("::ffff:192.168.1.50")}
	tests := []struct {
		name  string
		entry string
		g     Guard
		want  string // part of the refusal; "" for allowed
	}{
		{"loopback", "127.0.0.1", Guard{}, "covers loopback"},
		{"other loopback address", "127.3.2.1", Guard{}, "covers loopback"},
		{"v4-mapped loopback", "::ffff:127.0.0.1", Guard{}, "covers loopback"},
		{"loopback range", "127.0.0.0/8", Guard{}, "covers loopback"},
		{"everything v4", "0.0.0.0/0", Guard{}, "covers loopback"},
		{"everything v4, mapped", "::ffff:0.0.0.0/96", Guard{}, "covers loopback"},
		{"v6 loopback", "::1", Guard{}, "covers loopback"},
		{"everything v6", "::/0", Guard{}, "covers loopback"},
		{"loopback, one port", "127.0.0.1:8080", Guard{}, "covers loopback"},
		{"gateway address", "192.168.1.1", Guard{}, "an address of this gateway"},
		{"gateway's LAN", "192.168.0.0/16", Guard{}, "an address of this gateway"},
		{"gateway v6", "2001:db8:1::/48", Guard{}, "an address of this gateway"},
		{"requester", "192.168.1.50", admin, "the address this request comes from"},
		{"requester's range", "192.168.1.48/29", Guard{From: netip.MustParseAddr("192.168.1.50")}, "the address this request comes from"},
		{"requester unknown", "192.168.1.50", Guard{}, ""},
		{"a neighbour", "192.168.1.51", admin, ""},
		{"another network", "10.0.0.0/8", admin, ""},
		{"v6 elsewhere", "2001:db8:2::/48", admin, ""},
		{"forced loopback", "127.0.0.1", Guard{Force: true}, ""},
		{"forced everything", "0.0.0.0/0", Guard{From: admin.From, Force: true}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tg, err := ParseTarget(tt.entry)
			if err != nil {
				t.Fatal(err)
			}
			got := svc.lockout(tg, tt.g)
			if (tt.want == "") != (got == "") || !strings.Contains(got, tt.want) {
				t.Errorf("lockout(%s) = %q, want %q", tt.entry, got, tt.want)
			}
		})
	}
}

// TestBansRefusedUnlessForced checks the guard on both ways to ban, and
// that a refused call changes nothing.
func TestBansRefusedUnlessForced(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	var ve *core.ValidationError
	_, err := f.svc.Bulk(ctx, Ban, []string{"203.0.113.9", "127.0.0.0/8"}, 0, "tok", Guard{})
	if !errors.As(err, &ve) || ve.Fields[0].Field != "entries[1]" || !strings.Contains(ve.Fields[0].Msg, "127.0.0.0/8 covers loopback") {
		t.Fatalf("Bulk = %v, want entries[1] refused for covering loopback", err)
	}
	if f.svc.Banned(addr("203.0.113.9")) {
		t.Fatal("a refused bulk call banned its other entries")
	}
	err = f.svc.SetPoint(ctx, ap("[::ffff:127.0.0.1]:443"), Ban, "tok", Guard{})
	if !errors.As(err, &ve) || ve.Fields[0].Field != "point" {
		t.Fatalf("SetPoint = %v, want the point refused", err)
	}
	if f.svc.Banned(addr("127.0.0.1")) {
		t.Fatal("loopback banned after a refusal")
	}
	// Trusting and opening are never refused.
	if err := f.svc.SetPoint(ctx, ap("127.0.0.1:1"), Trust, "tok", Guard{}); err != nil {
		t.Fatal(err)
	}
	if err := f.svc.SetPoint(ctx, ap("192.0.2.5:1"), Ban, "tok", Guard{From: addr("192.0.2.5"), Force: true}); err != nil || !f.svc.Banned(addr("192.0.2.5")) {
		t.Fatalf("forced ban of the requester: %v, banned %v", err, f.svc.Banned(addr("192.0.2.5")))
	}
}
