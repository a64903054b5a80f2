package openwrt

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"fmt"
	"io"
	"strconv"
	"strings"
)

// WriteIPK writes the package in the format OpenWrt's own ipkg-build makes
// and opkg reads: a gzipped GNU tar holding ./debian-binary ("2.0"),
// ./data.tar.gz and ./control.tar.gz, each inner tar rooted at "./" with
// numeric owner 0.
func WriteIPK(w io.Writer, s Spec) error {
	if err := s.check(); err != nil {
		return err
	}
	tree := s.tree()
	data, err := gzipTar(func(tw *tar.Writer) error {
		if err := writeEntry(tw, tar.FormatGNU, s, "./", 0o755, nil); err != nil {
			return err
		}
		for _, e := range tree {
			if err := writeEntry(tw, tar.FormatGNU, s, "./"+e.name, e.mode, e.data); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("write data.tar.gz: %w", err)
	}
	control, err := gzipTar(func(tw *tar.Writer) error {
		for _, e := range []entry{
			{"./", 0o755, nil},
			{"./conffiles", 0o644, []byte(strings.Join(Conffiles, "\n") + "\n")},
			{"./control", 0o644, s.ipkControl(installedSize(tree))},
			{"./postinst", 0o755, asset("postinst")},
			{"./prerm", 0o755, asset("prerm")},
		} {
			if err := writeEntry(tw, tar.FormatGNU, s, e.name, e.mode, e.data); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("write control.tar.gz: %w", err)
	}
	outer, err := gzipTar(func(tw *tar.Writer) error {
		for _, e := range []entry{
			{"./debian-binary", 0o644, []byte("2.0\n")},
			{"./data.tar.gz", 0o644, data},
			{"./control.tar.gz", 0o644, control},
		} {
			if err := writeEntry(tw, tar.FormatGNU, s, e.name, e.mode, e.data); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("write ipk: %w", err)
	}
	_, err = w.Write(outer)
	return err
}

// IPKName is the file name opkg's feeds use: name_version_arch.ipk.
func (s Spec) IPKName() string {
	return Name + "_" + s.PackageVersion() + "_" + s.Arch + ".ipk"
}

// ipkControl is the control file. A static binary needs nothing else
// installed, so there is no Depends line.
func (s Spec) ipkControl(size int) []byte {
	var b strings.Builder
	for _, kv := range [][2]string{
		{"Package", Name},
		{"Version", s.PackageVersion()},
		{"Source", "github.com/edgeward/edgeward"},
		{"SourceName", Name},
		{"Section", "net"},
		{"SourceDateEpoch", strconv.FormatInt(s.Time.Unix(), 10)},
		{"Maintainer", "edgeward"},
		{"Architecture", s.Arch},
		{"Installed-Size", strconv.Itoa(size)},
		{"Description", Description},
	} {
		b.WriteString(kv[0] + ": " + kv[1] + "\n")
	}
	return []byte(b.String())
}

// gzipTar returns the gzip of the tar that fill writes, ended properly.
func gzipTar(fill func(*tar.Writer) error) ([]byte, error) {
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	tw := tar.NewWriter(zw)
	if err := fill(tw); err != nil {
		return nil, err
	}
	if err := tw.Close(); err != nil {
		return nil, err
	}
	if err := zw.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// writeEntry writes a file, or a directory when name ends in "/", owned by
// root and stamped with s.Time.
func writeEntry(tw *tar.Writer, format tar.Format, s Spec, name string, mode int64, data []byte) error {
	return writeHeader(tw, &tar.Header{Name: name, Mode: mode, Format: format}, s, data)
}

func writeHeader(tw *tar.Writer, h *tar.Header, s Spec, data []byte) error {
	h.ModTime = s.Time
	h.Typeflag = tar.TypeReg
	h.Size = int64(len(data))
	if strings.HasSuffix(h.Name, "/") {
		h.Typeflag = tar.TypeDir
		h.Size = 0
	}
	if err := tw.WriteHeader(h); err != nil {
		return fmt.Errorf("tar header %s: %w", h.Name, err)
	}
	if _, err := tw.Write(data); err != nil {
		return fmt.Errorf("tar write %s: %w", h.Name, err)
	}
	return nil
}
