package acl

import (
	"context"
	"encoding/json"
	"flag"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/edgeward/edgeward/core"
	"github.com/edgeward/edgeward/core/golden"
	"github.com/google/go-cmp/cmp"
)

var update = flag.Bool("update", false, "rewrite testdata/*.golden")

const goldenNote = `Stored records of core/acl, written through its API (TestGoldenRecordsWritten)
and read back (TestGoldenRecordsRead). go test ./core/acl -run Golden -update rewrites this file.
Normalised: the ids of bulk records (random xids) are replaced by id-bulk-<acl>. Times come from
the test's clock. Store TTLs are not part of a dump.`

// goldenT0 is the clock of the golden records.
var goldenT0 = time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)

// Peer ids of the golden records.
const (
	goldenBannedPeer  = "idrpUzezw7VJ4NU6phQYuxh88RiU1t"
	goldenTrustedPeer = "idqBC2FzHJSd6Nh8b5kMHDeGgc83KM"
)

// goldenFixture is a fixture on the golden records' clock.
func goldenFixture(t *testing.T, dir string) *fixture {
	t.Helper()
	f := &fixture{dir: dir, fw: newFake(), clock: &clock{t: goldenT0}}
	f.open(t)
	return f
}

func TestGoldenRecordsWritten(t *testing.T) {
	f := goldenFixture(t, t.TempDir())
	ctx := context.Background()
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(f.svc.SetPoint(ctx, ap("192.0.2.1:443"), Ban, "tok-admin", Guard{}))
	must(f.svc.SetPoint(ctx, ap("[2001:db8::7]:22"), Trust, "tok-admin", Guard{}))
	f.clock.Add(time.Minute)
	_, err := f.svc.Bulk(ctx, Ban, []string{"198.51.100.0/24", "203.0.113.9:22", "2001:db8:1::/48", "203.0.113.10",
		"[2001:db8::9]:8443"}, time.Hour, "tok-ops", Guard{})
	must(err)
	_, err = f.svc.Bulk(ctx, Trust, []string{"10.1.0.0/16", "192.0.2.200"}, 0, "tok-ops", Guard{})
	must(err)
	_, err = f.svc.Greylist(ctx, addr("198.18.0.1"), "too many failed logins")
	must(err)
	f.clock.Add(time.Minute)
	_, err = f.svc.Greylist(ctx, addr("198.18.0.1"), "too many failed logins")
	must(err)
	f.fw.mu.Lock()
	f.fw.kernel = []Grey{{Addr: addr("2001:db8::66"), Expires: 5 * time.Minute}}
	f.fw.mu.Unlock()
	must(f.svc.PollKernel(ctx))
	must(f.svc.SetPeer(ctx, goldenBannedPeer, Ban, "tok-admin"))
	must(f.svc.SetPeer(ctx, goldenTrustedPeer, Trust, "tok-admin"))
	golden.CheckStore(t, *update, golden.RecordsFile, f.db, bulkIDs(t, f.db), goldenNote)
}

// bulkIDs names the bulk records' ids after their ACL.
func bulkIDs(t *testing.T, kv core.KV) map[string]string {
	t.Helper()
	repl := map[string]string{}
	err := kv.View(context.Background(), func(tx core.Tx) error {
		return tx.Scan([]byte(bulkPrefix), false, func(k, v []byte) error {
			var c chunk
			if err := json.Unmarshal(v, &c); err != nil {
				return err
			}
			id, _, _ := strings.Cut(strings.TrimPrefix(string(k), bulkPrefix), "/")
			repl[id] = "id-bulk-" + c.ACL
			return nil
		})
	})
	if err != nil {
		t.Fatal(err)
	}
	return repl
}

// TestGoldenRecordsRead loads the golden records into a fresh store and
// checks that the ACL reads every field of them.
func TestGoldenRecordsRead(t *testing.T) {
	dir := t.TempDir()
	golden.LoadStore(t, golden.RecordsFile, dir)
	f := goldenFixture(t, dir)
	f.clock.Add(5 * time.Minute)
	t1, t2 := goldenT0.Add(time.Minute), goldenT0.Add(2*time.Minute)
	bulkBan := Entry{Since: t1, Until: t1.Add(time.Hour), Reason: "bulk ban", By: "tok-ops"}
	bulkTrust := Entry{Since: t1, Reason: "bulk trust", By: "tok-ops"}
	tests := []struct {
		name string
		got  func() ([]Listed, int)
		want []Listed
	}{
		{"bans", func() ([]Listed, int) { return f.svc.Bans(0) }, []Listed{
			{Target: "192.0.2.1", Scope: ScopeAddress, Entry: Entry{Since: goldenT0, Reason: "banned by an admin",
				By: "tok-admin", Point: "192.0.2.1:443"}},
			{Target: "198.51.100.0/24", Scope: ScopeRange, Entry: bulkBan},
			{Target: "203.0.113.9:22", Scope: ScopePort, Entry: bulkBan},
			{Target: "203.0.113.10", Scope: ScopeAddress, Entry: bulkBan},
			{Target: "[2001:db8::9]:8443", Scope: ScopePort, Entry: bulkBan},
			{Target: "2001:db8:1::/48", Scope: ScopeRange, Entry: bulkBan},
		}},
		{"trusts", func() ([]Listed, int) { return f.svc.Trusts(0) }, []Listed{
			{Target: "10.1.0.0/16", Scope: ScopeRange, Entry: bulkTrust},
			{Target: "192.0.2.200", Scope: ScopeAddress, Entry: bulkTrust},
			{Target: "2001:db8::7", Scope: ScopeAddress, Entry: Entry{Since: goldenT0, Reason: "trusted by an admin",
				By: "tok-admin", Point: "[2001:db8::7]:22"}},
		}},
		{"peer bans", func() ([]Listed, int) { return f.svc.PeerBans(0) }, []Listed{
			{Target: goldenBannedPeer, Scope: ScopePeer, Entry: Entry{Since: t2, Reason: "ban by an admin", By: "tok-admin"}},
		}},
		{"peer trusts", func() ([]Listed, int) { return f.svc.PeerTrusts(0) }, []Listed{
			{Target: goldenTrustedPeer, Scope: ScopePeer, Entry: Entry{Since: t2, Reason: "trust by an admin", By: "tok-admin"}},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, total := tt.got()
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
			if total != len(tt.want) {
				t.Errorf("total %d, want %d", total, len(tt.want))
			}
		})
	}
	greys := map[netip.Addr]Entry{
		addr("198.18.0.1"): {Since: t2, Until: t2.Add(20 * time.Minute), Reason: "too many failed logins", By: "edgeward"},
		addr("2001:db8::66"): {Since: t2, Until: t2.Add(10 * time.Minute),
			Reason: "new connections to a guarded port above the rate limit", By: "kernel"},
	}
	for a, want := range greys {
		got, ok := f.svc.Greylisted(a)
		if diff := cmp.Diff(want, got); !ok || diff != "" {
			t.Errorf("greylist entry of %s (live %v) (-want +got):\n%s", a, ok, diff)
		}
	}
	f.svc.mu.RLock()
	offences := f.svc.st.offences
	chunk := f.svc.st.bans[Target{Prefix: netip.MustParsePrefix("203.0.113.10/32")}].Chunk
	f.svc.mu.RUnlock()
	wantOffences := map[netip.Addr]offence{addr("198.18.0.1"): {N: 2, Last: t2}, addr("2001:db8::66"): {N: 1, Last: t2}}
	if diff := cmp.Diff(wantOffences, offences, cmp.Comparer(func(a, b netip.Addr) bool { return a == b })); diff != "" {
		t.Errorf("offences (-want +got):\n%s", diff)
	}
	if chunk != "acl/bulk/id-bulk-ban/0000" {
		t.Errorf("bulk ban's record %q, want the key it was read from", chunk)
	}
}
