package dataplane

import (
	"context"
	"fmt"
	"testing"

	"github.com/edgeward/edgeward/core/overlay"
	"github.com/edgeward/edgeward/core/wgkey"
)

// BenchmarkSyncOnePeer is the sync after one peer was added to an overlay
// of 10,000 in 100 groups under 1,000 rules: what puts it on the device
// and in its group's set (the fakes cost nothing: this is the plane's own
// work).
func BenchmarkSyncOnePeer(b *testing.B) {
	f := newFixtureB(b)
	ctx := context.Background()
	var groups []string
	for i := range 100 {
		g, err := f.ov.SaveGroup(ctx, "", overlay.GroupSpec{Name: fmt.Sprintf("g%d", i)})
		if err != nil {
			b.Fatal(err)
		}
		groups = append(groups, g.ID)
	}
	members := make([][]string, 100)
	for i := range 10_000 {
		_, pub, _ := wgkey.Generate()
		c, err := f.ov.CreatePeer(ctx, overlay.NewPeer{Name: fmt.Sprintf("p%d", i), PublicKey: pub.String()})
		if err != nil {
			b.Fatal(err)
		}
		members[i%100] = append(members[i%100], c.ID)
	}
	for i, g := range groups {
		if _, err := f.ov.SaveGroup(ctx, g, overlay.GroupSpec{Name: fmt.Sprintf("g%d", i), Peers: members[i]}); err != nil {
			b.Fatal(err)
		}
	}
	for i := range 100 {
		var rules []overlay.Rule
		for j := range 10 {
			r, _ := overlay.ParseRule(fmt.Sprintf("tcp/%d", 1000+j))
			r.Sources, r.Destinations = []string{groups[i]}, []string{groups[(i+j+1)%100]}
			rules = append(rules, r)
		}
		if _, err := f.ov.SavePolicy(ctx, "", overlay.Policy{Name: fmt.Sprintf("pol%d", i), Enabled: true, Rules: rules}); err != nil {
			b.Fatal(err)
		}
	}
	if err := f.plane.Sync(ctx); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := range b.N {
		_, pub, _ := wgkey.Generate()
		b.StopTimer() // the store's part is measured in core/overlay
		if _, err := f.ov.CreatePeer(ctx, overlay.NewPeer{Name: fmt.Sprintf("new%d", i), PublicKey: pub.String(), Groups: []string{groups[i%100]}}); err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
		if err := f.plane.Sync(ctx); err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	if f.filter.Installs != 1 {
		b.Fatalf("%d policy installs, want 1: adding peers must only add elements", f.filter.Installs)
	}
}
