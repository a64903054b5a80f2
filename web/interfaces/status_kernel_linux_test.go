//go:build linux

package interfaces

import (
	"fmt"
	"runtime"
	"testing"
	"time"

	"github.com/edgeward/edgeward/web/internal/webtest"

	"github.com/vishvananda/netns"
	"golang.org/x/sys/unix"

	"github.com/edgeward/edgeward/hw/nic"
)

// TestStatusRealKernel reads interface_status over hw/nic in a network
// namespace the test makes, with links in the states the published enum
// lacks: a veth whose peer is down (LOWERLAYERDOWN) is DOWN, a TUN link
// with a reader (UNKNOWN, carrier on) is UP, and a link deleted after it
// was seen is MISSING. The raw operstate goes along in operstate.
func TestStatusRealKernel(t *testing.T) {
	name, fd, ip := webtest.Netns(t, "ew-nic-")
	ip("link", "add", "ewa", "type", "veth", "peer", "name", "ewb")
	ip("link", "set", "ewa", "up")
	tun := openTUN(t, name, "ewt0")
	t.Cleanup(func() { unix.Close(tun) })
	ip("link", "set", "ewt0", "up")
	k, err := nic.New(nic.Options{NetNS: fd})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { k.Close() })
	e := newEnvWith(t, envOpts{kernel: k})
	ids := map[string]int{}
	var list []ifaceJSON
	e.doV2(t, "GET", "/v2/network/interfaces/", nil, nil).json(t, &list)
	for _, i := range list {
		ids[i.Name] = i.ID
	}
	if ids["ewa"] == 0 || ids["ewt0"] == 0 {
		t.Fatalf("ewa and ewt0 not among the interfaces: %v", ids)
	}
	status := func(link string) detailsJSON {
		t.Helper()
		var st nodeStatusJSON
		r := e.doV2(t, "GET", fmt.Sprintf("/v2/network/interfaces/%d/status/1", ids[link]), nil, nil)
		if r.status != 200 {
			t.Fatalf("status of %s (id %d): %d %s", link, ids[link], r.status, r.body)
		}
		r.json(t, &st)
		return st.InterfaceDetails
	}
	steps := []struct {
		name             string
		act              func()
		link             string
		want, wantKernel string
	}{
		{"veth, peer down", func() {}, "ewa", "DOWN", "LOWERLAYERDOWN"},
		{"tun with a reader", func() {}, "ewt0", "UP", "UNKNOWN"},
		{"veth, peer up", func() { ip("link", "set", "ewb", "up") }, "ewa", "UP", "UP"},
		{"veth set down", func() { ip("link", "set", "ewa", "down") }, "ewa", "DOWN", "DOWN"},
		{"veth deleted", func() { ip("link", "del", "ewa") }, "ewa", "MISSING", "MISSING"},
	}
	for _, st := range steps {
		st.act()
		// The kernel moves operstate asynchronously (linkwatch), up to a
		// second or so after the change under load.
		got := status(st.link)
		for deadline := time.Now().Add(5 * time.Second); got.OperState != st.wantKernel && time.Now().Before(deadline); {
			time.Sleep(50 * time.Millisecond)
			got = status(st.link)
		}
		if got.InterfaceStatus != st.want || got.OperState != st.wantKernel {
			t.Errorf("%s: interface_status %q operstate %q, want %q %q", st.name, got.InterfaceStatus, got.OperState, st.want, st.wantKernel)
		}
	}
}

// openTUN creates TUN link name in namespace ns and returns the open
// descriptor that keeps it (and its carrier) up. The creating thread
// enters ns and leaves it again; a thread that cannot leave is dropped.
func openTUN(t *testing.T, ns, name string) int {
	t.Helper()
	type result struct {
		fd  int
		err error
	}
	done := make(chan result, 1)
	go func() {
		runtime.LockOSThread()
		orig, err := netns.Get()
		if err != nil {
			done <- result{-1, err}
			return
		}
		defer orig.Close()
		target, err := netns.GetFromName(ns)
		if err != nil {
			done <- result{-1, err}
			return
		}
		defer target.Close()
		if err := netns.Set(target); err != nil {
			done <- result{-1, err}
			return
		}
		fd, err := tunIn(name)
		if netns.Set(orig) == nil {
			runtime.UnlockOSThread() // back home: the thread may serve others
		}
		done <- result{fd, err}
	}()
	r := <-done
	if r.err != nil {
		t.Fatalf("open tun %s in %s: %v", name, ns, r.err)
	}
	return r.fd
}

func tunIn(name string) (int, error) {
	fd, err := unix.Open("/dev/net/tun", unix.O_RDWR|unix.O_CLOEXEC, 0)
	if err != nil {
		return -1, err
	}
	ifr, err := unix.NewIfreq(name)
	if err != nil {
		unix.Close(fd)
		return -1, err
	}
	ifr.SetUint16(unix.IFF_TUN | unix.IFF_NO_PI)
	if err := unix.IoctlIfreq(fd, unix.TUNSETIFF, ifr); err != nil {
		unix.Close(fd)
		return -1, err
	}
	return fd, nil
}
