package main

import (
	"net"
	"testing"
)

func TestOpenURL(t *testing.T) {
	lan := []net.Addr{
		&net.IPNet{IP: net.ParseIP("127.0.0.1"), Mask: net.CIDRMask(8, 32)},
		&net.IPNet{IP: net.ParseIP("fe80::1"), Mask: net.CIDRMask(64, 128)},
		&net.IPNet{IP: net.ParseIP("2001:db8::7"), Mask: net.CIDRMask(64, 128)},
		&net.IPNet{IP: net.ParseIP("192.168.1.1"), Mask: net.CIDRMask(24, 32)},
	}
	v6only := lan[:3]
	tests := []struct {
		name, scheme string
		listen       net.Addr
		ifaddrs      []net.Addr
		want         string
	}{
		{"loopback", "http", &net.TCPAddr{IP: net.ParseIP("127.0.0.1"), Port: 8080}, lan, "http://127.0.0.1:8080/"},
		{"one address", "https", &net.TCPAddr{IP: net.ParseIP("10.0.0.1"), Port: 443}, lan, "https://10.0.0.1:443/"},
		{"every IPv4 address: the LAN's", "http", &net.TCPAddr{IP: net.IPv4zero, Port: 8080}, lan, "http://192.168.1.1:8080/"},
		{"every address: the LAN's", "http", &net.TCPAddr{IP: net.IPv6unspecified, Port: 80}, lan, "http://192.168.1.1:80/"},
		{"IPv6 only", "http", &net.TCPAddr{IP: net.IPv6unspecified, Port: 80}, v6only, "http://[2001:db8::7]:80/"},
		{"no LAN address", "http", &net.TCPAddr{IP: net.IPv4zero, Port: 8080}, lan[:2], "http://localhost:8080/"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := openURL(tt.scheme, tt.listen, tt.ifaddrs); got != tt.want {
				t.Errorf("openURL = %q, want %q", got, tt.want)
			}
		})
	}
}
