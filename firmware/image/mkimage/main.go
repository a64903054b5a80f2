// Command mkimage builds the initramfs of edgeward's test image: a gzip'd
// cpio (newc) archive with the init, the edgeward binary and the kernel
// modules they need, dependencies first in /modules/order (the image has
// no modprobe). The kernel comes unpacked from Debian's linux-image
// package (see fetch-kernel.sh).
package main

import (
	"bufio"
	"compress/gzip"
	"flag"
	"fmt"
	"io"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"
)

// roots are the modules the image loads; their dependencies come along.
// crc32c_generic is first because libcrc32c needs it by a soft
// dependency modules.dep does not list.
var roots = []string{
	"kernel/crypto/crc32c_generic.ko",
	"kernel/drivers/virtio/virtio_pci.ko",
	"kernel/drivers/block/virtio_blk.ko",
	"kernel/drivers/net/virtio_net.ko",
	"kernel/fs/ext4/ext4.ko",
	"kernel/drivers/net/tun.ko",
	"kernel/drivers/net/wireguard/wireguard.ko",
}

// netfilter adds every nf_tables expression and the conntrack and reject
// modules the ruleset may use: the kernel would load them on demand
// through modprobe, which the image lacks.
func netfilter(dep map[string][]string) []string {
	var out []string
	for m := range dep {
		base := path.Base(m)
		if strings.HasPrefix(m, "kernel/net/netfilter/nft_") || strings.HasPrefix(base, "nft_") && strings.Contains(m, "/netfilter/") ||
			base == "nf_tables.ko" || base == "nf_conntrack.ko" || strings.HasPrefix(base, "nf_reject_") {
			out = append(out, m)
		}
	}
	slices.Sort(out)
	return out
}

func main() {
	kernel := flag.String("kernel", "", "unpacked linux-image package (holds lib/modules/VERSION with modules.dep)")
	initBin := flag.String("init", "", "the image's init binary")
	edgeward := flag.String("edgeward", "", "the static edgeward binary")
	out := flag.String("out", "initramfs.cpio.gz", "archive to write")
	flag.Parse()
	if err := build(*kernel, *initBin, *edgeward, *out); err != nil {
		fmt.Fprintln(os.Stderr, "mkimage:", err)
		os.Exit(1)
	}
}

func build(kernel, initBin, edgeward, out string) error {
	vers, err := filepath.Glob(filepath.Join(kernel, "lib/modules/*/modules.dep"))
	if err != nil || len(vers) != 1 {
		return fmt.Errorf("want one lib/modules/*/modules.dep under %s (run depmod), found %v", kernel, vers)
	}
	modDir := filepath.Dir(vers[0])
	dep, err := readDeps(vers[0])
	if err != nil {
		return err
	}
	order, err := loadOrder(dep, append(slices.Clone(roots), netfilter(dep)...))
	if err != nil {
		return err
	}
	f, err := os.Create(out)
	if err != nil {
		return err
	}
	defer f.Close()
	zw := gzip.NewWriter(f)
	w := &cpioWriter{w: zw}
	for _, d := range []string{"dev", "proc", "sys", "tmp", "run", "data", "modules"} {
		w.dir(d)
	}
	// The kernel opens /dev/console for init's stdout before devtmpfs is
	// mounted: without the node, init's output is lost.
	w.node("dev/console", 0o020600, 5, 1)
	if err := w.file("init", initBin, 0o755); err != nil {
		return err
	}
	if err := w.file("edgeward", edgeward, 0o755); err != nil {
		return err
	}
	var list strings.Builder
	for _, m := range order {
		name := path.Base(m)
		if err := w.file("modules/"+name, filepath.Join(modDir, m), 0o644); err != nil {
			return err
		}
		list.WriteString(name + "\n")
	}
	w.bytes("modules/order", []byte(list.String()), 0o644)
	w.trailer()
	if w.err != nil {
		return w.err
	}
	if err := zw.Close(); err != nil {
		return err
	}
	return f.Close()
}

// readDeps reads modules.dep: "kernel/a.ko: kernel/b.ko kernel/c.ko".
func readDeps(file string) (map[string][]string, error) {
	f, err := os.Open(file)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	dep := map[string][]string{}
	s := bufio.NewScanner(f)
	for s.Scan() {
		mod, deps, ok := strings.Cut(s.Text(), ":")
		if !ok {
			continue
		}
		dep[mod] = strings.Fields(deps)
	}
	return dep, s.Err()
}

// loadOrder lists wanted and everything they depend on, each module after
// its dependencies and once.
func loadOrder(dep map[string][]string, wanted []string) ([]string, error) {
	var order []string
	seen := map[string]bool{}
	var visit func(m string) error
	visit = func(m string) error {
		if seen[m] {
			return nil
		}
		deps, ok := dep[m]
		if !ok {
			return fmt.Errorf("module %s is not in modules.dep", m)
		}
		seen[m] = true
		for _, d := range slices.Backward(deps) {
			if err := visit(d); err != nil {
				return err
			}
		}
		order = append(order, m)
		return nil
	}
	for _, m := range wanted {
		if err := visit(m); err != nil {
			return nil, err
		}
	}
	return order, nil
}

// cpioWriter writes the "newc" cpio format the kernel unpacks.
type cpioWriter struct {
	w   io.Writer
	ino int
	err error
}

func (c *cpioWriter) header(name string, mode, size, major, minor int) {
	if c.err != nil {
		return
	}
	c.ino++
	nlink := 1
	if mode&0o040000 != 0 {
		nlink = 2
	}
	hdr := fmt.Sprintf("070701%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X",
		c.ino, mode, 0, 0, nlink, 0, size, 0, 0, major, minor, len(name)+1, 0)
	_, c.err = io.WriteString(c.w, hdr+name+"\x00")
	c.pad(len(hdr) + len(name) + 1)
}

func (c *cpioWriter) pad(n int) {
	if c.err == nil && n%4 != 0 {
		_, c.err = c.w.Write(make([]byte, 4-n%4))
	}
}

func (c *cpioWriter) dir(name string) { c.header(name, 0o040755, 0, 0, 0) }

func (c *cpioWriter) node(name string, mode, major, minor int) { c.header(name, mode, 0, major, minor) }

func (c *cpioWriter) bytes(name string, b []byte, perm int) {
	c.header(name, 0o100000|perm, len(b), 0, 0)
	if c.err == nil {
		_, c.err = c.w.Write(b)
		c.pad(len(b))
	}
}

func (c *cpioWriter) file(name, src string, perm int) error {
	b, err := os.ReadFile(src)
	if err != nil {
		return err
	}
	c.bytes(name, b, perm)
	return c.err
}

func (c *cpioWriter) trailer() { c.header("TRAILER!!!", 0, 0, 0, 0) }
