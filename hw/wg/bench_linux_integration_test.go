//go:build linux

package wg

import (
	"encoding/binary"
	"net"
	"net/netip"
	"testing"

	"github.com/edgeward/edgeward/core/tunnel"
	"github.com/edgeward/edgeward/core/wgkey"
	"golang.zx2c4.com/wireguard/wgctrl/wgtypes"
)

const benchPeers = 10_000

// benchPeer is peer i: a made-up key (the device never talks to it) and
// one /32 of 10.100.0.0/16 and beyond.
func benchPeer(i int) tunnel.Peer {
	var k wgkey.Key
	binary.BigEndian.PutUint64(k[:], uint64(i)+1)
	k[31] = 0x42
	a := netip.AddrFrom4([4]byte{10, byte(100 + i>>16), byte(i >> 8), byte(i)})
	return tunnel.Peer{PublicKey: k.String(), AllowedIPs: []netip.Prefix{netip.PrefixFrom(a, 32)}}
}

// benchDevice opens an embedded device in a new namespace holding
// benchPeers peers.
func benchDevice(b *testing.B) *Device {
	b.Helper()
	g := newNS(b, "g")
	priv, _, _ := wgkey.Generate()
	d, err := Open(Options{Name: ifName("wgb"), NetNS: g.fd, PrivateKey: priv,
		Address: netip.MustParsePrefix("10.99.0.1/16"), Mode: ModeUserspace})
	if err != nil {
		b.Fatalf("Open: %v", err)
	}
	b.Cleanup(func() { _ = d.Close() })
	peers := make([]tunnel.Peer, benchPeers)
	for i := range peers {
		peers[i] = benchPeer(i)
	}
	if err := d.Configure(b.Context(), peers, nil); err != nil {
		b.Fatalf("Configure %d peers: %v", benchPeers, err)
	}
	return d
}

// BenchmarkConfigureAddOne adds one peer to a device holding 10,000.
func BenchmarkConfigureAddOne(b *testing.B) {
	d := benchDevice(b)
	next := make([]tunnel.Peer, 4*benchPeers) // new ones for as many rounds as b.Loop takes
	for i := range next {
		next[i] = benchPeer(benchPeers + i)
	}
	ctx := b.Context()
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		if err := d.Configure(ctx, next[i%len(next):i%len(next)+1], nil); err != nil {
			b.Fatal(err)
		}
		i++
	}
}

// BenchmarkPeers reads 10,000 peers, as the daemon does every few seconds.
func BenchmarkPeers(b *testing.B) {
	d := benchDevice(b)
	ctx := b.Context()
	b.ReportAllocs()
	for b.Loop() {
		ps, err := d.Peers(ctx)
		if err != nil {
			b.Fatal(err)
		}
		if len(ps) != benchPeers {
			b.Fatalf("%d peers, want %d", len(ps), benchPeers)
		}
	}
}

// BenchmarkPeerStats is this package's share of BenchmarkPeers: the
// conversion of wgctrl's 10,000 peers.
func BenchmarkPeerStats(b *testing.B) {
	in := make([]wgtypes.Peer, benchPeers)
	for i := range in {
		p := benchPeer(i)
		k, _ := wgtypes.ParseKey(p.PublicKey)
		in[i] = wgtypes.Peer{PublicKey: k, Endpoint: &net.UDPAddr{IP: net.IPv4(10, 98, 0, 2), Port: 40000 + i},
			AllowedIPs: []net.IPNet{{IP: p.AllowedIPs[0].Addr().AsSlice(), Mask: net.CIDRMask(32, 32)}}}
	}
	b.ReportAllocs()
	for b.Loop() {
		if ps := peerStats(in); len(ps) != benchPeers {
			b.Fatal(len(ps))
		}
	}
}
