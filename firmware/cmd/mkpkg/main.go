// Command mkpkg builds edgeward's OpenWrt packages (.ipk and .apk) for one
// binary: mkpkg -binary bin/edgeward-linux-mipsle -goarch mipsle -version 1.4.0 -out bin/packages
package main

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"strconv"
	"syscall"
	"time"

	"github.com/edgeward/edgeward/firmware/openwrt"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	if err != nil {
		fmt.Fprintln(os.Stderr, "mkpkg:", err)
		os.Exit(1)
	}
}

func run(_ context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("mkpkg", flag.ContinueOnError)
	fs.SetOutput(stderr)
	binary := fs.String("binary", "", "static edgeward binary to package")
	goarch := fs.String("goarch", "", "amd64, arm64, armv7 or mipsle: picks the OpenWrt architecture")
	arch := fs.String("arch", "", "OpenWrt package architecture (overrides -goarch), e.g. aarch64_cortex-a53")
	version := fs.String("version", "", "package version, digits and dots")
	out := fs.String("out", ".", "directory the packages are written to")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *arch == "" {
		*arch = openwrt.Arches[*goarch]
		if *arch == "" {
			return fmt.Errorf("-goarch %q: want amd64, arm64, armv7 or mipsle, or give -arch", *goarch)
		}
	}
	bin, err := os.ReadFile(*binary)
	if err != nil {
		return fmt.Errorf("read binary: %w", err)
	}
	spec := openwrt.Spec{Version: *version, Arch: *arch, Binary: bin, Time: sourceTime()}
	if err := os.MkdirAll(*out, 0o755); err != nil {
		return fmt.Errorf("make %s: %w", *out, err)
	}
	for _, p := range []struct {
		name  string
		write func(io.Writer, openwrt.Spec) error
	}{
		{spec.IPKName(), openwrt.WriteIPK},
		{spec.APKName(), openwrt.WriteAPK},
	} {
		var buf bytes.Buffer
		if err := p.write(&buf, spec); err != nil {
			return fmt.Errorf("build %s: %w", p.name, err)
		}
		path := filepath.Join(*out, p.name)
		if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
			return fmt.Errorf("write %s: %w", path, err)
		}
		fmt.Fprintf(stdout, "%s\t%d bytes\n", path, buf.Len())
	}
	return nil
}

// sourceTime honours SOURCE_DATE_EPOCH (reproducible builds); without it
// the packages are stamped now.
func sourceTime() time.Time {
	if s, ok := os.LookupEnv("SOURCE_DATE_EPOCH"); ok {
		if n, err := strconv.ParseInt(s, 10, 64); err == nil {
			return time.Unix(n, 0).UTC()
		}
	}
	return time.Now().UTC().Truncate(time.Second)
}
