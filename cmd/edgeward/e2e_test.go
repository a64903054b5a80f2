package main

import (
	"bufio"
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// binary is the edgeward binary built once for the black-box tests.
var binary string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "edgeward-e2e-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	binary = filepath.Join(dir, "edgeward")
	if out, err := exec.Command("go", "build", "-o", binary, ".").CombinedOutput(); err != nil {
		fmt.Fprintf(os.Stderr, "build edgeward: %v\n%s", err, out)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// server is one running edgeward process.
type server struct {
	t     testing.TB
	cmd   *exec.Cmd
	base  string
	token string
	log   *logBuf
	done  chan error
	// client, when set, replaces http.DefaultClient (HTTPS tests).
	client *http.Client
}

// start runs "edgeward serve" on a free loopback port with data in dir and
// waits until it logs its address.
// Its kernel side (firewall, WireGuard device) always lives in a network
// namespace: one the test names with --netns, or a fresh one, so a test
// never touches the host's. The WireGuard interface gets a unique name
// unless the test names it, because its UAPI socket path is shared by
// every namespace.
func start(t testing.TB, dir string, extra ...string) *server {
	t.Helper()
	if !slices.Contains(extra, "--netns") {
		extra = append([]string{"--netns", netns(t)}, extra...)
	}
	return startWrapped(t, nil, dir, extra...)
}

// startWrapped runs edgeward under the command wrap (such as ip netns exec
// NS setpriv ...), or plainly when wrap is empty.
func startWrapped(t testing.TB, wrap []string, dir string, extra ...string) *server {
	t.Helper()
	// JSON logs, which the test reads; a later --log-format in extra wins.
	args := []string{"serve", "--listen", "127.0.0.1:0", "--data", dir, "--bundle-minute", "200ms", "--log-format", "json"}
	if !slices.Contains(extra, "--wg-interface") {
		args = append(args, "--wg-interface", uniqueIface())
	}
	args = append(args, extra...)
	iface := args[slices.Index(args, "--wg-interface")+1]
	argv := append(append(slices.Clone(wrap), binary), args...)
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Env = append(os.Environ(), "EDGEWARD_DNS_DOMAIN=corp.test")
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	s := &server{t: t, cmd: cmd, log: &logBuf{}, done: make(chan error, 1)}
	addr := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			s.log.WriteString(sc.Text() + "\n")
			var rec struct{ Msg, Addr, Scheme string }
			if json.Unmarshal(sc.Bytes(), &rec) == nil && rec.Msg == "serving" {
				addr <- rec.Scheme + "://" + rec.Addr
			}
		}
		s.done <- cmd.Wait()
	}()
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		// A killed process leaves its UAPI socket file behind.
		if iface != "" {
			os.Remove("/var/run/wireguard/" + iface + ".sock")
		}
	})
	select {
	case a := <-addr:
		s.base = a
	case err := <-s.done:
		t.Fatalf("edgeward exited before serving: %v\n%s", err, s.log)
	case <-time.After(20 * time.Second):
		t.Fatalf("edgeward did not start\n%s", s.log)
	}
	tok, err := os.ReadFile(filepath.Join(dir, "admin.token"))
	if err != nil {
		t.Fatalf("admin.token: %v", err)
	}
	s.token = strings.TrimSpace(string(tok))
	return s
}

// call sends a request with the admin token and decodes the JSON answer.
func (s *server) call(method, path string, body any, wantStatus int) any {
	s.t.Helper()
	status, raw := s.raw(method, path, body)
	if status != wantStatus {
		s.t.Fatalf("%s %s: status %d, want %d: %s", method, path, status, wantStatus, raw)
	}
	var v any
	if err := json.Unmarshal(raw, &v); err != nil {
		s.t.Fatalf("%s %s: not JSON: %s", method, path, raw)
	}
	return v
}

func (s *server) raw(method, path string, body any) (int, []byte) {
	s.t.Helper()
	var rd io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	}
	req, _ := http.NewRequest(method, s.base+path, rd)
	req.Header.Set("Authorization", "Token "+s.token)
	req.Header.Set("Content-Type", "application/json")
	client := s.client
	if client == nil {
		client = http.DefaultClient
	}
	res, err := client.Do(req)
	if err != nil {
		s.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer res.Body.Close()
	raw, _ := io.ReadAll(res.Body)
	return res.StatusCode, raw
}

// uniqueIface returns an interface name no other test uses.
func uniqueIface() string {
	var b [4]byte
	_, _ = rand.Read(b[:])
	return "ewt" + hex.EncodeToString(b[:])
}

// startIn runs edgeward with its firewall in the network namespace ns.
func startIn(t testing.TB, ns, dir string, extra ...string) *server {
	t.Helper()
	return start(t, dir, append([]string{"--netns", ns}, extra...)...)
}

// kill9 kills the process without warning, as a power cut or OOM would.
func (s *server) kill9() {
	s.t.Helper()
	if err := s.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		s.t.Fatal(err)
	}
	<-s.done
}

func obj(v any) map[string]any { m, _ := v.(map[string]any); return m }
func arr(v any) []any          { a, _ := v.([]any); return a }

func (s *server) checkSchema(schemas map[string]any, section string, got any) {
	s.t.Helper()
	if errs := matchSchema(schemas[section], got, ""); len(errs) > 0 {
		s.t.Errorf("%s does not match the contract:\n  %s", section, strings.Join(errs, "\n  "))
	}
}

// logBuf is the server's log as read so far; the reader goroutine writes
// it while the test reads it.
type logBuf struct {
	mu sync.Mutex
	b  strings.Builder
}

func (l *logBuf) WriteString(s string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.b.WriteString(s)
}

// Write makes logBuf a log handler's sink.
func (l *logBuf) Write(p []byte) (int, error) {
	l.WriteString(string(p))
	return len(p), nil
}

func (l *logBuf) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}
