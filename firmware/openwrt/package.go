// Package openwrt builds edgeward's OpenWrt packages without the OpenWrt
// SDK: the .ipk that opkg installs (OpenWrt up to 24.10) and an .apk for the
// releases that install with apk. Both hold the same files: the binary, the
// procd init script, the UCI config and the sysupgrade keep list.
package openwrt

import (
	"bytes"
	"embed"
	"fmt"
	"regexp"
	"time"
)

//go:embed files
var files embed.FS

// Name is the package's name in opkg and apk.
const Name = "edgeward"

// Arches maps the GOARCH names the Makefile builds (armv7 for GOARM=7,
// mipsle for GOMIPS=softfloat) to the OpenWrt package architecture most
// routers of that CPU report (opkg print-architecture). A static Go binary
// runs on every OpenWrt target of its CPU family, so another name of the
// family (aarch64_cortex-a53, mipsel_74kc, ...) is given with Spec.Arch.
var Arches = map[string]string{
	"amd64":  "x86_64",
	"arm64":  "aarch64_generic",
	"armv7":  "arm_cortex-a7_neon-vfpv4",
	"mipsle": "mipsel_24kc",
}

// Spec is one package to build.
type Spec struct {
	// Version is the upstream version, digits and dots ("1.4.0"); the
	// package version is Version-r1, valid for opkg and apk alike.
	Version string
	// Arch is the OpenWrt package architecture (see Arches).
	Arch string
	// Binary is the static edgeward binary for Arch.
	Binary []byte
	// Time stamps every archive entry (SOURCE_DATE_EPOCH), so the same
	// inputs give the same bytes.
	Time time.Time
}

var (
	versionRE = regexp.MustCompile(`^[0-9]+(\.[0-9]+)*$`)
	archRE    = regexp.MustCompile(`^[a-z0-9_][a-z0-9_.+-]*$`)
)

func (s Spec) check() error {
	switch {
	case !versionRE.MatchString(s.Version):
		return fmt.Errorf("version %q: want digits and dots, such as 1.4.0", s.Version)
	case !archRE.MatchString(s.Arch):
		return fmt.Errorf("arch %q: want an OpenWrt package architecture such as mipsel_24kc", s.Arch)
	case len(s.Binary) == 0:
		return fmt.Errorf("binary is empty")
	}
	return nil
}

// PackageVersion is the version opkg and apk see.
func (s Spec) PackageVersion() string { return s.Version + "-r1" }

// Description is the package's one-line summary.
const Description = "Gateway appliance: WireGuard overlay, nftables policies and guard, admin pages on the LAN"

// entry is one file or directory of the installed tree; names are relative
// to / without a leading slash, directories end in "/".
type entry struct {
	name string
	mode int64
	data []byte
}

// tree is what both formats install, parents before children.
func (s Spec) tree() []entry {
	return []entry{
		{"etc/", 0o755, nil},
		{"etc/config/", 0o755, nil},
		{"etc/config/edgeward", 0o644, asset("edgeward.config")},
		{"etc/init.d/", 0o755, nil},
		{"etc/init.d/edgeward", 0o755, asset("edgeward.init")},
		{"lib/", 0o755, nil},
		{"lib/upgrade/", 0o755, nil},
		{"lib/upgrade/keep.d/", 0o755, nil},
		{"lib/upgrade/keep.d/edgeward", 0o644, asset("keep.d")},
		{"usr/", 0o755, nil},
		{"usr/bin/", 0o755, nil},
		{"usr/bin/edgeward", 0o755, s.Binary},
	}
}

// Conffiles are the files the package manager keeps when the admin changed
// them (opkg conffiles; under /etc apk protects them anyway).
var Conffiles = []string{"/etc/config/edgeward"}

// asset returns an embedded file; they are part of the binary, so a missing
// one is a programmer error.
func asset(name string) []byte {
	b, err := files.ReadFile("files/" + name)
	if err != nil {
		panic(err)
	}
	return b
}

// installedSize is the sum of the regular files' sizes.
func installedSize(tree []entry) int {
	n := 0
	for _, e := range tree {
		n += len(e.data)
	}
	return n
}

// Asset returns the named file of files/ (edgeward.init, edgeward.config,
// keep.d, postinst, prerm), for tests and for installing by hand.
func Asset(name string) ([]byte, error) {
	b, err := files.ReadFile("files/" + name)
	return bytes.Clone(b), err
}
