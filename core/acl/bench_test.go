package acl

import (
	"context"
	"fmt"
	"net/netip"
	"testing"
	"time"

	"github.com/edgeward/edgeward/core/store"
)

func benchAddrs(n int) []string {
	out := make([]string, n)
	for i := range n {
		out[i] = fmt.Sprintf("10.%d.%d.%d", (i>>16)&255, (i>>8)&255, i&255)
	}
	return out
}

// BenchmarkBulk100k measures the ACL's share of a bulk ban: parsing,
// storing durably and building the kernel delta (the firewall is the
// in-memory fake here; hw/nft measures the kernel's share).
func BenchmarkBulk100k(b *testing.B) {
	addrs := benchAddrs(100_000)
	b.ReportAllocs()
	for b.Loop() {
		b.StopTimer()
		db, err := store.Open(context.Background(), store.Options{Dir: b.TempDir()}, nil)
		if err != nil {
			b.Fatal(err)
		}
		svc, err := New(context.Background(), db, newFake(), nil, Config{})
		if err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
		if n, err := svc.Bulk(context.Background(), Ban, addrs, 0, "bench", Guard{}); err != nil || n != len(addrs) {
			b.Fatalf("Bulk = %d, %v", n, err)
		}
		b.StopTimer()
		db.Close()
		b.StartTimer()
	}
}

// benchService is an ACL on a fresh store and the in-memory firewall.
func benchService(b *testing.B, now func() time.Time) *Service {
	b.Helper()
	db, err := store.Open(context.Background(), store.Options{Dir: b.TempDir()}, nil)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { db.Close() })
	svc, err := New(context.Background(), db, newFake(), nil, Config{Now: now})
	if err != nil {
		b.Fatal(err)
	}
	return svc
}

// BenchmarkBanOneWith100k is one point ban with 100,000 bans present.
func BenchmarkBanOneWith100k(b *testing.B) {
	svc := benchService(b, time.Now)
	if _, err := svc.Bulk(context.Background(), Ban, benchAddrs(100_000), 0, "bench", Guard{}); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		i++
		if err := svc.SetPoint(context.Background(), ap(fmt.Sprintf("192.0.%d.%d:0", (i>>8)&255, i&255)), Ban, "bench", Guard{}); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkLift1000Of100k lifts 1,000 bulk bans, one record's worth, with
// 100,000 held: the record is rewritten once, not once per target.
func BenchmarkLift1000Of100k(b *testing.B) {
	svc := benchService(b, time.Now)
	addrs := benchAddrs(100_000)
	if _, err := svc.Bulk(context.Background(), Ban, addrs, 0, "bench", Guard{}); err != nil {
		b.Fatal(err)
	}
	i := 0
	for b.Loop() {
		if i+MaxLift > len(addrs) {
			b.StopTimer()
			if _, err := svc.Bulk(context.Background(), Ban, addrs, 0, "bench", Guard{}); err != nil {
				b.Fatal(err)
			}
			i = 0
			b.StartTimer()
		}
		if _, err := svc.Lift(context.Background(), addrs[i:i+MaxLift], "bench"); err != nil {
			b.Fatal(err)
		}
		i += MaxLift
	}
}

// BenchmarkRebulk100k bans again, for good, 100,000 addresses that older
// bulk records hold: each older record drops its targets once.
func BenchmarkRebulk100k(b *testing.B) {
	svc := benchService(b, time.Now)
	addrs := benchAddrs(100_000)
	if _, err := svc.Bulk(context.Background(), Ban, addrs, time.Hour, "bench", Guard{}); err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		if _, err := svc.Bulk(context.Background(), Ban, addrs, 0, "bench", Guard{}); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkBannedWith100k is the check every API and page request makes
// of its source, with 100,000 trusted addresses and 100,000 banned ranges.
func BenchmarkBannedWith100k(b *testing.B) {
	svc := benchService(b, time.Now)
	nets := make([]string, 100_000)
	for i := range nets {
		nets[i] = fmt.Sprintf("%d.%d.%d.0/24", 11+i>>16, (i>>8)&255, i&255)
	}
	if _, err := svc.Bulk(context.Background(), Trust, benchAddrs(100_000), 0, "bench", Guard{}); err != nil {
		b.Fatal(err)
	}
	if _, err := svc.Bulk(context.Background(), Ban, nets, 0, "bench", Guard{}); err != nil {
		b.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		addr netip.Addr
		want bool
	}{
		{"v4 banned", netip.MustParseAddr("11.0.7.1"), true},
		{"v4 neither", netip.MustParseAddr("192.0.2.1"), false},
		{"v6 neither", netip.MustParseAddr("2001:db8::1"), false},
	} {
		b.Run(tc.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if got := svc.Banned(tc.addr); got != tc.want {
					b.Fatalf("Banned(%s) = %v", tc.addr, got)
				}
			}
		})
	}
}
