package wg

import (
	"errors"
	"net/netip"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/edgeward/edgeward/core"
	"github.com/edgeward/edgeward/core/wgkey"
)

func TestOptionsCheck(t *testing.T) {
	key := wgkey.Key{1}
	good := func() Options {
		return Options{Name: "wg0", PrivateKey: key, Address: netip.MustParsePrefix("100.64.0.1/10")}
	}
	tests := []struct {
		name       string
		edit       func(o *Options)
		wantFields []string
		wantMTU    int
		wantMode   string
	}{
		{"defaults", func(o *Options) {}, nil, DefaultMTU, ModeAuto},
		{"explicit", func(o *Options) { o.MTU, o.Mode, o.ListenPort = 1280, ModeUserspace, 51820 }, nil, 1280, ModeUserspace},
		{"ipv6 overlay", func(o *Options) { o.Address = netip.MustParsePrefix("fd00:64::1/64") }, nil, DefaultMTU, ModeAuto},
		{"no name", func(o *Options) { o.Name = "" }, []string{"name"}, DefaultMTU, ModeAuto},
		{"long name", func(o *Options) { o.Name = "wg0123456789abcd" }, []string{"name"}, DefaultMTU, ModeAuto},
		{"path in name", func(o *Options) { o.Name = "../wg0" }, []string{"name"}, DefaultMTU, ModeAuto},
		{"dot dot", func(o *Options) { o.Name = ".." }, []string{"name"}, DefaultMTU, ModeAuto},
		{"space in name", func(o *Options) { o.Name = "wg 0" }, []string{"name"}, DefaultMTU, ModeAuto},
		{"zero key", func(o *Options) { o.PrivateKey = wgkey.Key{} }, []string{"private_key"}, DefaultMTU, ModeAuto},
		{"port", func(o *Options) { o.ListenPort = 65536 }, []string{"listen_port"}, DefaultMTU, ModeAuto},
		{"no address", func(o *Options) { o.Address = netip.Prefix{} }, []string{"address"}, DefaultMTU, ModeAuto},
		{"unspecified address", func(o *Options) { o.Address = netip.MustParsePrefix("0.0.0.0/0") }, []string{"address"}, DefaultMTU, ModeAuto},
		{"small mtu", func(o *Options) { o.MTU = 60 }, []string{"mtu"}, 60, ModeAuto},
		{"small ipv6 mtu", func(o *Options) { o.MTU, o.Address = 1200, netip.MustParsePrefix("fd00::1/64") }, []string{"mtu"}, 1200, ModeAuto},
		{"mode", func(o *Options) { o.Mode = "fast" }, []string{"mode"}, DefaultMTU, "fast"},
		{"several", func(o *Options) { o.Name, o.Mode = "", "x" }, []string{"name", "mode"}, DefaultMTU, "x"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o := good()
			tt.edit(&o)
			err := o.check()
			var fields []string
			var ve *core.ValidationError
			if errors.As(err, &ve) {
				for _, f := range ve.Fields {
					fields = append(fields, f.Field)
				}
			}
			if diff := cmp.Diff(tt.wantFields, fields); diff != "" {
				t.Errorf("refused fields (-want +got):\n%s\n(err %v)", diff, err)
			}
			if err != nil && !errors.Is(err, core.ErrInvalid) {
				t.Errorf("error %v does not match core.ErrInvalid", err)
			}
			if o.MTU != tt.wantMTU || o.Mode != tt.wantMode || o.Log == nil {
				t.Errorf("after check: MTU %d Mode %q Log %v, want %d %q non-nil", o.MTU, o.Mode, o.Log, tt.wantMTU, tt.wantMode)
			}
		})
	}
}
