// Command sizes reports the size of each firmware build and what each
// module adds to one target.
//
//	go run ./firmware/cmd/sizes [-nm linux/arm64] bin/edgeward-linux-*
//
// The builds are stripped (-s -w), so they have no symbol table; for the
// per-module split it builds the same target again without -s -w into a
// temporary file and sums `go tool nm -size` by module. Symbol sizes cover
// code and data but not the symbol-less parts of the file (pclntab headers,
// DWARF is stripped anyway), and zeroed data (.bss) is left out as it takes
// no room in the file.
package main

import (
	"bufio"
	"bytes"
	"cmp"
	"context"
	"debug/elf"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"
)

func main() {
	if err := run(context.Background(), os.Args[1:], os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "sizes:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, args []string, out io.Writer) error {
	fs := flag.NewFlagSet("sizes", flag.ContinueOnError)
	nmTarget := fs.String("nm", "", "GOOS/GOARCH[/variant] to split by module (e.g. linux/arm64, linux/arm/7, linux/mipsle/softfloat); empty: files only")
	top := fs.Int("top", 15, "modules to list")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() == 0 {
		return errors.New("no binaries given")
	}
	tw := tabwriter.NewWriter(out, 0, 4, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "bytes\tMiB\tfile\t")
	for _, p := range fs.Args() {
		st, err := os.Stat(p)
		if err != nil {
			return err
		}
		fmt.Fprintf(tw, "%d\t%.1f\t%s\t\n", st.Size(), float64(st.Size())/(1<<20), filepath.Base(p))
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	if *nmTarget == "" {
		return nil
	}
	mods, total, err := byModule(ctx, *nmTarget)
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "\nwhat each module adds to %s (symbol bytes, unstripped build):\n", *nmTarget)
	tw = tabwriter.NewWriter(out, 0, 4, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "bytes\tshare\tmodule\t")
	for i, m := range mods {
		if i == *top {
			break
		}
		fmt.Fprintf(tw, "%d\t%.1f%%\t%s\t\n", m.bytes, 100*float64(m.bytes)/float64(total), m.name)
	}
	fmt.Fprintf(tw, "%d\t\ttotal\t\n", total)
	return tw.Flush()
}

type module struct {
	name  string
	bytes int64
}

// byModule builds ./cmd/edgeward for target with symbols and sums the
// symbol sizes per module, largest first.
func byModule(ctx context.Context, target string) ([]module, int64, error) {
	env, err := targetEnv(target)
	if err != nil {
		return nil, 0, err
	}
	tmp, err := os.MkdirTemp("", "edgeward-sizes-")
	if err != nil {
		return nil, 0, err
	}
	defer os.RemoveAll(tmp)
	bin := filepath.Join(tmp, "edgeward")
	build := exec.CommandContext(ctx, "go", "build", "-trimpath", "-o", bin, "./cmd/edgeward")
	build.Env = append(os.Environ(), env...)
	build.Stderr = os.Stderr
	if err := build.Run(); err != nil {
		return nil, 0, fmt.Errorf("build %s: %w", target, err)
	}
	paths, err := modulePaths(ctx, bin)
	if err != nil {
		return nil, 0, err
	}
	bss, err := bssRanges(bin)
	if err != nil {
		return nil, 0, err
	}
	nm, err := exec.CommandContext(ctx, "go", "tool", "nm", "-size", "-sort", "size", bin).Output()
	if err != nil {
		return nil, 0, fmt.Errorf("go tool nm: %w", err)
	}
	sums := map[string]int64{}
	var total int64
	sc := bufio.NewScanner(bytes.NewReader(nm))
	for sc.Scan() {
		// "  addr  size type name": the name may hold spaces.
		f := strings.Fields(sc.Text())
		if len(f) < 4 {
			continue
		}
		addr, err1 := strconv.ParseUint(f[0], 16, 64)
		size, err2 := strconv.ParseInt(f[1], 10, 64)
		if err1 != nil || err2 != nil || inRanges(addr, bss) {
			continue // zeroed at start, not in the file (nm shows some as D)
		}
		total += size
		sums[owner(strings.Join(f[3:], " "), paths)] += size
	}
	mods := make([]module, 0, len(sums))
	for name, b := range sums {
		mods = append(mods, module{name, b})
	}
	slices.SortFunc(mods, func(a, b module) int { return cmp.Compare(b.bytes, a.bytes) })
	return mods, total, sc.Err()
}

// bssRanges returns the address ranges of the sections that take no room
// in the file (.bss, .noptrbss).
func bssRanges(bin string) ([][2]uint64, error) {
	f, err := elf.Open(bin)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var r [][2]uint64
	for _, s := range f.Sections {
		// .tbss is NOBITS too, but its addresses are offsets in each
		// thread's block, not in the image.
		if s.Type == elf.SHT_NOBITS && s.Flags&elf.SHF_TLS == 0 {
			r = append(r, [2]uint64{s.Addr, s.Addr + s.Size})
		}
	}
	return r, nil
}

func inRanges(addr uint64, rs [][2]uint64) bool {
	for _, r := range rs {
		if addr >= r[0] && addr < r[1] {
			return true
		}
	}
	return false
}

// targetEnv maps "linux/arm/7" to GOOS, GOARCH and GOARM (or GOMIPS).
func targetEnv(target string) ([]string, error) {
	p := strings.Split(target, "/")
	if len(p) < 2 || len(p) > 3 {
		return nil, fmt.Errorf("target %q: want GOOS/GOARCH[/variant]", target)
	}
	env := []string{"CGO_ENABLED=0", "GOOS=" + p[0], "GOARCH=" + p[1]}
	if len(p) == 3 {
		switch {
		case p[1] == "arm":
			env = append(env, "GOARM="+p[2])
		case strings.HasPrefix(p[1], "mips"):
			env = append(env, "GOMIPS="+p[2])
		default:
			return nil, fmt.Errorf("target %q: no variant for %s", target, p[1])
		}
	}
	return env, nil
}

// modulePaths lists the main module and the dependencies linked into bin,
// longest first so that owner finds the most specific one.
func modulePaths(ctx context.Context, bin string) ([]string, error) {
	out, err := exec.CommandContext(ctx, "go", "version", "-m", bin).Output()
	if err != nil {
		return nil, fmt.Errorf("go version -m: %w", err)
	}
	var paths []string
	for line := range strings.Lines(string(out)) {
		f := strings.Fields(line)
		if len(f) >= 2 && (f[0] == "mod" || f[0] == "dep") {
			paths = append(paths, f[1])
		}
	}
	slices.SortFunc(paths, func(a, b string) int { return cmp.Compare(len(b), len(a)) })
	return paths, nil
}

// owner names the module a symbol belongs to: a module path that prefixes
// the symbol's package, else "std" for the standard library and runtime,
// else "other" (linker-made symbols such as go:itab and type: entries).
func owner(sym string, paths []string) string {
	// Method and generic symbols can start with a type or brackets;
	// strip the usual decorations to reach the package path.
	name := strings.TrimLeft(sym, "*(")
	for _, pre := range []string{"type:", "go:itab.", "go:info.", "go:string."} {
		name = strings.TrimPrefix(name, pre)
		name = strings.TrimLeft(name, "*(")
	}
	for _, p := range paths {
		if strings.HasPrefix(name, p+"/") || strings.HasPrefix(name, p+".") {
			return p
		}
	}
	if strings.HasPrefix(name, "go:") || strings.Contains(name, ":") {
		return "other"
	}
	// Type arguments may name other packages; the symbol's own package
	// comes before them. A standard package path has no dot in its first
	// element (crypto/tls, runtime), a module path does (github.com/...).
	name, _, _ = strings.Cut(name, "[")
	first, _, hasSlash := strings.Cut(name, "/")
	if !hasSlash || !strings.Contains(first, ".") {
		return "std"
	}
	return "other"
}
