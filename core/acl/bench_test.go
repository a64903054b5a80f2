package acl

import (
	"context"
	"fmt"
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
		if n, err := svc.Bulk(context.Background(), Ban, addrs, 0, "bench"); err != nil || n != len(addrs) {
			b.Fatalf("Bulk = %d, %v", n, err)
		}
		b.StopTimer()
		db.Close()
		b.StartTimer()
	}
}

// BenchmarkBanOneWith100k is one point ban with 100,000 bans present.
func BenchmarkBanOneWith100k(b *testing.B) {
	db, err := store.Open(context.Background(), store.Options{Dir: b.TempDir()}, nil)
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	svc, err := New(context.Background(), db, newFake(), nil, Config{Now: time.Now})
	if err != nil {
		b.Fatal(err)
	}
	if _, err := svc.Bulk(context.Background(), Ban, benchAddrs(100_000), 0, "bench"); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		i++
		if err := svc.SetPoint(context.Background(), ap(fmt.Sprintf("192.0.%d.%d:0", (i>>8)&255, i&255)), Ban, "bench"); err != nil {
			b.Fatal(err)
		}
	}
}
