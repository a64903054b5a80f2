package systemd

import (
	"bufio"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// directives reads the unit's "Key=Value" lines per section; a key given
// twice keeps every value.
func directives(t *testing.T, unit string) map[string]map[string][]string {
	t.Helper()
	out := map[string]map[string][]string{}
	var sec string
	sc := bufio.NewScanner(strings.NewReader(unit))
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		switch {
		case line == "" || strings.HasPrefix(line, "#"):
		case strings.HasPrefix(line, "[") && strings.HasSuffix(line, "]"):
			sec = strings.Trim(line, "[]")
			out[sec] = map[string][]string{}
		default:
			k, v, ok := strings.Cut(line, "=")
			if !ok || sec == "" {
				t.Fatalf("unit line %q is not Key=Value in a section", line)
			}
			out[sec][k] = append(out[sec][k], v)
		}
	}
	return out
}

func TestHardening(t *testing.T) {
	svc := directives(t, Unit)["Service"]
	want := map[string]string{
		"DynamicUser":             "yes",
		"CapabilityBoundingSet":   "CAP_NET_ADMIN CAP_NET_BIND_SERVICE",
		"AmbientCapabilities":     "CAP_NET_ADMIN CAP_NET_BIND_SERVICE",
		"NoNewPrivileges":         "yes",
		"StateDirectory":          "edgeward",
		"StateDirectoryMode":      "0700",
		"ProtectSystem":           "strict",
		"ProtectHome":             "yes",
		"PrivateTmp":              "yes",
		"DevicePolicy":            "closed",
		"DeviceAllow":             "/dev/net/tun rw",
		"RestrictAddressFamilies": "AF_UNIX AF_INET AF_INET6 AF_NETLINK",
		"RestrictNamespaces":      "net",
		"SystemCallFilter":        "@system-service setns",
		"MemoryDenyWriteExecute":  "yes",
		"Restart":                 "on-failure",
		"Environment":             "EDGEWARD_LISTEN=:8080",
		"EnvironmentFile":         "-/etc/default/edgeward",
		"ExecStart":               "/usr/local/bin/edgeward run-slot --update-dir=%S/edgeward/slots -- serve --data=%S/edgeward",
	}
	got := map[string]string{}
	for k := range want {
		got[k] = strings.Join(svc[k], "\n")
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("[Service] (-want +got):\n%s", diff)
	}
}

var (
	binDir   string
	build    sync.Once
	buildErr error
)

func TestMain(m *testing.M) {
	code := m.Run()
	if binDir != "" {
		os.RemoveAll(binDir)
	}
	os.Exit(code)
}

// buildEdgeward builds the binary the unit starts, once per test run.
func buildEdgeward(t *testing.T) string {
	t.Helper()
	build.Do(func() {
		if binDir, buildErr = os.MkdirTemp("", "edgeward-unit"); buildErr != nil {
			return
		}
		cmd := exec.Command("go", "build", "-o", filepath.Join(binDir, "edgeward"), "./cmd/edgeward")
		cmd.Dir = filepath.Join("..", "..")
		cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
		if out, err := cmd.CombinedOutput(); err != nil {
			buildErr = fmt.Errorf("build edgeward: %w\n%s", err, out)
		}
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return filepath.Join(binDir, "edgeward")
}

// TestVerify runs systemd-analyze verify on the unit, pointed at a real
// binary (verify refuses a missing ExecStart); any warning fails.
func TestVerify(t *testing.T) {
	if _, err := exec.LookPath("systemd-analyze"); err != nil {
		t.Skip("systemd-analyze not installed (Debian package systemd)")
	}
	bin := buildEdgeward(t)
	unit := filepath.Join(t.TempDir(), "edgeward.service")
	text := strings.ReplaceAll(Unit, "/usr/local/bin/edgeward", bin)
	if err := os.WriteFile(unit, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command("systemd-analyze", "verify", unit).CombinedOutput()
	if err != nil || len(out) > 0 {
		t.Errorf("systemd-analyze verify: %v\n%s", err, out)
	}
}

// TestFlagsAccepted checks every flag the unit passes or sets through the
// environment (its own and the example /etc/default/edgeward) against the
// flags "edgeward serve -h" lists.
func TestFlagsAccepted(t *testing.T) {
	bin := buildEdgeward(t)
	out, err := exec.Command(bin, "serve", "-h").CombinedOutput()
	if len(out) == 0 {
		t.Fatalf("serve -h printed nothing (%v)", err)
	}
	flags := map[string]bool{}
	for _, m := range regexp.MustCompile(`(?m)^  -([a-z0-9-]+)`).FindAllStringSubmatch(string(out), -1) {
		flags[m[1]] = true
	}
	if !flags["listen"] || !flags["data"] {
		t.Fatalf("serve -h lists no --listen or --data:\n%s", out)
	}
	svc := directives(t, Unit)["Service"]
	var used []string
	// The serve flags follow "serve"; run-slot's own come before "--".
	_, serveArgs, ok := strings.Cut(svc["ExecStart"][0], " serve ")
	if !ok {
		t.Fatalf("ExecStart %q runs no serve", svc["ExecStart"][0])
	}
	for _, f := range strings.Fields(serveArgs) {
		name, _, _ := strings.Cut(strings.TrimPrefix(f, "--"), "=")
		used = append(used, name)
	}
	env := svc["Environment"]
	for _, line := range strings.Split(Default, "\n") {
		if v := strings.TrimPrefix(line, "#"); strings.HasPrefix(v, "EDGEWARD_") {
			env = append(env, v)
		}
	}
	for _, e := range env {
		k, _, _ := strings.Cut(e, "=")
		used = append(used, strings.ReplaceAll(strings.ToLower(strings.TrimPrefix(k, "EDGEWARD_")), "_", "-"))
	}
	if len(used) < 7 {
		t.Fatalf("found only %v in the unit and the flags file", used)
	}
	for _, f := range used {
		if !flags[f] {
			t.Errorf("the unit sets --%s, which serve -h does not list", f)
		}
	}
}
