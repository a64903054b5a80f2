package main

import (
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"
)

// holdConns opens n idle TCP connections to addr from the loopback
// address from and closes them at cleanup. The kernel completes each
// handshake into the listen backlog whether or not the server accepts.
func holdConns(t *testing.T, addr, from string, n int) []net.Conn {
	t.Helper()
	d := net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(from)}, Timeout: 5 * time.Second}
	conns := make([]net.Conn, 0, n)
	for range n {
		c, err := d.Dial("tcp", addr)
		if err != nil {
			t.Fatalf("dial %d from %s: %v", len(conns), from, err)
		}
		conns = append(conns, c)
	}
	t.Cleanup(func() {
		for _, c := range conns {
			c.Close()
		}
	})
	return conns
}

// waitLog waits until the server's log holds want.
func (s *server) waitLog(want string) {
	s.t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !strings.Contains(s.log.String(), want) {
		if time.Now().After(deadline) {
			s.t.Fatalf("log never said %q:\n%s", want, s.log)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// alive fails the test if the server process has exited.
func (s *server) alive() {
	s.t.Helper()
	select {
	case err := <-s.done:
		s.t.Fatalf("edgeward exited: %v\n%s", err, s.log)
	default:
	}
}

// openFDs counts the descriptors process pid holds.
func openFDs(t *testing.T, pid int) int {
	t.Helper()
	ents, err := os.ReadDir(fmt.Sprintf("/proc/%d/fd", pid))
	if err != nil {
		t.Fatal(err)
	}
	return len(ents)
}

// With no connection limit to save it, a server under a 256-descriptor
// limit meets EMFILE from accept: it pauses and keeps serving instead of
// exiting, and answers again once the idle connections close.
func TestServeSurvivesFDExhaustion(t *testing.T) {
	const nofile = 256
	dir := t.TempDir()
	s := startWrapped(t, []string{"prlimit", fmt.Sprintf("--nofile=%d", nofile)}, dir,
		"--netns", netns(t), "--max-conns", "100000", "--max-conns-per-source", "0")
	s.waitLog(fmt.Sprintf(`"nofile":%d`, nofile))
	s.call("GET", "/api/peers", nil, 200)
	addr := strings.TrimPrefix(s.base, "http://")
	conns := holdConns(t, addr, "127.0.0.1", 2*nofile)
	s.waitLog("out of descriptors")
	if n := openFDs(t, s.cmd.Process.Pid); n != nofile {
		t.Errorf("server holds %d descriptors, want all %d in use", n, nofile)
	}
	s.alive()
	for _, c := range conns {
		c.Close()
	}
	// The backlog drains as the closed connections are accepted and read
	// to EOF; then a request is served.
	deadline := time.Now().Add(20 * time.Second)
	for {
		s.alive()
		if status, _ := s.tryGet("/api/peers"); status == 200 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("not serving after the connections closed:\n%s", s.log)
		}
		time.Sleep(50 * time.Millisecond)
	}
	s.alive()
}

// Under the default limits a low descriptor limit caps the connections
// below it, and one source gets no more than --max-conns-per-source: a
// second source is served while the first holds its share.
func TestServeConnectionLimits(t *testing.T) {
	dir := t.TempDir()
	s := startWrapped(t, []string{"prlimit", "--nofile=400"}, dir,
		"--netns", netns(t), "--max-conns-per-source", "8")
	s.waitLog(`"max_conns":272`)
	addr := strings.TrimPrefix(s.base, "http://")
	held := holdConns(t, addr, "127.0.0.2", 8)
	// The ninth from the same source is closed unanswered.
	extra := holdConns(t, addr, "127.0.0.2", 1)[0]
	_ = extra.SetReadDeadline(time.Now().Add(5 * time.Second))
	if _, err := extra.Write([]byte("GET /api/health HTTP/1.1\r\nHost: x\r\n\r\n")); err == nil {
		if b, err := io.ReadAll(extra); err != nil && !isReset(err) || len(b) > 0 {
			t.Errorf("ninth connection from one source answered %q (err %v), want closed", b, err)
		}
	}
	s.waitLog("connections refused over the limit")
	// Another source is still served, and so is the first once it closes
	// a connection.
	s.call("GET", "/api/peers", nil, 200)
	held[0].Close()
	// The server frees the slot once it reads the close: retry until then.
	deadline := time.Now().Add(10 * time.Second)
	for {
		c := holdConns(t, addr, "127.0.0.2", 1)[0]
		_ = c.SetDeadline(time.Now().Add(5 * time.Second))
		_, _ = c.Write([]byte("GET /api/peers HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"))
		b, _ := io.ReadAll(c)
		c.Close()
		if strings.HasPrefix(string(b), "HTTP/1.1 401") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("first source after freeing a slot got %q, want an answer (401 without a token)", b)
		}
		time.Sleep(20 * time.Millisecond)
	}
	s.alive()
}

func isReset(err error) bool { return strings.Contains(err.Error(), "connection reset") }

// tryGet is raw on a fresh connection, without failing the test on a
// transport error.
func (s *server) tryGet(path string) (int, error) {
	req, _ := http.NewRequest("GET", s.base+path, nil)
	req.Header.Set("Authorization", "Token "+s.token)
	c := &http.Client{Timeout: 2 * time.Second, Transport: &http.Transport{DisableKeepAlives: true}}
	res, err := c.Do(req)
	if err != nil {
		return 0, err
	}
	defer res.Body.Close()
	_, _ = io.Copy(io.Discard, res.Body)
	return res.StatusCode, nil
}
