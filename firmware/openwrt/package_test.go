package openwrt

import (
	"archive/tar"
	"bufio"
	"bytes"
	"compress/gzip"
	"crypto/sha1"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

var testTime = time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC)

func testSpec() Spec {
	return Spec{Version: "1.4.0", Arch: "mipsel_24kc", Binary: []byte("\x7fELF not really a binary"), Time: testTime}
}

// file is an archive entry as read back.
type file struct {
	Mode int64
	Dir  bool
	Data string
	PAX  map[string]string
}

// readTar reads every entry of a tar stream, checking owner and time.
func readTar(t *testing.T, r io.Reader) (map[string]file, []string) {
	t.Helper()
	got := map[string]file{}
	var order []string
	tr := tar.NewReader(r)
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			return got, order
		}
		if err != nil {
			t.Fatalf("read tar: %v", err)
		}
		if h.Uid != 0 || h.Gid != 0 || !h.ModTime.Equal(testTime) {
			t.Errorf("%s: uid %d gid %d mtime %v, want 0 0 %v", h.Name, h.Uid, h.Gid, h.ModTime, testTime)
		}
		b, err := io.ReadAll(tr)
		if err != nil {
			t.Fatalf("read %s: %v", h.Name, err)
		}
		var pax map[string]string
		for k, v := range h.PAXRecords {
			if strings.HasPrefix(k, "APK-TOOLS.") {
				if pax == nil {
					pax = map[string]string{}
				}
				pax[k] = v
			}
		}
		got[h.Name] = file{Mode: h.Mode, Dir: h.Typeflag == tar.TypeDir, Data: string(b), PAX: pax}
		order = append(order, h.Name)
	}
}

func gunzipTar(t *testing.T, b []byte) (map[string]file, []string) {
	t.Helper()
	zr, err := gzip.NewReader(bytes.NewReader(b))
	if err != nil {
		t.Fatalf("gunzip: %v", err)
	}
	return readTar(t, zr)
}

func mustAsset(t *testing.T, name string) string {
	t.Helper()
	b, err := Asset(name)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// wantTree is the installed tree, relative names, as both formats carry it.
func wantTree(t *testing.T, s Spec) map[string]file {
	return map[string]file{
		"etc/":                        {Mode: 0o755, Dir: true},
		"etc/config/":                 {Mode: 0o755, Dir: true},
		"etc/config/edgeward":         {Mode: 0o644, Data: mustAsset(t, "edgeward.config")},
		"etc/init.d/":                 {Mode: 0o755, Dir: true},
		"etc/init.d/edgeward":         {Mode: 0o755, Data: mustAsset(t, "edgeward.init")},
		"lib/":                        {Mode: 0o755, Dir: true},
		"lib/upgrade/":                {Mode: 0o755, Dir: true},
		"lib/upgrade/keep.d/":         {Mode: 0o755, Dir: true},
		"lib/upgrade/keep.d/edgeward": {Mode: 0o644, Data: "/etc/config/edgeward\n/etc/edgeward/\n"},
		"usr/":                        {Mode: 0o755, Dir: true},
		"usr/bin/":                    {Mode: 0o755, Dir: true},
		"usr/bin/edgeward":            {Mode: 0o755, Data: string(s.Binary)},
	}
}

func treeSize(t *testing.T, s Spec) int {
	n := 0
	for _, f := range wantTree(t, s) {
		n += len(f.Data)
	}
	return n
}

func TestIPK(t *testing.T) {
	s := testSpec()
	var buf bytes.Buffer
	if err := WriteIPK(&buf, s); err != nil {
		t.Fatal(err)
	}
	outer, order := gunzipTar(t, buf.Bytes())
	if diff := cmp.Diff([]string{"./debian-binary", "./data.tar.gz", "./control.tar.gz"}, order); diff != "" {
		t.Errorf("outer entries (-want +got):\n%s", diff)
	}
	if got := outer["./debian-binary"]; got.Data != "2.0\n" || got.Mode != 0o644 {
		t.Errorf("debian-binary = %+v", got)
	}

	data, _ := gunzipTar(t, []byte(outer["./data.tar.gz"].Data))
	want := map[string]file{"./": {Mode: 0o755, Dir: true}}
	for name, f := range wantTree(t, s) {
		want["./"+name] = f
	}
	if diff := cmp.Diff(want, data); diff != "" {
		t.Errorf("data.tar.gz (-want +got):\n%s", diff)
	}

	control, _ := gunzipTar(t, []byte(outer["./control.tar.gz"].Data))
	fields := parseControl(t, control["./control"].Data)
	wantFields := map[string]string{
		"Package":         "edgeward",
		"Version":         "1.4.0-r1",
		"Source":          "github.com/edgeward/edgeward",
		"SourceName":      "edgeward",
		"Section":         "net",
		"SourceDateEpoch": strconv.FormatInt(testTime.Unix(), 10),
		"Maintainer":      "edgeward",
		"Architecture":    "mipsel_24kc",
		"Installed-Size":  strconv.Itoa(treeSize(t, s)),
		"Description":     Description,
	}
	if diff := cmp.Diff(wantFields, fields); diff != "" {
		t.Errorf("control fields (-want +got):\n%s", diff)
	}
	delete(control, "./control")
	wantControl := map[string]file{
		"./":          {Mode: 0o755, Dir: true},
		"./conffiles": {Mode: 0o644, Data: "/etc/config/edgeward\n"},
		"./postinst":  {Mode: 0o755, Data: mustAsset(t, "postinst")},
		"./prerm":     {Mode: 0o755, Data: mustAsset(t, "prerm")},
	}
	if diff := cmp.Diff(wantControl, control); diff != "" {
		t.Errorf("control.tar.gz (-want +got):\n%s", diff)
	}
	if got, want := s.IPKName(), "edgeward_1.4.0-r1_mipsel_24kc.ipk"; got != want {
		t.Errorf("IPKName = %q, want %q", got, want)
	}
}

// parseControl reads "Key: value" lines; every line must be one.
func parseControl(t *testing.T, s string) map[string]string {
	t.Helper()
	m := map[string]string{}
	sc := bufio.NewScanner(strings.NewReader(s))
	for sc.Scan() {
		k, v, ok := strings.Cut(sc.Text(), ": ")
		if !ok || k == "" || v == "" {
			t.Errorf("control line %q is not Key: value", sc.Text())
			continue
		}
		m[k] = v
	}
	return m
}

// TestIPKStandardTools unpacks the package as an admin would by hand, with
// GNU tar, and checks the installed files and modes.
func TestIPKStandardTools(t *testing.T) {
	if _, err := exec.LookPath("tar"); err != nil {
		t.Skip("tar not installed")
	}
	s := testSpec()
	dir := t.TempDir()
	ipk := filepath.Join(dir, s.IPKName())
	var buf bytes.Buffer
	if err := WriteIPK(&buf, s); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(ipk, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	root := filepath.Join(dir, "root")
	for _, cmd := range [][]string{
		{"tar", "-xzf", ipk, "-C", dir},
		{"mkdir", root},
		{"tar", "-xzpf", filepath.Join(dir, "data.tar.gz"), "-C", root},
	} {
		if out, err := exec.Command(cmd[0], cmd[1:]...).CombinedOutput(); err != nil {
			t.Fatalf("%v: %v\n%s", cmd, err, out)
		}
	}
	for name, f := range wantTree(t, s) {
		fi, err := os.Stat(filepath.Join(root, name))
		if err != nil {
			t.Errorf("unpacked %s: %v", name, err)
			continue
		}
		if got := int64(fi.Mode().Perm()); got != f.Mode || fi.IsDir() != f.Dir {
			t.Errorf("unpacked %s: mode %o dir %v, want %o dir %v", name, got, fi.IsDir(), f.Mode, f.Dir)
		}
		if !f.Dir {
			b, err := os.ReadFile(filepath.Join(root, name))
			if err != nil || string(b) != f.Data {
				t.Errorf("unpacked %s: content differs (%v)", name, err)
			}
		}
	}
}

func TestAPK(t *testing.T) {
	s := testSpec()
	var buf bytes.Buffer
	if err := WriteAPK(&buf, s); err != nil {
		t.Fatal(err)
	}
	// The two gzip streams, apart: the control stream must not end the tar.
	zr, err := gzip.NewReader(bytes.NewReader(buf.Bytes()))
	if err != nil {
		t.Fatal(err)
	}
	zr.Multistream(false)
	first, err := io.ReadAll(zr)
	if err != nil {
		t.Fatal(err)
	}
	if bytes.HasSuffix(first, make([]byte, 1024)) {
		t.Error("control stream ends with end-of-archive blocks")
	}
	// The data stream is the suffix whose SHA-256 .PKGINFO names; it must
	// start exactly where the control stream's gzip member ends.
	all, order := gunzipTar(t, buf.Bytes())
	info := parsePKGINFO(t, all[".PKGINFO"].Data)
	dataStart := findDataStream(t, buf.Bytes(), info["datahash"])

	wantInfo := map[string]string{
		"pkgname":   "edgeward",
		"pkgver":    "1.4.0-r1",
		"pkgdesc":   Description,
		"url":       "https://github.com/edgeward/edgeward",
		"builddate": strconv.FormatInt(testTime.Unix(), 10),
		"packager":  "edgeward",
		"size":      strconv.Itoa(treeSize(t, s)),
		"arch":      "mipsel_24kc",
		"origin":    "edgeward",
		"datahash":  info["datahash"],
	}
	if diff := cmp.Diff(wantInfo, info); diff != "" {
		t.Errorf(".PKGINFO (-want +got):\n%s", diff)
	}
	if dataStart <= 0 {
		t.Fatalf("no gzip member after the control stream hashes to datahash %s", info["datahash"])
	}
	head, err := gzip.NewReader(bytes.NewReader(buf.Bytes()[:dataStart]))
	if err != nil {
		t.Fatal(err)
	}
	if b, err := io.ReadAll(head); err != nil || !bytes.Equal(b, first) {
		t.Errorf("bytes before the data stream are not exactly the control stream (%v)", err)
	}

	want := wantTree(t, s)
	for name, f := range want {
		if !f.Dir {
			sum := sha1.Sum([]byte(f.Data))
			f.PAX = map[string]string{"APK-TOOLS.checksum.SHA1": hex.EncodeToString(sum[:])}
			want[name] = f
		}
	}
	want[".PKGINFO"] = file{Mode: 0o644, Data: all[".PKGINFO"].Data}
	want[".post-install"] = file{Mode: 0o755, Data: mustAsset(t, "postinst")}
	want[".post-upgrade"] = file{Mode: 0o755, Data: mustAsset(t, "postinst")}
	want[".pre-deinstall"] = file{Mode: 0o755, Data: mustAsset(t, "prerm")}
	if diff := cmp.Diff(want, all); diff != "" {
		t.Errorf("apk entries (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{".PKGINFO", ".post-install", ".post-upgrade", ".pre-deinstall"}, order[:4]); diff != "" {
		t.Errorf("control section must come first (-want +got):\n%s", diff)
	}
	if got, want := s.APKName(), "edgeward-1.4.0-r1_mipsel_24kc.apk"; got != want {
		t.Errorf("APKName = %q, want %q", got, want)
	}
}

// findDataStream returns the offset of the gzip member whose bytes to the
// end hash to datahash, or -1.
func findDataStream(t *testing.T, b []byte, datahash string) int {
	t.Helper()
	for i := 1; i+1 < len(b); i++ {
		if b[i] != 0x1f || b[i+1] != 0x8b {
			continue
		}
		sum := sha256.Sum256(b[i:])
		if hex.EncodeToString(sum[:]) == datahash {
			return i
		}
	}
	return -1
}

func parsePKGINFO(t *testing.T, s string) map[string]string {
	t.Helper()
	m := map[string]string{}
	sc := bufio.NewScanner(strings.NewReader(s))
	for sc.Scan() {
		line := sc.Text()
		if strings.HasPrefix(line, "#") {
			continue
		}
		k, v, ok := strings.Cut(line, " = ")
		if !ok {
			t.Errorf(".PKGINFO line %q is not key = value", line)
			continue
		}
		m[k] = v
	}
	return m
}

func TestSpecRefused(t *testing.T) {
	tests := []struct {
		name string
		edit func(*Spec)
		want string
	}{
		{"version with letters", func(s *Spec) { s.Version = "9118156-dirty" }, `version "9118156-dirty"`},
		{"empty arch", func(s *Spec) { s.Arch = "" }, `arch ""`},
		{"arch with slash", func(s *Spec) { s.Arch = "../x" }, `arch "../x"`},
		{"no binary", func(s *Spec) { s.Binary = nil }, "binary is empty"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := testSpec()
			tt.edit(&s)
			for _, write := range []func(io.Writer, Spec) error{WriteIPK, WriteAPK} {
				var buf bytes.Buffer
				err := write(&buf, s)
				if err == nil || !strings.HasPrefix(err.Error(), tt.want) {
					t.Errorf("err = %v, want it to start with %q", err, tt.want)
				}
				if buf.Len() != 0 {
					t.Errorf("wrote %d bytes for a refused spec", buf.Len())
				}
			}
		})
	}
}

func TestReproducible(t *testing.T) {
	for _, write := range []func(io.Writer, Spec) error{WriteIPK, WriteAPK} {
		var a, b bytes.Buffer
		if err := write(&a, testSpec()); err != nil {
			t.Fatal(err)
		}
		if err := write(&b, testSpec()); err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(a.Bytes(), b.Bytes()) {
			t.Error("the same spec gave different bytes")
		}
	}
}
