package links

import (
	"context"
	"errors"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/edgeward/edgeward/core"
	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

func TestValidation(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, lab())
	static4 := func(mod func(p *NetworkPatch)) NetworkPatch {
		p := NetworkPatch{Name: ptr("lab"), AssignedBy: ptr(AssignedStatic), IPRanges: &[]string{"10.9.0.10-12"},
			Netmask: ptr("255.255.255.0"), VLANID: ptr(9), MTU: ptr(1400)}
		if mod != nil {
			mod(&p)
		}
		return p
	}
	tests := []struct {
		name    string
		do      func() error
		wantErr error
		fields  []string
	}{
		{"unknown interface", func() error { return f.svc.SetInterface(ctx, 99, InterfacePatch{MTU: ptr(1500)}, WriteOpts{}) }, core.ErrNotFound, nil},
		{"unknown network", func() error { return f.svc.SetNetwork(ctx, 1, 99, NetworkPatch{}, WriteOpts{}) }, core.ErrNotFound, nil},
		{"delete unknown network", func() error { return f.svc.DeleteNetwork(ctx, 1, 99, WriteOpts{}) }, core.ErrNotFound, nil},
		{"mtu above the driver's max", func() error { return f.svc.SetInterface(ctx, 1, InterfacePatch{MTU: ptr(9001)}, WriteOpts{}) }, core.ErrInvalid, []string{"mtu"}},
		{"mtu below ipv6 minimum", func() error { return f.svc.SetInterface(ctx, 1, InterfacePatch{MTU: ptr(1200)}, WriteOpts{}) }, core.ErrInvalid, []string{"mtu"}},
		{"mtu below ipv4 minimum", func() error { return f.svc.SetInterface(ctx, 2, InterfacePatch{MTU: ptr(67)}, WriteOpts{}) }, core.ErrInvalid, []string{"mtu"}},
		{"mtu above 65535 without driver bounds", func() error { return f.svc.SetInterface(ctx, 2, InterfacePatch{MTU: ptr(65536)}, WriteOpts{}) }, core.ErrInvalid, []string{"mtu"}},
		{"bad gateway", func() error {
			return f.svc.SetInterface(ctx, 1, InterfacePatch{DefaultGateway: ptr("2001:db8::1"), DefaultGatewayV6: ptr("nope")}, WriteOpts{})
		}, core.ErrInvalid, []string{"default_gateway", "default_gateway_ipv6"}},
		{"gateway no kernel routes through", func() error {
			return f.svc.SetInterface(ctx, 1, InterfacePatch{DefaultGateway: ptr("0.0.0.0"), DefaultGatewayV6: ptr("ff02::1")}, WriteOpts{})
		}, core.ErrInvalid, []string{"default_gateway", "default_gateway_ipv6"}},
		{"bad bonding mode", func() error {
			return f.svc.SetInterface(ctx, 1, InterfacePatch{BondingMode: ptr("ROUND_ROBIN")}, WriteOpts{})
		}, core.ErrInvalid, []string{"bonding_mode"}},
		{"name is read-only", func() error { return f.svc.SetInterface(ctx, 1, InterfacePatch{Name: ptr("bond0")}, WriteOpts{}) }, core.ErrInvalid, []string{"name"}},
		{"put needs every field", func() error {
			return f.svc.SetInterface(ctx, 1, InterfacePatch{MTU: ptr(1500)}, WriteOpts{Replace: true})
		}, core.ErrInvalid,
			[]string{"bonding_mode", "default_gateway", "default_gateway_ipv6"}},
		{"malformed address", func() error {
			_, err := f.svc.AddNetwork(ctx, 1, static4(func(p *NetworkPatch) { p.IPRanges = &[]string{"10.9.0.300"} }), WriteOpts{})
			return err
		}, core.ErrInvalid, []string{"ip_ranges[0]"}},
		{"address outside the netmask's network", func() error {
			_, err := f.svc.AddNetwork(ctx, 1, static4(func(p *NetworkPatch) { p.IPRanges = &[]string{"10.9.0.10", "10.9.1.10"} }), WriteOpts{})
			return err
		}, core.ErrInvalid, []string{"ip_ranges[1]"}},
		{"floating outside the CIDR", func() error {
			_, err := f.svc.AddNetwork(ctx, 1, static4(func(p *NetworkPatch) {
				p.Netmask, p.FloatingIPRanges = ptr("10.9.0.0/24"), &[]string{"10.8.0.1"}
			}), WriteOpts{})
			return err
		}, core.ErrInvalid, []string{"floating_ip_ranges[0]"}},
		{"non-contiguous netmask", func() error {
			_, err := f.svc.AddNetwork(ctx, 1, static4(func(p *NetworkPatch) { p.Netmask = ptr("255.0.255.0") }), WriteOpts{})
			return err
		}, core.ErrInvalid, []string{"netmask"}},
		{"family mismatch", func() error {
			_, err := f.svc.AddNetwork(ctx, 1, static4(func(p *NetworkPatch) { p.Netmask = ptr("ffff:ffff:ffff:ffff::") }), WriteOpts{})
			return err
		}, core.ErrInvalid, []string{"ip_ranges[0]"}},
		{"range backwards", func() error {
			_, err := f.svc.AddNetwork(ctx, 1, static4(func(p *NetworkPatch) { p.IPRanges = &[]string{"10.9.0.20-10"} }), WriteOpts{})
			return err
		}, core.ErrInvalid, []string{"ip_ranges[0]"}},
		{"vlan out of range", func() error {
			_, err := f.svc.AddNetwork(ctx, 1, static4(func(p *NetworkPatch) { p.VLANID = ptr(4095) }), WriteOpts{})
			return err
		}, core.ErrInvalid, []string{"vlan_id"}},
		{"unknown assigned_by", func() error {
			_, err := f.svc.AddNetwork(ctx, 1, static4(func(p *NetworkPatch) { p.AssignedBy = ptr("BOOTP") }), WriteOpts{})
			return err
		}, core.ErrInvalid, []string{"assigned_by", "ip_ranges", "vlan_id"}},
		{"bad dns", func() error {
			_, err := f.svc.AddNetwork(ctx, 1, static4(func(p *NetworkPatch) {
				p.DNSServers, p.DNSSearchDomains = &[]string{"1.1.1.1", "dns"}, &[]string{"ok.example", "bad domain"}
			}), WriteOpts{})
			return err
		}, core.ErrInvalid, []string{"dns_servers[1]", "dns_search_domains[1]"}},
		{"tagged mtu above untagged", func() error {
			_, err := f.svc.AddNetwork(ctx, 1, static4(func(p *NetworkPatch) { p.MTU = ptr(1600) }), WriteOpts{})
			return err
		}, core.ErrInvalid, []string{"mtu"}},
		{"untagged mtu is the interface's", func() error {
			return f.svc.SetNetwork(ctx, 1, 1, NetworkPatch{MTU: ptr(1400)}, WriteOpts{})
		}, core.ErrInvalid, []string{"mtu"}},
		{"dhcp must be alone", func() error {
			return f.svc.SetNetwork(ctx, 1, 1, NetworkPatch{AssignedBy: ptr(AssignedDHCP), IPRanges: &[]string{}, Netmask: ptr("")}, WriteOpts{})
		}, core.ErrInvalid, []string{"assigned_by"}},
		{"last network", func() error { return f.svc.DeleteNetwork(ctx, 2, 1, WriteOpts{}) }, core.ErrInvalid, []string{"network_id"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before, _ := f.svc.ETag(1)
			err := tt.do()
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("err %v, want %v", err, tt.wantErr)
			}
			if diff := cmp.Diff(tt.fields, fieldsOf(err)); diff != "" {
				t.Errorf("refused fields (-want +got):\n%s\nerr: %v", diff, err)
			}
			if after, _ := f.svc.ETag(1); after != before {
				t.Errorf("a refused write changed interface 1")
			}
		})
	}
}

func TestUntaggedMTUFollowsInterface(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, lab())
	nid, err := f.svc.AddNetwork(ctx, 1, NetworkPatch{Name: ptr("v9"), AssignedBy: ptr(AssignedStatic),
		IPRanges: &[]string{"10.9.0.10"}, Netmask: ptr("10.9.0.0/24"), VLANID: ptr(9), MTU: ptr(1500)}, WriteOpts{})
	if err != nil {
		t.Fatal(err)
	}
	if err := f.svc.SetInterface(ctx, 1, InterfacePatch{MTU: ptr(9000)}, WriteOpts{}); err != nil {
		t.Fatal(err)
	}
	for _, id := range []int{1, 2} {
		if n, _ := f.svc.Network(1, id); n.MTU != 9000 {
			t.Errorf("untagged network %d: MTU %d, want 9000", id, n.MTU)
		}
	}
	if n, _ := f.svc.Network(1, nid); n.MTU != 1500 {
		t.Errorf("tagged network: MTU %d, want 1500", n.MTU)
	}
	// The same MTU in a PUT is fine; lowering the interface below a
	// tagged network is not.
	if err := f.svc.SetNetwork(ctx, 1, 1, NetworkPatch{Name: ptr("Default"), AssignedBy: ptr(AssignedStatic),
		IPRanges: &[]string{"192.168.1.1"}, Netmask: ptr("255.255.255.0"), MTU: ptr(9000)}, WriteOpts{Replace: true}); err != nil {
		t.Fatalf("PUT with the interface's MTU: %v", err)
	}
	err = f.svc.SetInterface(ctx, 1, InterfacePatch{MTU: ptr(1400)}, WriteOpts{})
	if diff := cmp.Diff([]string{"mtu"}, fieldsOf(err)); diff != "" || !strings.Contains(err.Error(), "untagged MTU") {
		t.Errorf("lowering below a tagged network: %v", err)
	}
	err = f.svc.SetNetwork(ctx, 1, 1, NetworkPatch{MTU: ptr(1500)}, WriteOpts{})
	if err == nil || !strings.Contains(err.Error(), "modify the interface config instead") {
		t.Errorf("PATCH of the untagged MTU: %v", err)
	}
}

func TestUpdateStatus(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, lab())
	if got := f.status(t, 1); got != ChangesPending {
		t.Errorf("before the first apply: %s", got)
	}
	if err := f.svc.ApplyAll(ctx); err != nil {
		t.Fatal(err)
	}
	if got := f.status(t, 1); got != ChangesApplied {
		t.Errorf("after apply: %s", got)
	}
	f.k.setErr(errors.New("netlink: device busy"))
	if err := f.svc.SetInterface(ctx, 1, InterfacePatch{MTU: ptr(1400)}, WriteOpts{}); err != nil {
		t.Fatal(err)
	}
	if got := f.status(t, 1); got != ChangesPending {
		t.Errorf("kernel refused: %s", got)
	}
	f.k.setErr(nil)
	if err := f.svc.ApplyAll(ctx); err != nil {
		t.Fatal(err)
	}
	if got, mtu := f.status(t, 1), f.k.link("eth0").MTU; got != ChangesApplied || mtu != 1400 {
		t.Errorf("re-applied: %s, kernel MTU %d", got, mtu)
	}
	f.k.edit("eth0", func(l *Link) { l.MTU = 1500 }) // someone else changed it
	if got := f.status(t, 1); got != ChangesPending {
		t.Errorf("kernel drifted: %s", got)
	}
	f.k.remove("eth0")
	if got := f.status(t, 1); got != Unavailable {
		t.Errorf("link gone: %s", got)
	}
	st, _ := f.svc.StatusOf(ctx, 1, 1)
	if st.Details.OperState != OperMissing {
		t.Errorf("link gone: interface_status %s", st.Details.OperState)
	}
	if _, err := f.svc.StatusOf(ctx, 1, 2); !errors.Is(err, core.ErrNotFound) {
		t.Errorf("node 2: %v", err)
	}
}

// TestStatuses: every interface's status, as StatusOf gives it, from one
// read of the kernel.
func TestStatuses(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, lab())
	if err := f.svc.ApplyAll(ctx); err != nil {
		t.Fatal(err)
	}
	f.k.remove("eth1") // gone: UNAVAILABLE
	var want []NodeStatus
	for _, i := range f.svc.Interfaces(ctx) {
		st, err := f.svc.StatusOf(ctx, i.ID, 1)
		if err != nil {
			t.Fatal(err)
		}
		want = append(want, st)
	}
	if len(want) != 3 {
		t.Fatalf("%d interfaces, want 3", len(want))
	}
	reads := f.k.readCount()
	got := f.svc.Statuses(ctx)
	if diff := cmp.Diff(want, got, cmpopts.EquateComparable(netip.Addr{})); diff != "" {
		t.Errorf("Statuses (-want +got):\n%s", diff)
	}
	if n := f.k.readCount() - reads; n != 1 {
		t.Errorf("Statuses read the kernel %d times, want once", n)
	}
}

// TestApplyAllReadsOnce: the periodic check reads the kernel once to
// adopt new links and to apply the configs.
func TestApplyAllReadsOnce(t *testing.T) {
	f := newFixture(t, lab())
	reads := f.k.readCount()
	if err := f.svc.ApplyAll(context.Background()); err != nil {
		t.Fatal(err)
	}
	if n := f.k.readCount() - reads; n != 1 {
		t.Errorf("ApplyAll read the kernel %d times, want once", n)
	}
	if got := f.status(t, 1); got != ChangesApplied {
		t.Errorf("after apply: %s", got)
	}
}

func TestConfirmKeepsChange(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, lab())
	start := f.clock.Now()
	if err := f.svc.SetInterface(ctx, 1, InterfacePatch{MTU: ptr(1400)}, WriteOpts{ConfirmWithin: time.Minute}); err != nil {
		t.Fatal(err)
	}
	f.clock.Add(30 * time.Second)
	// The deadline is known, also after a restart.
	f.restart(t)
	if d, ok := f.svc.Pending(1); !ok || !d.Equal(start.Add(time.Minute)) {
		t.Errorf("Pending = %v, %v; want %v", d, ok, start.Add(time.Minute))
	}
	if err := f.svc.Confirm(ctx, 1); err != nil {
		t.Fatal(err)
	}
	if _, ok := f.svc.Pending(1); ok {
		t.Error("still pending after the confirmation")
	}
	f.clock.Add(time.Hour)
	f.svc.sweep(ctx)
	f.restart(t) // nothing pending survives either
	f.svc.sweep(ctx)
	if i, _ := f.svc.Interface(1); i.MTU != 1400 {
		t.Errorf("confirmed MTU lost: %d", i.MTU)
	}
	if err := f.svc.Confirm(ctx, 1); !errors.Is(err, core.ErrConflict) {
		t.Errorf("second confirm: %v", err)
	}
	if err := f.svc.Confirm(ctx, 42); !errors.Is(err, core.ErrNotFound) {
		t.Errorf("confirm unknown interface: %v", err)
	}
}

func TestNoConfirmRollsBack(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, lab())
	if err := f.svc.ApplyAll(ctx); err != nil {
		t.Fatal(err)
	}
	before, _ := f.svc.Networks(1)
	for _, mtu := range []int{1400, 1300} { // two unconfirmed changes roll back to before the first
		if err := f.svc.SetInterface(ctx, 1, InterfacePatch{MTU: ptr(mtu)}, WriteOpts{ConfirmWithin: time.Minute}); err != nil {
			t.Fatal(err)
		}
	}
	if err := f.svc.SetNetwork(ctx, 1, 1, NetworkPatch{IPRanges: &[]string{"192.168.1.9"}}, WriteOpts{ConfirmWithin: time.Minute}); err != nil {
		t.Fatal(err)
	}
	if got := f.k.link("eth0").MTU; got != 1300 {
		t.Fatalf("kernel MTU %d before the deadline", got)
	}
	f.clock.Add(59 * time.Second)
	f.svc.sweep(ctx)
	if i, _ := f.svc.Interface(1); i.MTU != 1300 {
		t.Fatalf("rolled back before the deadline")
	}
	f.restart(t) // the rollback point is durable
	f.clock.Add(2 * time.Second)
	f.svc.sweep(ctx)
	if i, _ := f.svc.Interface(1); i.MTU != 1500 {
		t.Errorf("store MTU %d after the deadline, want 1500", i.MTU)
	}
	after, _ := f.svc.Networks(1)
	if diff := cmp.Diff(before, after); diff != "" {
		t.Errorf("networks not restored (-want +got):\n%s", diff)
	}
	if got := f.k.link("eth0").MTU; got != 1500 {
		t.Errorf("kernel MTU %d after rollback", got)
	}
	if got := f.status(t, 1); got != ChangesApplied {
		t.Errorf("after rollback: %s", got)
	}
	if k := f.kinds(); len(k) == 0 || k[len(k)-1] != "link_config_rolled_back" {
		t.Errorf("events %v, want a rollback last", k)
	}
	if err := f.svc.Confirm(ctx, 1); !errors.Is(err, core.ErrConflict) {
		t.Errorf("confirm after rollback: %v", err)
	}
}

// TestLateConfirmWithoutResolvConf: a rollback is stored even when the
// resolver file cannot be written, and the late confirmation says so.
func TestLateConfirmWithoutResolvConf(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, lab())
	f.resolv = filepath.Join(f.dir, "missing", "resolv.conf")
	f.restart(t)
	if err := f.svc.SetInterface(ctx, 1, InterfacePatch{MTU: ptr(1400)}, WriteOpts{ConfirmWithin: time.Minute}); err != nil {
		t.Fatal(err)
	}
	f.clock.Add(2 * time.Minute)
	err := f.svc.Confirm(ctx, 1)
	if !errors.Is(err, core.ErrConflict) || !strings.Contains(err.Error(), "rolled back") {
		t.Errorf("late confirm: %v, want the rollback's conflict", err)
	}
	if i, _ := f.svc.Interface(1); i.MTU != 1500 {
		t.Errorf("MTU %d after the rollback, want 1500", i.MTU)
	}
}

func TestLockoutGuard(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, lab())
	admin := WriteOpts{ClientAddr: netipAddr("192.168.1.2")}
	drop := NetworkPatch{IPRanges: &[]string{"192.168.1.1"}}
	err := f.svc.SetNetwork(ctx, 1, 1, drop, admin)
	if diff := cmp.Diff([]string{"confirm_within"}, fieldsOf(err)); diff != "" || !strings.Contains(err.Error(), "192.168.1.2") {
		t.Fatalf("removing the admin's address: %v", err)
	}
	// Keeping it, or another address, is fine; so is removing it with a deadline.
	if err := f.svc.SetNetwork(ctx, 1, 1, NetworkPatch{IPRanges: &[]string{"192.168.1.1-2"}}, admin); err != nil {
		t.Errorf("keeping the address: %v", err)
	}
	if err := f.svc.SetNetwork(ctx, 1, 1, drop, WriteOpts{ClientAddr: netipAddr("10.0.0.7")}); err != nil {
		t.Errorf("admin on another interface: %v", err)
	}
	if err := f.svc.SetNetwork(ctx, 1, 1, NetworkPatch{IPRanges: &[]string{"192.168.1.2"}}, WriteOpts{ClientAddr: netipAddr("192.168.1.2")}); err != nil {
		t.Fatal(err)
	}
	admin.ConfirmWithin = time.Minute
	if err := f.svc.SetNetwork(ctx, 1, 1, drop, admin); err != nil {
		t.Errorf("with confirm_within: %v", err)
	}
	// Deleting the network that holds it counts too.
	if err := f.svc.DeleteNetwork(ctx, 1, 2, WriteOpts{ClientAddr: netipAddr("2001:db8::1")}); fieldsOf(err) == nil {
		t.Errorf("deleting the admin's network: %v", err)
	}
}

func TestIfMatch(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, lab())
	tag, _ := f.svc.ETag(1)
	if err := f.svc.SetInterface(ctx, 1, InterfacePatch{MTU: ptr(1400)}, WriteOpts{IfMatch: tag}); err != nil {
		t.Fatal(err)
	}
	if err := f.svc.SetInterface(ctx, 1, InterfacePatch{MTU: ptr(1300)}, WriteOpts{IfMatch: tag}); !errors.Is(err, ErrStale) {
		t.Errorf("stale If-Match: %v", err)
	}
	if _, err := f.svc.AddNetwork(ctx, 1, NetworkPatch{}, WriteOpts{IfMatch: tag}); !errors.Is(err, ErrStale) {
		t.Errorf("stale If-Match on a network: %v", err)
	}
	if err := f.svc.DeleteNetwork(ctx, 1, 2, WriteOpts{IfMatch: `"nope"`}); !errors.Is(err, ErrStale) {
		t.Errorf("stale If-Match on delete: %v", err)
	}
	if err := f.svc.SetInterface(ctx, 1, InterfacePatch{MTU: ptr(1300)}, WriteOpts{IfMatch: "*"}); err != nil {
		t.Errorf("If-Match *: %v", err)
	}
	if now, _ := f.svc.ETag(1); now == tag {
		t.Error("ETag did not change")
	}
}

func TestResolvConf(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, lab())
	if err := f.svc.SetNetwork(ctx, 1, 1, NetworkPatch{DNSServers: &[]string{"192.168.1.53", "9.9.9.9"},
		DNSSearchDomains: &[]string{"lan", "corp.example"}}, WriteOpts{}); err != nil {
		t.Fatal(err)
	}
	if err := f.svc.SetNetwork(ctx, 1, 2, NetworkPatch{DNSServers: &[]string{"2001:db8::53", "9.9.9.9"}}, WriteOpts{}); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(f.resolv)
	if err != nil {
		t.Fatal(err)
	}
	want := resolvHeader + "nameserver 192.168.1.53\nnameserver 9.9.9.9\nnameserver 2001:db8::53\nsearch lan corp.example\n"
	if diff := cmp.Diff(want, string(b)); diff != "" {
		t.Errorf("resolver file (-want +got):\n%s", diff)
	}
	st, _ := f.svc.StatusOf(ctx, 1, 1)
	if diff := cmp.Diff([]string{"192.168.1.53", "9.9.9.9", "2001:db8::53"}, st.Networks[0].DNSServers); diff != "" {
		t.Errorf("status dns_servers (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{"lan", "corp.example"}, st.Networks[0].DNSSearchDomains); diff != "" {
		t.Errorf("status dns_search_domains (-want +got):\n%s", diff)
	}
	if matches, _ := filepath.Glob(filepath.Join(filepath.Dir(f.resolv), ".resolv.conf.*")); len(matches) != 0 {
		t.Errorf("temp files left: %v", matches)
	}
}

// TestRangeMessages: a refused range is named once in its message.
func TestRangeMessages(t *testing.T) {
	for r, want := range map[string]string{
		"10.10.0.300":          `"10.10.0.300" is not an IP address`,
		"10.0.0.9-10.0.0.1":    `"10.0.0.9-10.0.0.1" ends before it starts`,
		"10.0.0.1-2001:db8::1": `"10.0.0.1-2001:db8::1" mixes IPv4 and IPv6`,
	} {
		_, _, err := parseRange(r)
		if err == nil || err.Error() != want {
			t.Errorf("parseRange(%q): %v, want %s", r, err, want)
		}
	}
}
