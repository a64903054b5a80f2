package main

import (
	"io"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

func TestParseServe(t *testing.T) {
	def := config{Listen: "127.0.0.1:8080", Data: "./data", Overlay: netip.MustParsePrefix("100.64.0.0/10"),
		DNSDomain: "edgeward.internal", TempAccessTimeout: 10 * time.Minute, LogChunks: 64,
		ShutdownTimeout: 4 * time.Second, BundleMinute: time.Minute, WGPort: 51820, GreyRate: 20,
		GreyBase: 10 * time.Minute, GreySize: 65536, NodeName: "edgeward",
		WGInterface: "wg0", WGMode: "auto", WGStale: 180 * time.Second, LogFormat: "text",
		MaxConnsPerSource: 64, DiskReserve: 16 << 20, BundleQuota: 64 << 20}
	with := func(f func(*config)) config { c := def; f(&c); return c }
	tests := []struct {
		name    string
		args    []string
		env     map[string]string
		want    config
		wantErr string
	}{
		{"defaults", nil, nil, def, ""},
		{"flags", []string{"--listen", "0.0.0.0:9000", "--data", "/srv/ew", "--overlay", "10.8.0.7/24"}, nil,
			with(func(c *config) {
				c.Listen, c.Data, c.Overlay = "0.0.0.0:9000", "/srv/ew", netip.MustParsePrefix("10.8.0.0/24")
			}), ""},
		{"env", nil, map[string]string{"EDGEWARD_DNS_DOMAIN": "corp.lan", "EDGEWARD_TEMP_ACCESS_TIMEOUT": "30m"},
			with(func(c *config) { c.DNSDomain, c.TempAccessTimeout = "corp.lan", 30*time.Minute }), ""},
		{"flag beats env", []string{"--listen", "127.0.0.1:1"}, map[string]string{"EDGEWARD_LISTEN": "127.0.0.1:2"},
			with(func(c *config) { c.Listen = "127.0.0.1:1" }), ""},
		{"bad env", nil, map[string]string{"EDGEWARD_TEMP_ACCESS_TIMEOUT": "soon"}, config{}, "EDGEWARD_TEMP_ACCESS_TIMEOUT"},
		{"ipv6 overlay", []string{"--overlay", "fd00::/64"}, nil, config{}, "--overlay"},
		{"tiny overlay", []string{"--overlay", "10.0.0.0/31"}, nil, config{}, "--overlay"},
		{"bad level", []string{"--log-level", "loud"}, nil, config{}, "--log-level"},
		{"limits", []string{"--max-conns", "500", "--max-conns-per-source", "0", "--disk-reserve", "1048576", "--bundle-quota", "0"}, nil,
			with(func(c *config) { c.MaxConns, c.MaxConnsPerSource, c.DiskReserve, c.BundleQuota = 500, 0, 1<<20, 0 }), ""},
		{"negative limit", []string{"--max-conns", "-1"}, nil, config{}, "--max-conns"},
		{"json logs to syslog", []string{"--log-format", "json", "--syslog", "--syslog-addr", "udp:192.0.2.1:514"}, nil,
			with(func(c *config) { c.LogFormat, c.Syslog, c.SyslogAddr = "json", true, "udp:192.0.2.1:514" }), ""},
		{"bad log format", []string{"--log-format", "xml"}, nil, config{}, "--log-format"},
		{"bad syslog addr", []string{"--syslog-addr", "udp:nowhere"}, nil, config{}, "--syslog-addr"},
		{"bad wg port", []string{"--wg-port", "70000"}, nil, config{}, "--wg-port"},
		{"dns upstreams", []string{"--dns-upstream", "192.0.2.53, 192.0.2.54:5353"}, nil,
			with(func(c *config) { c.DNSUpstream = []string{"192.0.2.53:53", "192.0.2.54:5353"} }), ""},
		{"no data plane", []string{"--wg-interface", ""}, nil, with(func(c *config) { c.WGInterface = "" }), ""},
		{"bad dns upstream", []string{"--dns-upstream", "dns.example"}, nil, config{}, "--dns-upstream"},
		{"bad wg mode", []string{"--wg-mode", "fast"}, nil, config{}, "--wg-mode"},
		{"never greylist", []string{"--never-greylist", "192.168.1.9/24, 203.0.113.7,::ffff:198.51.100.1, 2001:db8::/48"}, nil,
			with(func(c *config) {
				c.NeverGreylist = []netip.Prefix{netip.MustParsePrefix("192.168.1.0/24"), netip.MustParsePrefix("203.0.113.7/32"),
					netip.MustParsePrefix("198.51.100.1/32"), netip.MustParsePrefix("2001:db8::/48")}
			}), ""},
		{"bad never greylist", []string{"--never-greylist", "lan"}, nil, config{}, "--never-greylist"},
		{"long wg interface", []string{"--wg-interface", "wireguard-overlay0"}, nil, config{}, "--wg-interface"},
		{"unknown flag", []string{"--nope"}, nil, config{}, "not defined"},
		{"stray argument", []string{"extra"}, nil, config{}, "unexpected argument"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := parseServe(tt.args, io.Discard, func(k string) (string, bool) { v, ok := tt.env[k]; return v, ok })
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want it to mention %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, got, cmpopts.EquateComparable(netip.Prefix{})); diff != "" {
				t.Errorf("config (-want +got):\n%s", diff)
			}
		})
	}
}
