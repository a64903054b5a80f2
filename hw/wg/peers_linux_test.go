package wg

import (
	"errors"
	"net"
	"net/netip"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"golang.zx2c4.com/wireguard/wgctrl/wgtypes"

	"github.com/edgeward/edgeward/core"
	"github.com/edgeward/edgeward/core/tunnel"
	"github.com/edgeward/edgeward/core/wgkey"
)

func ipNet(s string) net.IPNet {
	_, n, err := net.ParseCIDR(s)
	if err != nil {
		panic(err)
	}
	return *n
}

func TestPeerConfig(t *testing.T) {
	self, k1, k2, psk := wgkey.Key{9}, wgkey.Key{1}, wgkey.Key{2}, wgkey.Key{3}
	var zero wgtypes.Key
	pskT := wgtypes.Key(psk)
	pfx := netip.MustParsePrefix
	tests := []struct {
		name       string
		set        []tunnel.Peer
		remove     []string
		want       []wgtypes.PeerConfig
		wantFields []string
	}{
		{name: "set and remove",
			set: []tunnel.Peer{
				{PublicKey: k1.String(), PresharedKey: psk.String(), AllowedIPs: []netip.Prefix{pfx("10.99.0.2/32"), pfx("fd99::2/128")}},
				{PublicKey: k2.String()},
			},
			remove: []string{wgkey.Key{4}.String(), wgkey.Key{4}.String()},
			want: []wgtypes.PeerConfig{
				{PublicKey: wgtypes.Key(k1), PresharedKey: &pskT, ReplaceAllowedIPs: true,
					AllowedIPs: []net.IPNet{ipNet("10.99.0.2/32"), ipNet("fd99::2/128")}},
				{PublicKey: wgtypes.Key(k2), PresharedKey: &zero, ReplaceAllowedIPs: true, AllowedIPs: []net.IPNet{}},
				{PublicKey: wgtypes.Key{4}, Remove: true},
			}},
		{name: "endpoint",
			set: []tunnel.Peer{{PublicKey: k1.String(), Endpoint: netip.MustParseAddrPort("[::ffff:198.51.100.7]:51820")}},
			want: []wgtypes.PeerConfig{{PublicKey: wgtypes.Key(k1), PresharedKey: &zero, ReplaceAllowedIPs: true,
				Endpoint: &net.UDPAddr{IP: net.IP{198, 51, 100, 7}, Port: 51820}, AllowedIPs: []net.IPNet{}}}},
		{name: "bad endpoints",
			set: []tunnel.Peer{{PublicKey: k1.String(), Endpoint: netip.MustParseAddrPort("198.51.100.7:0")},
				{PublicKey: k2.String(), Endpoint: netip.MustParseAddrPort("[::]:51820")}},
			wantFields: []string{"set[0].endpoint", "set[1].endpoint"}},
		{name: "prefixes are masked",
			set: []tunnel.Peer{{PublicKey: k1.String(), AllowedIPs: []netip.Prefix{pfx("10.99.7.9/24")}}},
			want: []wgtypes.PeerConfig{{PublicKey: wgtypes.Key(k1), PresharedKey: &zero, ReplaceAllowedIPs: true,
				AllowedIPs: []net.IPNet{ipNet("10.99.7.0/24")}}}},
		{name: "nothing", want: []wgtypes.PeerConfig{}},
		{name: "bad keys",
			set:        []tunnel.Peer{{PublicKey: "AAAA"}, {PublicKey: k1.String(), PresharedKey: "nope"}},
			remove:     []string{""},
			wantFields: []string{"set[0].public_key", "set[1].preshared_key", "remove[0]"}},
		{name: "bad prefix",
			set:        []tunnel.Peer{{PublicKey: k1.String(), AllowedIPs: []netip.Prefix{pfx("10.0.0.0/8"), {}}}},
			wantFields: []string{"set[0].allowed_ips[1]"}},
		{name: "own key", set: []tunnel.Peer{{PublicKey: self.String()}}, wantFields: []string{"set[0].public_key"}},
		{name: "twice in set", set: []tunnel.Peer{{PublicKey: k1.String()}, {PublicKey: k1.String()}},
			wantFields: []string{"set[1].public_key"}},
		{name: "set and removed", set: []tunnel.Peer{{PublicKey: k1.String()}}, remove: []string{k1.String()},
			wantFields: []string{"remove[0]"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg, err := peerConfig(tt.set, tt.remove, self)
			var fields []string
			var ve *core.ValidationError
			if errors.As(err, &ve) {
				for _, f := range ve.Fields {
					fields = append(fields, f.Field)
				}
			}
			if diff := cmp.Diff(tt.wantFields, fields); diff != "" {
				t.Fatalf("refused fields (-want +got):\n%s\n(err %v)", diff, err)
			}
			if err != nil {
				if !errors.Is(err, core.ErrInvalid) {
					t.Errorf("error %v does not match core.ErrInvalid", err)
				}
				return
			}
			if cfg.ReplacePeers || cfg.PrivateKey != nil || cfg.ListenPort != nil || cfg.FirewallMark != nil {
				t.Errorf("config touches the device: %+v", cfg)
			}
			if diff := cmp.Diff(tt.want, cfg.Peers, cmpopts.EquateEmpty()); diff != "" {
				t.Errorf("peers (-want +got):\n%s", diff)
			}
		})
	}
}

func TestPeerStats(t *testing.T) {
	hs := time.Unix(1_700_000_000, 5)
	in := []wgtypes.Peer{
		{PublicKey: wgtypes.Key{1}, PresharedKey: wgtypes.Key{2},
			Endpoint:          &net.UDPAddr{IP: net.ParseIP("10.98.1.2"), Port: 51820}, // 16-byte IPv4
			LastHandshakeTime: hs, ReceiveBytes: 10, TransmitBytes: 20,
			AllowedIPs: []net.IPNet{
				{IP: net.ParseIP("10.99.0.2"), Mask: net.CIDRMask(32, 32)},
				ipNet("fd99::/64"),
			}},
		{PublicKey: wgtypes.Key{3}, LastHandshakeTime: time.Unix(0, 0)},
		{PublicKey: wgtypes.Key{4}, Endpoint: &net.UDPAddr{IP: net.ParseIP("fd98::2"), Port: 1},
			AllowedIPs: []net.IPNet{ipNet("10.99.1.0/24")}},
	}
	want := []tunnel.PeerStat{
		{Peer: tunnel.Peer{PublicKey: wgkey.Key{1}.String(), PresharedKey: wgkey.Key{2}.String(),
			AllowedIPs: []netip.Prefix{netip.MustParsePrefix("10.99.0.2/32"), netip.MustParsePrefix("fd99::/64")}},
			Endpoint: netip.MustParseAddrPort("10.98.1.2:51820"), LastHandshake: hs, RxBytes: 10, TxBytes: 20},
		{Peer: tunnel.Peer{PublicKey: wgkey.Key{3}.String()}},
		{Peer: tunnel.Peer{PublicKey: wgkey.Key{4}.String(), AllowedIPs: []netip.Prefix{netip.MustParsePrefix("10.99.1.0/24")}},
			Endpoint: netip.MustParseAddrPort("[fd98::2]:1")},
	}
	got := peerStats(in)
	if diff := cmp.Diff(want, got, cmpopts.EquateComparable(netip.Prefix{}, netip.AddrPort{})); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
	// The peers share one array of prefixes: growing one must not write
	// into the next.
	got[0].AllowedIPs = append(got[0].AllowedIPs, netip.MustParsePrefix("1.2.3.4/32"))
	if got[2].AllowedIPs[0] != netip.MustParsePrefix("10.99.1.0/24") {
		t.Errorf("append to peer 0 changed peer 2: %v", got[2].AllowedIPs)
	}
}
