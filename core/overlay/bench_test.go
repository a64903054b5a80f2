package overlay

import (
	"context"
	"fmt"
	"net/netip"
	"testing"
	"time"

	"github.com/edgeward/edgeward/core/events"
	"github.com/edgeward/edgeward/core/store"
)

// benchOverlay builds an overlay of n peers in four groups with an
// All <-> All policy, the default most admins start from.
func benchOverlay(b *testing.B, n int) *Service {
	b.Helper()
	db, err := store.Open(context.Background(), store.Options{Dir: b.TempDir()}, nil)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { db.Close() })
	svc, err := New(context.Background(), db, events.New(16, nil), Config{
		Network: netip.MustParsePrefix("100.64.0.0/10"), DNSDomain: "ew.test", TempAccessTimeout: time.Minute,
	})
	if err != nil {
		b.Fatal(err)
	}
	// Insert straight into memory: the benchmark is about reads, and 10k
	// fsynced creates would only measure the disk.
	ip := svc.Gateway()
	for i := range n {
		ip = ip.Next()
		svc.st.putPeer(&Peer{ID: fmt.Sprintf("p%019d", i), Name: fmt.Sprintf("host-%05d", i),
			PublicKey: fmt.Sprintf("k%d", i), IP: ip, DNSLabel: fmt.Sprintf("host-%05d", i)})
	}
	for g := range 4 {
		grp := &Group{ID: fmt.Sprintf("g%d", g), Name: fmt.Sprintf("group-%d", g), Issued: "api"}
		for i := g; i < n; i += 4 {
			grp.Peers = append(grp.Peers, fmt.Sprintf("p%019d", i))
		}
		svc.st.groups[grp.ID] = grp
	}
	all := svc.st.allGroup().ID
	svc.st.policies["pol"] = &Policy{ID: "pol", Name: "all", Enabled: true, Rules: []Rule{{ID: "r", Enabled: true,
		Action: "accept", Bidirectional: true, Protocol: ProtoAll, Sources: []string{all}, Destinations: []string{all}}}}
	svc.st.reindexGroups()
	svc.st.gen++
	return svc
}

func BenchmarkPeers10k(b *testing.B) {
	svc := benchOverlay(b, 10_000)
	for _, bc := range []struct {
		name string
		f    Filter
		want int
	}{
		{"all", Filter{}, 10_000},
		{"name", Filter{Name: "host-0999"}, 10},
		{"ip", Filter{IP: "100.64.1."}, 256},
	} {
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if got := len(svc.Peers(bc.f)); got != bc.want {
					b.Fatalf("got %d peers, want %d", got, bc.want)
				}
			}
		})
	}
}

func BenchmarkAccessible10k(b *testing.B) {
	svc := benchOverlay(b, 10_000)
	b.ReportAllocs()
	for b.Loop() {
		acc, err := svc.Accessible("p0000000000000000042")
		if err != nil || len(acc) != 9_999 {
			b.Fatalf("got %d, %v", len(acc), err)
		}
	}
}
