package web

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/netip"
	"path/filepath"
	"reflect"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/edgeward/edgeward/core/acl"
	"github.com/edgeward/edgeward/core/admin"
	"github.com/edgeward/edgeward/core/auth"
	corebackup "github.com/edgeward/edgeward/core/backup"
	"github.com/edgeward/edgeward/core/links"
	"github.com/edgeward/edgeward/core/overlay"
	"github.com/edgeward/edgeward/core/store"
	"github.com/edgeward/edgeward/web/internal/webtest"
)

// backupBox is a box whose data dir is dir: its services over dir/store,
// the app with the backup routes and pages, and how often it was asked to
// restart.
type backupBox struct {
	*uiEnv
	dir      string
	restarts int
}

// newBackupBox builds a fresh box (setup code, admin token) in a new dir.
func newBackupBox(t *testing.T) *backupBox {
	t.Helper()
	dir := t.TempDir()
	b := &backupBox{dir: dir}
	b.uiEnv = newUIEnvWith(t, servicesIn(t, filepath.Join(dir, "store")))
	b.mount()
	return b
}

func servicesIn(t *testing.T, storeDir string) services {
	c := webtest.NewCore(t, webtest.Options{NodeName: testNodeName, StoreDir: storeDir})
	return services{db: c.DB, toks: c.Tokens, journal: c.Journal, ov: c.Overlay, acl: c.ACL, jobs: c.Jobs,
		kernel: c.Kernel, links: c.Links}
}

// mount rebuilds the app with a backup service over the box's store.
func (b *backupBox) mount() {
	svc := corebackup.New(corebackup.Config{Store: b.db, Dir: b.dir, StoreDir: filepath.Join(b.dir, "store"),
		Schema: 1, Version: "1.2.3-test", NodeID: "node-id-test", NodeName: testNodeName,
		Load: func(ctx context.Context, dir string, r io.Reader) (int, error) {
			return store.Restore(ctx, dir, r, nil)
		},
		Restart: func() { b.restarts++ }})
	b.rebuild(func(d *Deps) { d.Backups = svc })
}

// restart does what the binary does after a restore: close the store,
// apply the staged restore, build every service again over the store.
func (b *backupBox) restart(t *testing.T) {
	t.Helper()
	if err := b.db.Close(); err != nil {
		t.Fatal(err)
	}
	applied, err := corebackup.Apply(b.dir, filepath.Join(b.dir, "store"))
	if err != nil || !applied {
		t.Fatalf("Apply = %v, %v; want a restore applied", applied, err)
	}
	b.services = servicesIn(t, filepath.Join(b.dir, "store"))
	if b.admin, err = admin.New(context.Background(), b.db, nil); err != nil {
		t.Fatal(err)
	}
	b.mount()
}

// state is everything a restore must bring back, as the services serve it.
type state struct {
	Peers      []overlay.PeerInfo
	Groups     []overlay.GroupInfo
	Policies   []overlay.PolicyInfo
	Bans       []acl.Listed
	Trusts     []acl.Listed
	Tokens     []auth.Token
	Interfaces []links.Interface
	Networks   []links.Network
}

func (b *backupBox) state(t *testing.T) state {
	t.Helper()
	s := state{Peers: b.ov.Peers(overlay.Filter{}), Groups: b.ov.Groups(""), Policies: b.ov.Policies(),
		Tokens: b.toks.List(), Interfaces: b.links.Interfaces(t.Context())}
	s.Bans, _ = b.acl.Bans(100)
	s.Trusts, _ = b.acl.Trusts(100)
	nets, err := b.links.Networks(1)
	if err != nil {
		t.Fatal(err)
	}
	s.Networks = nets
	return s
}

// fill gives the box something of everything the store holds.
func (b *backupBox) fill(t *testing.T) {
	t.Helper()
	ctx := t.Context()
	laptop, err := b.ov.CreatePeer(ctx, overlay.NewPeer{Name: "laptop", KeepKey: true})
	if err != nil {
		t.Fatal(err)
	}
	ops := b.addGroup(t, "ops", laptop.ID)
	b.addPolicy(t, "ops ssh", ops.ID, ops.ID)
	if _, err := b.acl.Bulk(ctx, acl.Ban, []string{"203.0.113.0/24"}, 0, "test", acl.Guard{}); err != nil {
		t.Fatal(err)
	}
	if _, err := b.acl.Bulk(ctx, acl.Ban, []string{"198.51.100.7"}, time.Hour, "test", acl.Guard{}); err != nil {
		t.Fatal(err)
	}
	if _, err := b.acl.Bulk(ctx, acl.Trust, []string{"192.0.2.10"}, 0, "test", acl.Guard{}); err != nil {
		t.Fatal(err)
	}
	if err := b.links.SetInterface(ctx, 1, links.InterfacePatch{MTU: ptr(1400)}, links.WriteOpts{}); err != nil {
		t.Fatal(err)
	}
	if _, err := b.links.AddNetwork(ctx, 1, links.NetworkPatch{Name: ptr("lan"), AssignedBy: ptr(links.AssignedStatic),
		IPRanges: ptr([]string{"10.9.0.1"}), Netmask: ptr("255.255.255.0")}, links.WriteOpts{}); err != nil {
		t.Fatal(err)
	}
}

func ptr[T any](v T) *T { return &v }

// TestBackupRestoreEverything backs a box up, restores the file into a new
// box with an empty store, and finds everything back: peers (with the key
// the gateway kept), groups, policies, bans and trusts, API tokens, the
// interface config and the admin password.
func TestBackupRestoreEverything(t *testing.T) {
	src := newBackupBox(t)
	src.setUp(t, src.browser(t))
	src.fill(t)
	want := src.state(t)
	if len(want.Peers) != 1 || len(want.Groups) < 2 || len(want.Policies) < 1 || len(want.Bans) != 2 ||
		len(want.Trusts) != 1 || len(want.Tokens) != 1 || len(want.Networks) != 2 || want.Interfaces[0].MTU != 1400 {
		t.Fatalf("the source box is not filled as the test means: %d peers, %d groups, %d policies, %d bans, %d trusts, %d tokens, %d networks, MTU %d", len(want.Peers), len(want.Groups), len(want.Policies), len(want.Bans), len(want.Trusts), len(want.Tokens), len(want.Networks), want.Interfaces[0].MTU)
	}

	res := webtest.Do(t, src.app, http.MethodGet, "/api/system/backup", webtest.Authz(src.token), nil, nil)
	if res.Status != http.StatusOK {
		t.Fatalf("backup: status %d: %s", res.Status, res.Body)
	}
	name := regexp.MustCompile(`^attachment; filename="edgeward-` + testNodeName + `-\d{8}T\d{6}Z\.tar\.gz"$`)
	if cd := res.Header.Get("Content-Disposition"); !name.MatchString(cd) {
		t.Errorf("Content-Disposition %q, want %s", cd, name)
	}
	if res.Header.Get("Cache-Control") != "no-store" {
		t.Errorf("Cache-Control %q, want no-store: the file holds secrets", res.Header.Get("Cache-Control"))
	}
	m := manifestOf(t, res.Body)
	if m.NodeName != testNodeName || m.NodeID != "node-id-test" || m.Version != "1.2.3-test" || m.Schema != 1 ||
		m.Secrets != corebackup.Secrets {
		t.Errorf("manifest %+v", m)
	}
	t.Logf("backup of %d peers, %d bans: %d bytes (store snapshot %d bytes)", len(want.Peers), len(want.Bans), len(res.Body), m.StoreBytes)

	dst := newBackupBox(t) // the wiped box: a new, empty store
	if _, err := dst.ov.CreatePeer(t.Context(), overlay.NewPeer{Name: "made-on-the-new-box"}); err != nil {
		t.Fatal(err)
	}
	res = webtest.Do(t, dst.app, http.MethodPost, "/api/system/restore", webtest.Authz(dst.token), string(res.Body),
		map[string]string{"Content-Type": "application/gzip"})
	if res.Status != http.StatusAccepted {
		t.Fatalf("restore: status %d: %s", res.Status, res.Body)
	}
	if dst.restarts != 1 {
		t.Fatalf("restarts = %d, want 1", dst.restarts)
	}
	dst.restart(t)
	if diff := cmp.Diff(want, dst.state(t), cmpopts.EquateComparable(netip.Addr{}, netip.Prefix{}, netip.AddrPort{}),
		cmp.Exporter(func(reflect.Type) bool { return true })); diff != "" {
		t.Errorf("restored state (-want +got):\n%s", diff)
	}
	// The source's token works on the restored box, the new box's is gone.
	if r := webtest.Do(t, dst.app, http.MethodGet, "/api/peers", webtest.Authz(src.token), nil, nil); r.Status != http.StatusOK {
		t.Errorf("source token on the restored box: status %d", r.Status)
	}
	if r := webtest.Do(t, dst.app, http.MethodGet, "/api/peers", webtest.Authz(dst.token), nil, nil); r.Status != http.StatusUnauthorized {
		t.Errorf("the replaced box's token: status %d, want 401", r.Status)
	}
	// The admin password is the source's.
	br := dst.browser(t)
	wantRedirect(t, br.submit("/login", map[string]string{"password": testPassword}), "/")
	// The private key the gateway kept still gives the peer's config.
	if _, ok, err := dst.ov.Kept(t.Context(), want.Peers[0].ID); err != nil || !ok {
		t.Errorf("kept private key after restore: %v, %v; want it kept", ok, err)
	}
}

// manifestOf reads the manifest of an archive.
func manifestOf(t *testing.T, archive []byte) corebackup.Manifest {
	t.Helper()
	gz, err := gzip.NewReader(bytes.NewReader(archive))
	if err != nil {
		t.Fatal(err)
	}
	tr := tar.NewReader(gz)
	if hdr, err := tr.Next(); err != nil || hdr.Name != "manifest.json" {
		t.Fatalf("first member: %v, %v", hdr, err)
	}
	var m corebackup.Manifest
	if err := json.NewDecoder(tr).Decode(&m); err != nil {
		t.Fatal(err)
	}
	return m
}

func TestBackupRefusals(t *testing.T) {
	b := newBackupBox(t)
	viewer := b.token2(t, auth.RoleViewer)
	good := webtest.Do(t, b.app, http.MethodGet, "/api/system/backup", webtest.Authz(b.token), nil, nil).Body
	newer := rewriteManifest(t, good, `"schema": 1`, `"schema": 7`)
	gz := map[string]string{"Content-Type": "application/gzip"}
	tests := []struct {
		name, method, path, authz, body string
		status                          int
		message                         string
	}{
		{"backup without token", http.MethodGet, "/api/system/backup", "", "", http.StatusUnauthorized, "authentication required"},
		{"backup with viewer token", http.MethodGet, "/api/system/backup", viewer, "", http.StatusForbidden, "admin token"},
		{"restore without token", http.MethodPost, "/api/system/restore", "", string(good), http.StatusUnauthorized, "authentication required"},
		{"restore with viewer token", http.MethodPost, "/api/system/restore", viewer, string(good), http.StatusForbidden, "may only read"},
		{"restore garbage", http.MethodPost, "/api/system/restore", b.token, "not a backup at all", http.StatusUnprocessableEntity, "not an edgeward backup"},
		{"restore newer schema", http.MethodPost, "/api/system/restore", b.token, string(newer), http.StatusPreconditionFailed, "schema version 7 is newer"},
		{"restore empty body", http.MethodPost, "/api/system/restore", b.token, "", http.StatusBadRequest, "file: send the backup archive"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			authz := ""
			if tt.authz != "" {
				authz = webtest.Authz(tt.authz)
			}
			var body any
			if tt.body != "" {
				body = tt.body
			}
			res := webtest.Do(t, b.app, tt.method, tt.path, authz, body, gz)
			var got struct {
				Message string `json:"message"`
				Code    int    `json:"code"`
			}
			res.JSON(t, &got)
			if res.Status != tt.status || got.Code != tt.status || !strings.Contains(got.Message, tt.message) {
				t.Errorf("status %d %+v, want %d with %q", res.Status, got, tt.status, tt.message)
			}
		})
	}
	if b.restarts != 0 {
		t.Errorf("a refused restore asked for %d restarts", b.restarts)
	}
}

func (b *backupBox) token2(t *testing.T, role string) string {
	t.Helper()
	_, secret, err := b.toks.Create(t.Context(), "another "+role, role)
	if err != nil {
		t.Fatal(err)
	}
	return secret
}

// rewriteManifest replaces old with new in an archive's manifest (the
// snapshot is left as it is, so only the manifest check can refuse it).
func rewriteManifest(t *testing.T, archive []byte, old, new string) []byte {
	t.Helper()
	gz, err := gzip.NewReader(bytes.NewReader(archive))
	if err != nil {
		t.Fatal(err)
	}
	tr := tar.NewReader(gz)
	var out bytes.Buffer
	zw := gzip.NewWriter(&out)
	tw := tar.NewWriter(zw)
	for {
		hdr, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		raw, _ := io.ReadAll(tr)
		if hdr.Name == "manifest.json" {
			if !bytes.Contains(raw, []byte(old)) {
				t.Fatalf("manifest has no %q:\n%s", old, raw)
			}
			raw = bytes.Replace(raw, []byte(old), []byte(new), 1)
			hdr.Size = int64(len(raw))
		}
		if err := tw.WriteHeader(hdr); err != nil {
			t.Fatal(err)
		}
		tw.Write(raw)
	}
	tw.Close()
	zw.Close()
	return out.Bytes()
}
