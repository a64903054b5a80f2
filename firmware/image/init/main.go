//go:build linux

// Command init is PID 1 of edgeward's test image: it mounts the kernel's
// file systems, loads the modules the image carries, brings up the
// network qemu's user-mode NIC expects, mounts the data disk and keeps
// edgeward's update launcher running, restarting it when it exits; on
// SIGTERM it stops it and powers the machine off. It is for the qemu boot
// test and a base for router images, not a general init.
package main

import (
	"bufio"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strings"
	"time"

	"github.com/jsimonetti/rtnetlink/v2"
	"golang.org/x/sys/unix"
)

// Where qemu's user-mode network (slirp) puts the guest.
var (
	guestAddr = netip.MustParsePrefix("10.0.2.15/24")
	gateway   = netip.MustParseAddr("10.0.2.2")
)

func main() {
	// The console is PID 1's stdout; a failure says why and powers off
	// rather than leaving the VM (and a CI job) hanging.
	if err := boot(); err != nil {
		fmt.Println("init: boot failed:", err)
		powerOff()
	}
	code := run()
	fmt.Println("init: edgeward stopped:", code)
	powerOff()
}

func boot() error {
	for _, m := range []struct{ src, dst, fstype string }{
		{"proc", "/proc", "proc"}, {"sysfs", "/sys", "sysfs"}, {"devtmpfs", "/dev", "devtmpfs"},
		{"tmpfs", "/tmp", "tmpfs"}, {"tmpfs", "/run", "tmpfs"},
	} {
		if err := os.MkdirAll(m.dst, 0o755); err != nil {
			return err
		}
		if err := unix.Mount(m.src, m.dst, m.fstype, 0, ""); err != nil && !errors.Is(err, unix.EBUSY) {
			return fmt.Errorf("mount %s: %w", m.dst, err)
		}
	}
	if err := loadModules("/modules/order"); err != nil {
		return err
	}
	if err := network(); err != nil {
		return fmt.Errorf("network: %w", err)
	}
	if err := mountData("/dev/vda", "/data"); err != nil {
		return err
	}
	return nil
}

// loadModules loads the modules listed in order, dependencies first, as
// the image builder wrote them (there is no modprobe in the image).
func loadModules(order string) error {
	f, err := os.Open(order)
	if err != nil {
		return err
	}
	defer f.Close()
	s := bufio.NewScanner(f)
	for s.Scan() {
		name := strings.TrimSpace(s.Text())
		if name == "" {
			continue
		}
		if err := loadModule(filepath.Join("/modules", name)); err != nil {
			return fmt.Errorf("load %s: %w", name, err)
		}
	}
	return s.Err()
}

func loadModule(path string) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	err = unix.FinitModule(int(f.Fd()), "", 0)
	if errors.Is(err, unix.EEXIST) {
		return nil
	}
	return err
}

// network brings lo and the first Ethernet link up with slirp's address
// and default route.
func network() error {
	c, err := rtnetlink.Dial(nil)
	if err != nil {
		return err
	}
	defer c.Close()
	var eth *net.Interface
	// The NIC's driver was just loaded: its link may take a moment.
	for range 50 {
		if ifi, err := net.InterfaceByName("eth0"); err == nil {
			eth = ifi
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	if eth == nil {
		return errors.New("no eth0")
	}
	lo, err := net.InterfaceByName("lo")
	if err != nil {
		return err
	}
	for _, ifi := range []*net.Interface{lo, eth} {
		if err := c.Link.Set(&rtnetlink.LinkMessage{Index: uint32(ifi.Index), Flags: unix.IFF_UP, Change: unix.IFF_UP}); err != nil {
			return fmt.Errorf("set %s up: %w", ifi.Name, err)
		}
	}
	addr := guestAddr.Addr().AsSlice()
	if err := c.Address.New(&rtnetlink.AddressMessage{Family: unix.AF_INET, PrefixLength: uint8(guestAddr.Bits()),
		Index: uint32(eth.Index), Attributes: &rtnetlink.AddressAttributes{Address: addr, Local: addr}}); err != nil {
		return fmt.Errorf("address: %w", err)
	}
	return c.Route.Add(&rtnetlink.RouteMessage{Family: unix.AF_INET, Table: unix.RT_TABLE_MAIN,
		Protocol: unix.RTPROT_BOOT, Scope: unix.RT_SCOPE_UNIVERSE, Type: unix.RTN_UNICAST,
		Attributes: rtnetlink.RouteAttributes{Gateway: gateway.AsSlice(), OutIface: uint32(eth.Index)}})
}

// mountData mounts the ext4 data disk, waiting for its driver to find it.
func mountData(dev, dir string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	var err error
	for range 50 {
		if err = unix.Mount(dev, dir, "ext4", 0, ""); err == nil {
			return nil
		}
		time.Sleep(100 * time.Millisecond)
	}
	return fmt.Errorf("mount %s: %w", dev, err)
}

// run supervises edgeward as procd or systemd would: it runs the update
// launcher (run-slot, which starts the active or trial slot) with serve's
// flags plus those in /data/flags (one a line, so a test or an admin can
// change them without rebuilding the image), and starts it again whenever
// it exits, which is how a crashing update on trial gets rolled back.
// SIGTERM is passed on and ends the loop.
func run() int {
	args := []string{"run-slot", "--update-dir", "/data/slots", "--",
		"serve", "--listen", "0.0.0.0:8080", "--data", "/data/edgeward", "--node-name", "edgeward-vm"}
	if b, err := os.ReadFile("/data/flags"); err == nil {
		for _, l := range strings.Split(string(b), "\n") {
			if l = strings.TrimSpace(l); l != "" {
				args = append(args, l)
			}
		}
	}
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, unix.SIGTERM, unix.SIGINT)
	for {
		cmd := exec.Command("/edgeward", args...)
		cmd.Stdout, cmd.Stderr = os.Stdout, os.Stderr
		if err := cmd.Start(); err != nil {
			fmt.Println("init: start edgeward:", err)
			return -1
		}
		done := make(chan struct{})
		go func() { _ = cmd.Wait(); close(done) }()
		select {
		case s := <-sig:
			_ = cmd.Process.Signal(s)
			<-done
			return cmd.ProcessState.ExitCode()
		case <-done:
		}
		fmt.Println("init: edgeward exited:", cmd.ProcessState, "- starting it again")
		time.Sleep(time.Second)
	}
}

// powerOff flushes the disk and turns the machine off.
func powerOff() {
	unix.Sync()
	_ = unix.Unmount("/data", 0)
	_ = unix.Reboot(unix.LINUX_REBOOT_CMD_POWER_OFF)
	select {}
}
