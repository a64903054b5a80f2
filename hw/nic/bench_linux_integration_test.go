//go:build linux

package nic

import (
	"fmt"
	"testing"
)

// benchLinks measures Links and Traffic on a namespace with pairs veth pairs, all up,
// each end with an address: 2*pairs links besides lo.
func benchLinks(b *testing.B, pairs int) {
	ns := newNS(b)
	var cmds []string
	for i := range pairs {
		a, z := fmt.Sprintf("ewa%d", i), fmt.Sprintf("ewz%d", i)
		cmds = append(cmds, "link add "+a+" type veth peer name "+z,
			fmt.Sprintf("addr add 10.%d.%d.1/30 dev %s", i/256, i%256, a),
			fmt.Sprintf("addr add 10.%d.%d.2/30 dev %s", i/256, i%256, z),
			"link set "+a+" up", "link set "+z+" up")
	}
	ns.batch(b, cmds)
	n := ns.nic(b)
	ctx := ctxT(b)
	ls, err := n.Links(ctx)
	if err != nil {
		b.Fatalf("Links: %v", err)
	}
	if len(ls) != 2*pairs+1 {
		b.Fatalf("Links returned %d links, want %d", len(ls), 2*pairs+1)
	}
	b.Run("Links", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := n.Links(ctx); err != nil {
				b.Fatal(err)
			}
		}
	})
	// Traffic is what the traffic sampler reads every second.
	b.Run("Traffic", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := n.Traffic(ctx); err != nil {
				b.Fatal(err)
			}
		}
	})
}

func BenchmarkLinks2(b *testing.B)  { benchLinks(b, 1) }
func BenchmarkLinks50(b *testing.B) { benchLinks(b, 25) }
