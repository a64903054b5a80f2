package dhcp

import (
	"net"
	"net/netip"
	"testing"
	"time"

	"github.com/edgeward/edgeward/core"
	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"github.com/insomniacslk/dhcp/dhcpv4"
)

// ack builds an ACK for 192.0.2.77 from server 192.0.2.1 with mods applied
// on top.
func ack(t *testing.T, mods ...dhcpv4.Modifier) *dhcpv4.DHCPv4 {
	t.Helper()
	base := []dhcpv4.Modifier{
		dhcpv4.WithMessageType(dhcpv4.MessageTypeAck),
		dhcpv4.WithYourIP(net.ParseIP("192.0.2.77")),
		dhcpv4.WithOption(dhcpv4.OptServerIdentifier(net.ParseIP("192.0.2.1"))),
	}
	m, err := dhcpv4.New(append(base, mods...)...)
	if err != nil {
		t.Fatal(err)
	}
	// Parse the wire form, as the client does, so that option encoding
	// is part of the test.
	m, err = dhcpv4.FromBytes(m.ToBytes())
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func TestLeaseFromACK(t *testing.T) {
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	mask24 := dhcpv4.WithNetmask(net.CIDRMask(24, 32))
	hour := dhcpv4.WithLeaseTime(3600)
	server := netip.MustParseAddr("192.0.2.1")
	tests := []struct {
		name    string
		mods    []dhcpv4.Modifier
		want    Lease
		wantErr error
	}{{
		name: "everything",
		mods: []dhcpv4.Modifier{
			mask24, hour,
			dhcpv4.WithOption(dhcpv4.OptRouter(net.ParseIP("192.0.2.1"), net.ParseIP("192.0.2.2"))),
			dhcpv4.WithOption(dhcpv4.OptDNS(net.ParseIP("192.0.2.53"), net.ParseIP("198.51.100.53"))),
			dhcpv4.WithOption(dhcpv4.OptDomainName("corp.example")),
			dhcpv4.WithDomainSearchList("lab.test", "corp.example"),
			dhcpv4.WithOption(dhcpv4.OptRenewTimeValue(1000 * time.Second)),
			dhcpv4.WithOption(dhcpv4.OptRebindingTimeValue(2000 * time.Second)),
		},
		want: Lease{
			Addr:     netip.MustParsePrefix("192.0.2.77/24"),
			Router:   netip.MustParseAddr("192.0.2.1"),
			DNS:      []netip.Addr{netip.MustParseAddr("192.0.2.53"), netip.MustParseAddr("198.51.100.53")},
			Search:   []string{"corp.example", "lab.test"},
			Server:   server,
			Obtained: now,
			Duration: time.Hour,
			Renew:    1000 * time.Second,
			Rebind:   2000 * time.Second,
		},
	}, {
		name: "minimal: classful mask, default timers",
		mods: []dhcpv4.Modifier{hour},
		want: Lease{
			Addr:     netip.MustParsePrefix("192.0.2.77/24"), // class C
			Server:   server,
			Obtained: now,
			Duration: time.Hour,
			Renew:    30 * time.Minute,
			Rebind:   3150 * time.Second,
		},
	}, {
		name: "router outside the subnet is kept",
		mods: []dhcpv4.Modifier{
			dhcpv4.WithNetmask(net.CIDRMask(32, 32)), hour,
			dhcpv4.WithOption(dhcpv4.OptRouter(net.ParseIP("203.0.113.1"))),
		},
		want: Lease{
			Addr:     netip.MustParsePrefix("192.0.2.77/32"),
			Router:   netip.MustParseAddr("203.0.113.1"),
			Server:   server,
			Obtained: now,
			Duration: time.Hour,
			Renew:    30 * time.Minute,
			Rebind:   3150 * time.Second,
		},
	}, {
		name:    "no lease time",
		mods:    []dhcpv4.Modifier{mask24},
		wantErr: core.ErrInvalid,
	}, {
		name:    "no address",
		mods:    []dhcpv4.Modifier{mask24, hour, dhcpv4.WithYourIP(net.IPv4zero)},
		wantErr: core.ErrInvalid,
	}, {
		name:    "non-contiguous netmask",
		mods:    []dhcpv4.Modifier{hour, dhcpv4.WithNetmask(net.IPv4Mask(255, 0, 255, 0))},
		wantErr: core.ErrInvalid,
	}, {
		name:    "a NAK is no lease",
		mods:    []dhcpv4.Modifier{mask24, hour, dhcpv4.WithMessageType(dhcpv4.MessageTypeNak)},
		wantErr: core.ErrInvalid,
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := leaseFromACK(ack(t, tt.mods...), now)
			if diff := cmp.Diff(tt.wantErr, err, cmpopts.EquateErrors()); diff != "" {
				t.Fatalf("error (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tt.want, got, cmpopts.EquateComparable(netip.Addr{}, netip.Prefix{})); diff != "" {
				t.Errorf("lease (-want +got):\n%s", diff)
			}
		})
	}
}

func TestTimers(t *testing.T) {
	const d = 8000 * time.Second
	tests := []struct {
		name           string
		t1, t2         time.Duration
		wantT1, wantT2 time.Duration
	}{
		{"server sends none: 50% and 87.5%", 0, 0, 4000 * time.Second, 7000 * time.Second},
		{"server values kept", 100 * time.Second, 200 * time.Second, 100 * time.Second, 200 * time.Second},
		{"only T1 sent", 1000 * time.Second, 0, 1000 * time.Second, 7000 * time.Second},
		{"only T2 sent", 0, 6000 * time.Second, 4000 * time.Second, 6000 * time.Second},
		{"T2 beyond the lease", 0, 9000 * time.Second, 4000 * time.Second, 7000 * time.Second},
		{"T1 after T2", 7500 * time.Second, 7000 * time.Second, 4000 * time.Second, 7000 * time.Second},
		{"T2 before 50%: T1 halves it", 0, 2000 * time.Second, 1000 * time.Second, 2000 * time.Second},
		{"T1 equal to T2", 3000 * time.Second, 3000 * time.Second, 1500 * time.Second, 3000 * time.Second},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t1, t2 := timers(d, tt.t1, tt.t2)
			if t1 != tt.wantT1 || t2 != tt.wantT2 {
				t.Errorf("timers(%v, %v, %v) = %v, %v; want %v, %v", d, tt.t1, tt.t2, t1, t2, tt.wantT1, tt.wantT2)
			}
		})
	}
}
