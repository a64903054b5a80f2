package nic

import (
	"net"
	"net/netip"
	"testing"

	"github.com/edgeward/edgeward/core/links"
	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"github.com/jsimonetti/rtnetlink/v2"
	"github.com/jsimonetti/rtnetlink/v2/driver"
	"github.com/mdlayher/netlink"
	"golang.org/x/sys/unix"
)

func encode(t *testing.T, fn func(ae *netlink.AttributeEncoder)) []byte {
	t.Helper()
	ae := netlink.NewAttributeEncoder()
	fn(ae)
	b, err := ae.Encode()
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestToLink(t *testing.T) {
	yes, no := true, false
	one, zero := uint8(1), uint8(0)
	vlanData := encode(t, func(ae *netlink.AttributeEncoder) { ae.Uint16(unix.IFLA_VLAN_ID, 10) })
	tests := []struct {
		name string
		in   kernelLink
		want links.Link
	}{
		{name: "veth up with counters",
			in: kernelLink{LinkMessage: rtnetlink.LinkMessage{Index: 3, Flags: unix.IFF_UP | unix.IFF_RUNNING,
				Attributes: &rtnetlink.LinkAttributes{Name: "ewa", MTU: 1500, Address: net.HardwareAddr{2, 0, 0, 0, 0, 1},
					Carrier: &one, OperationalState: rtnetlink.OperStateUp, Info: &rtnetlink.LinkInfo{Kind: "veth"},
					Stats64: &rtnetlink.LinkStats64{RXBytes: 100, TXBytes: 200}}}, MinMTU: 68, MaxMTU: 65535},
			want: links.Link{Index: 3, Name: "ewa", MAC: "02:00:00:00:00:01", Kind: "veth", MTU: 1500, MinMTU: 68,
				MaxMTU: 65535, AdminUp: true, OperState: links.OperUp, Carrier: &yes, RxBytes: 100, TxBytes: 200}},
		{name: "loopback has no kind from the kernel",
			in: kernelLink{LinkMessage: rtnetlink.LinkMessage{Index: 1, Flags: unix.IFF_UP | unix.IFF_LOOPBACK,
				Attributes: &rtnetlink.LinkAttributes{Name: "lo", MTU: 65536, Address: make(net.HardwareAddr, 6),
					Carrier: &one, Stats: &rtnetlink.LinkStats{RXBytes: 7, TXBytes: 7}}}},
			want: links.Link{Index: 1, Name: "lo", MAC: "00:00:00:00:00:00", Kind: "loopback", MTU: 65536,
				AdminUp: true, OperState: links.OperUnknown, Carrier: &yes, RxBytes: 7, TxBytes: 7}},
		{name: "physical NIC down, no carrier",
			in: kernelLink{LinkMessage: rtnetlink.LinkMessage{Index: 2, Attributes: &rtnetlink.LinkAttributes{
				Name: "eth0", MTU: 1500, Carrier: &zero, OperationalState: rtnetlink.OperStateDown}}},
			want: links.Link{Index: 2, Name: "eth0", MTU: 1500, OperState: links.OperDown, Carrier: &no}},
		{name: "vlan: id from raw info data, parent from IFLA_LINK",
			in: kernelLink{LinkMessage: rtnetlink.LinkMessage{Index: 5, Attributes: &rtnetlink.LinkAttributes{
				Name: "eth0.10", Type: 2, OperationalState: rtnetlink.OperStateLowerLayerDown,
				Info: &rtnetlink.LinkInfo{Kind: "vlan", Data: &rtnetlink.LinkData{Name: "vlan", Data: vlanData}}}}},
			want: links.Link{Index: 5, Name: "eth0.10", Kind: "vlan", OperState: links.OperLowerLayerDown,
				VLANID: 10, ParentIndex: 2}},
		{name: "bond mode",
			in: kernelLink{LinkMessage: rtnetlink.LinkMessage{Index: 6, Attributes: &rtnetlink.LinkAttributes{
				Name: "bond0", OperationalState: rtnetlink.OperStateDormant,
				Info: &rtnetlink.LinkInfo{Kind: "bond", Data: &driver.Bond{Mode: driver.BondMode802_3AD}}}}},
			want: links.Link{Index: 6, Name: "bond0", Kind: "bond", OperState: links.OperDormant, BondMode: links.BondLACP}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if diff := cmp.Diff(tt.want, toLink(&tt.in), equateIP); diff != "" {
				t.Errorf("toLink (-want +got):\n%s", diff)
			}
		})
	}
}

func TestToAddr(t *testing.T) {
	v4, v6 := net.ParseIP("192.0.2.1").To4(), net.ParseIP("2001:db8::1")
	tests := []struct {
		name   string
		in     rtnetlink.AddressMessage
		want   links.Addr
		wantOK bool
	}{
		{name: "permanent ipv4 is static",
			in:   rtnetlink.AddressMessage{PrefixLength: 24, Flags: unix.IFA_F_PERMANENT, Attributes: &rtnetlink.AddressAttributes{Address: v4, Local: v4}},
			want: links.Addr{Prefix: netip.MustParsePrefix("192.0.2.1/24"), AssignedBy: links.AssignedStatic}, wantOK: true},
		{name: "finite lifetime is dhcp",
			in:   rtnetlink.AddressMessage{PrefixLength: 24, Attributes: &rtnetlink.AddressAttributes{Address: v4, Local: v4}},
			want: links.Addr{Prefix: netip.MustParsePrefix("192.0.2.1/24"), AssignedBy: links.AssignedDHCP}, wantOK: true},
		{name: "IFA_FLAGS counts too",
			in:   rtnetlink.AddressMessage{PrefixLength: 64, Attributes: &rtnetlink.AddressAttributes{Address: v6, Flags: unix.IFA_F_PERMANENT}},
			want: links.Addr{Prefix: netip.MustParsePrefix("2001:db8::1/64"), AssignedBy: links.AssignedStatic}, wantOK: true},
		{name: "slaac privacy address: finite lifetime, so dhcp",
			in:   rtnetlink.AddressMessage{PrefixLength: 64, Flags: unix.IFA_F_TEMPORARY, Attributes: &rtnetlink.AddressAttributes{Address: v6}},
			want: links.Addr{Prefix: netip.MustParsePrefix("2001:db8::1/64"), AssignedBy: links.AssignedDHCP}, wantOK: true},
		{name: "fe80::/10 is link-local even when permanent",
			in: rtnetlink.AddressMessage{PrefixLength: 64, Flags: unix.IFA_F_PERMANENT,
				Attributes: &rtnetlink.AddressAttributes{Address: net.ParseIP("fe80::1")}},
			want: links.Addr{Prefix: netip.MustParsePrefix("fe80::1/64"), AssignedBy: links.AssignedLinkLocal}, wantOK: true},
		{name: "169.254/16 is link-local",
			in: rtnetlink.AddressMessage{PrefixLength: 16, Flags: unix.IFA_F_PERMANENT,
				Attributes: &rtnetlink.AddressAttributes{Local: net.ParseIP("169.254.3.4").To4()}},
			want: links.Addr{Prefix: netip.MustParsePrefix("169.254.3.4/16"), AssignedBy: links.AssignedLinkLocal}, wantOK: true},
		{name: "point-to-point: the local address, not the peer",
			in: rtnetlink.AddressMessage{PrefixLength: 32, Flags: unix.IFA_F_PERMANENT,
				Attributes: &rtnetlink.AddressAttributes{Address: net.ParseIP("10.0.0.2").To4(), Local: net.ParseIP("10.0.0.1").To4()}},
			want: links.Addr{Prefix: netip.MustParsePrefix("10.0.0.1/32"), AssignedBy: links.AssignedStatic}, wantOK: true},
		{name: "no address", in: rtnetlink.AddressMessage{Attributes: &rtnetlink.AddressAttributes{}}, wantOK: false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := toAddr(&tt.in)
			if diff := cmp.Diff(tt.want, got, equateIP); diff != "" || ok != tt.wantOK {
				t.Errorf("toAddr = %v, ok %t; want ok %t (-want +got):\n%s", got, ok, tt.wantOK, diff)
			}
		})
	}
}

func TestMTUBounds(t *testing.T) {
	attrs := encode(t, func(ae *netlink.AttributeEncoder) {
		ae.String(unix.IFLA_IFNAME, "ewa")
		ae.Uint32(unix.IFLA_MTU, 1500)
		ae.Uint32(unix.IFLA_MIN_MTU, 68)
		ae.Uint32(unix.IFLA_MAX_MTU, 65535)
	})
	tests := []struct {
		name   string
		data   []byte
		lo, hi uint32
	}{
		{name: "reported", data: append(make([]byte, unix.SizeofIfInfomsg), attrs...), lo: 68, hi: 65535},
		{name: "header only", data: make([]byte, unix.SizeofIfInfomsg)},
		{name: "truncated attributes", data: append(make([]byte, unix.SizeofIfInfomsg), attrs[:len(attrs)-3]...)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			lo, hi := mtuBounds(tt.data)
			if diff := cmp.Diff([2]uint32{tt.lo, tt.hi}, [2]uint32{lo, hi}); diff != "" {
				t.Errorf("mtuBounds (-want +got):\n%s", diff)
			}
		})
	}
}

// speedUnknown is SPEED_UNKNOWN; a variable, so that int(speedUnknown)
// compiles where int has 32 bits.
var speedUnknown uint32 = 0xFFFFFFFF

func TestSpeed(t *testing.T) {
	tests := []struct {
		name     string
		in, want int
	}{
		{name: "veth", in: 10000, want: 10000},
		// ethtool decodes the kernel's uint32 into int: 4294967295, or -1
		// where int has 32 bits.
		{name: "SPEED_UNKNOWN as decoded here", in: int(speedUnknown), want: 0},
		{name: "SPEED_UNKNOWN on 32-bit", in: -1, want: 0},
		{name: "zero", in: 0, want: 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := speed(tt.in); got != tt.want {
				t.Errorf("speed(%d) = %d, want %d", tt.in, got, tt.want)
			}
		})
	}
}

func TestGateways(t *testing.T) {
	a := netip.MustParseAddr
	routes := []defaultRoute{
		{index: 2, gw: a("192.0.2.1"), metric: 1024, dynamic: true},
		{index: 2, gw: a("192.0.2.254"), metric: 0},
		{index: 2, gw: a("fe80::1"), metric: 1024},
		{index: 3, gw: a("198.51.100.1"), metric: 10, multipath: true},
		{index: 4}, // through the link, no gateway
	}
	tests := []struct {
		name   string
		index  uint32
		v4, v6 netip.Addr
	}{
		{name: "lowest metric wins", index: 2, v4: a("192.0.2.254"), v6: a("fe80::1")},
		{name: "multipath next hop", index: 3, v4: a("198.51.100.1")},
		{name: "no gateway", index: 4},
		{name: "no route", index: 9},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v4, v6 := gateways(routes, tt.index)
			if v4 != tt.v4 || v6 != tt.v6 {
				t.Errorf("gateways = %v, %v; want %v, %v", v4, v6, tt.v4, tt.v6)
			}
		})
	}
}

// equateIP compares netip values with ==.
var equateIP = cmpopts.EquateComparable(netip.Addr{}, netip.Prefix{})
