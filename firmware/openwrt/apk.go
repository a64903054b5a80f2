package openwrt

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"crypto/sha1"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"strconv"
	"strings"
)

// WriteAPK writes the package in apk's v2 format, which apk-tools 3 (the
// apk of OpenWrt 25.12 on) still installs: two gzip streams forming one
// tar. The first holds .PKGINFO and the scripts and has no end-of-archive
// blocks; the second is the installed tree, each file carrying its SHA-1 in
// a pax APK-TOOLS.checksum.SHA1 record, and .PKGINFO's datahash is the
// SHA-256 of that second stream. It is unsigned: install it with
// "apk add --allow-untrusted". (apk's v3 ADB format is not written: no tool
// here can read one back to check it.)
func WriteAPK(w io.Writer, s Spec) error {
	if err := s.check(); err != nil {
		return err
	}
	tree := s.tree()
	var data bytes.Buffer
	zw := gzip.NewWriter(&data)
	tw := tar.NewWriter(zw)
	for _, e := range tree {
		h := &tar.Header{Name: e.name, Mode: e.mode, Format: tar.FormatPAX}
		if !strings.HasSuffix(e.name, "/") {
			sum := sha1.Sum(e.data)
			h.PAXRecords = map[string]string{"APK-TOOLS.checksum.SHA1": hex.EncodeToString(sum[:])}
		}
		if err := writeHeader(tw, h, s, e.data); err != nil {
			return fmt.Errorf("write apk data: %w", err)
		}
	}
	if err := tw.Close(); err != nil {
		return fmt.Errorf("write apk data: %w", err)
	}
	if err := zw.Close(); err != nil {
		return fmt.Errorf("write apk data: %w", err)
	}
	datahash := sha256.Sum256(data.Bytes())

	var control bytes.Buffer
	zw = gzip.NewWriter(&control)
	tw = tar.NewWriter(zw)
	for _, e := range []entry{
		{".PKGINFO", 0o644, s.pkginfo(installedSize(tree), hex.EncodeToString(datahash[:]))},
		{".post-install", 0o755, asset("postinst")},
		{".post-upgrade", 0o755, asset("postinst")},
		{".pre-deinstall", 0o755, asset("prerm")},
	} {
		if err := writeEntry(tw, tar.FormatPAX, s, e.name, e.mode, e.data); err != nil {
			return fmt.Errorf("write apk control: %w", err)
		}
	}
	// Flush, not Close: the control stream must not end the archive, the
	// data stream continues it (abuild-tar --cut).
	if err := tw.Flush(); err != nil {
		return fmt.Errorf("write apk control: %w", err)
	}
	if err := zw.Close(); err != nil {
		return fmt.Errorf("write apk control: %w", err)
	}
	if _, err := w.Write(control.Bytes()); err != nil {
		return err
	}
	_, err := w.Write(data.Bytes())
	return err
}

// APKName is the package's file name: name-version_arch.apk.
func (s Spec) APKName() string {
	return Name + "-" + s.PackageVersion() + "_" + s.Arch + ".apk"
}

// pkginfo is the .PKGINFO: "key = value" lines as abuild writes them.
func (s Spec) pkginfo(size int, datahash string) []byte {
	var b strings.Builder
	b.WriteString("# edgeward package\n")
	for _, kv := range [][2]string{
		{"pkgname", Name},
		{"pkgver", s.PackageVersion()},
		{"pkgdesc", Description},
		{"url", "https://github.com/edgeward/edgeward"},
		{"builddate", strconv.FormatInt(s.Time.Unix(), 10)},
		{"packager", "edgeward"},
		{"size", strconv.Itoa(size)},
		{"arch", s.Arch},
		{"origin", Name},
		{"datahash", datahash},
	} {
		b.WriteString(kv[0] + " = " + kv[1] + "\n")
	}
	return []byte(b.String())
}
