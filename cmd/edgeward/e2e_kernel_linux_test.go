package main

import (
	"crypto/rand"
	"fmt"
	"net"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"
)

// TestHelperListen accepts TCP connections until killed; it runs inside a
// test namespace as the router's service.
func TestHelperListen(t *testing.T) {
	addr := os.Getenv("EDGEWARD_HELPER_LISTEN")
	if addr == "" {
		t.Skip("helper for the kernel tests")
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	fmt.Println("listening")
	for {
		c, err := ln.Accept()
		if err != nil {
			return
		}
		c.Close()
	}
}

// TestHelperDial exits 0 when a TCP connection to the address succeeds
// within 400 ms; it runs inside the client namespace.
func TestHelperDial(t *testing.T) {
	addr := os.Getenv("EDGEWARD_HELPER_DIAL")
	if addr == "" {
		t.Skip("helper for the kernel tests")
	}
	c, err := net.DialTimeout("tcp", addr, 400*time.Millisecond)
	if err != nil {
		t.Fatal(err)
	}
	c.Close()
}

// lab is a router namespace and a client namespace joined by a veth pair.
type lab struct {
	router, client string
	routerIP       string
	clientIP       string
	port           int
}

func newLab(t *testing.T) *lab {
	t.Helper()
	r, c := netns(t), netns(t)
	var b [1]byte
	_, _ = rand.Read(b[:])
	n := int(b[0])
	l := &lab{router: r, client: c, routerIP: fmt.Sprintf("10.99.%d.1", n), clientIP: fmt.Sprintf("10.99.%d.2", n), port: 9732}
	for _, args := range [][]string{
		{"-n", r, "link", "add", "ewr", "type", "veth", "peer", "name", "ewc", "netns", c},
		{"-n", r, "addr", "add", l.routerIP + "/24", "dev", "ewr"},
		{"-n", c, "addr", "add", l.clientIP + "/24", "dev", "ewc"},
		{"-n", r, "link", "set", "ewr", "up"},
		{"-n", c, "link", "set", "ewc", "up"},
	} {
		if out, err := exec.Command("ip", args...).CombinedOutput(); err != nil {
			t.Fatalf("ip %v: %v: %s", args, err, out)
		}
	}
	cmd := exec.Command("ip", "netns", "exec", r, os.Args[0], "-test.run=^TestHelperListen$")
	cmd.Env = append(os.Environ(), fmt.Sprintf("EDGEWARD_HELPER_LISTEN=%s:%d", l.routerIP, l.port))
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	buf := make([]byte, 16)
	if n, _ := out.Read(buf); !strings.Contains(string(buf[:n]), "listening") {
		t.Fatalf("listener did not start: %q", buf[:n])
	}
	return l
}

// reachable reports whether the client can open a TCP connection to the
// router's service.
func (l *lab) reachable(t *testing.T) bool {
	t.Helper()
	cmd := exec.Command("ip", "netns", "exec", l.client, os.Args[0], "-test.run=^TestHelperDial$")
	cmd.Env = append(os.Environ(), fmt.Sprintf("EDGEWARD_HELPER_DIAL=%s:%d", l.routerIP, l.port))
	return cmd.Run() == nil
}

func (l *lab) nft(t *testing.T, args ...string) {
	t.Helper()
	if out, err := exec.Command("ip", append([]string{"netns", "exec", l.router, "nft"}, args...)...).CombinedOutput(); err != nil {
		t.Fatalf("nft %v: %v: %s", args, err, out)
	}
}

// eventually polls cond for up to 15 s.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(15 * time.Second); time.Now().Before(deadline); time.Sleep(200 * time.Millisecond) {
		if cond() {
			return
		}
	}
	t.Fatalf("%s: not within 15 s", what)
}

// TestKernelEnforcement runs the binary with its firewall in a router
// namespace and checks, from a client namespace, that what the API says is
// what the kernel does: across a ban, a trust, a hand-flushed and a
// hand-deleted table, and a restart.
func TestKernelEnforcement(t *testing.T) {
	l := newLab(t)
	dir := t.TempDir()
	s := startIn(t, l.router, dir)
	eventually(t, "enforcement", func() bool {
		st := obj(s.call("GET", "/network/acl/status", nil, 200))
		return st["enforced"] == true
	})
	if !l.reachable(t) {
		t.Fatal("client cannot reach the router before any ban")
	}
	point := "/network/points/" + l.clientIP + ":40000"
	s.call("PATCH", point, map[string]string{"acl": "ban"}, 200)
	if l.reachable(t) {
		t.Fatal("banned client still connects")
	}
	if b := s.call("GET", point+"/banned", nil, 200); b != true {
		t.Fatalf("/banned = %v", b)
	}
	s.call("PATCH", point, map[string]string{"acl": "trust"}, 200)
	if !l.reachable(t) {
		t.Fatal("trusted client cannot connect")
	}
	s.call("PATCH", point, map[string]string{"acl": "ban"}, 200)

	// Someone flushes the table by hand; the reconcile loop restores it.
	l.nft(t, "flush", "table", "inet", "edgeward")
	eventually(t, "repair after flush", func() bool { return !l.reachable(t) })
	l.nft(t, "delete", "table", "inet", "edgeward")
	eventually(t, "repair after delete", func() bool { return !l.reachable(t) })

	// A bulk ban with a short life, then a restart: the rebuilt table keeps
	// the permanent ban and leaves the expired entries out.
	status, raw := s.rawText("POST", "/network/acl/bulk?acl=ban&ttl_seconds=2", "192.0.2.1\n192.0.2.0/28\n")
	if status != 200 {
		t.Fatalf("bulk: %d %s", status, raw)
	}
	status, raw = s.rawText("POST", "/network/acl/bulk?acl=ban", "198.51.100.7\n")
	if status != 200 {
		t.Fatalf("bulk: %d %s", status, raw)
	}
	s.stopGracefully(t)
	if l.reachable(t) {
		t.Fatal("the ban lapsed while edgeward was stopped")
	}
	time.Sleep(3 * time.Second) // the short bans expire while stopped
	s = startIn(t, l.router, dir)
	// The firewall is installed before the API serves: the first answer
	// after a restart already says enforced.
	if st := obj(s.call("GET", "/network/acl/status", nil, 200)); st["enforced"] != true {
		t.Fatalf("first answer after a restart: %v, want enforced", st)
	}
	if l.reachable(t) {
		t.Fatal("ban lost across a restart")
	}
	if st := obj(s.call("GET", "/network/acl/status", nil, 200)); st["bans"] != 2.0 {
		t.Fatalf("bans after restart = %v, want the client's and 198.51.100.7 (expired ones gone)", st["bans"])
	}
	out, _ := exec.Command("ip", "netns", "exec", l.router, "nft", "list", "table", "inet", "edgeward").CombinedOutput()
	if strings.Contains(string(out), "192.0.2.") || !strings.Contains(string(out), "198.51.100.7") {
		t.Fatalf("rebuilt table holds expired bans or lacks the permanent one:\n%s", out)
	}
	// Opened, the point stays known and the answer is its info, as the
	// original answers: never an error after the change is made.
	if info := obj(s.call("PATCH", point, map[string]string{"acl": "open"}, 200)); info["trusted"] != false {
		t.Fatalf("opened point info %v", info)
	}
	if !l.reachable(t) {
		t.Fatal("opened client cannot connect")
	}
	s.stopGracefully(t)
}
