package web

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"slices"
	"strings"
	"testing"
)

const module = "github.com/edgeward/edgeward"

// part is the part of the web layer a package belongs to: "web" (the app
// that mounts everything), "internal" (shared plumbing) or a dialect or
// the pages, by its directory under web/.
func part(path string) string {
	rest, ok := strings.CutPrefix(path, module+"/web/")
	if !ok {
		return "web"
	}
	top, _, _ := strings.Cut(rest, "/")
	return top
}

// TestWebDependencies keeps the dialects and the pages apart: a change to
// one dialect's JSON must not change another's or the pages. A part of the
// web layer may use core, views and web/internal, never another part nor
// the app that mounts it; web/internal uses no part at all.
func TestWebDependencies(t *testing.T) {
	cmd := exec.Command("go", "list", "-f", `{{.ImportPath}}|{{join .Deps " "}}`, module+"/web/...")
	cmd.Env = append(os.Environ(), "GOOS=linux")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go list: %v\n%s", err, stderr.Bytes())
	}
	got, seen, err := crossings(string(out))
	if err != nil {
		t.Fatal(err)
	}
	if seen < 2 {
		t.Fatalf("go list reported %d packages under web/; the check would guard nothing", seen)
	}
	if len(got) > 0 {
		t.Errorf("parts of the web layer reaching into one another:\n%s", strings.Join(got, "\n"))
	}
}

// crossings reads go list lines "path|deps" and returns the forbidden
// dependencies, sorted, and how many packages it read.
func crossings(out string) (got []string, seen int, err error) {
	for line := range strings.Lines(out) {
		name, deps, ok := strings.Cut(strings.TrimSpace(line), "|")
		if !ok {
			return nil, 0, fmt.Errorf("go list line %q: want two fields separated by |", line)
		}
		seen++
		from := part(name)
		if from == "web" {
			continue
		}
		for _, dep := range strings.Fields(deps) {
			if dep != module+"/web" && !strings.HasPrefix(dep, module+"/web/") {
				continue
			}
			to := part(dep)
			if to == from || (to == "internal" && from != "internal") {
				continue
			}
			got = append(got, name+" depends on "+dep)
		}
	}
	slices.Sort(got)
	return got, seen, nil
}

// TestCrossings checks the rule itself on a made-up listing, so a check
// that can never fail cannot pass for one that holds.
func TestCrossings(t *testing.T) {
	w := module + "/web"
	out := w + "|" + w + "/internal/httpx " + w + "/p2p\n" +
		w + "/p2p|" + w + "/internal/httpx fmt\n" +
		w + "/peers|" + w + "/p2p " + w + "/peers/openapi\n" +
		w + "/peers/openapi|\n" +
		w + "/ui|" + w + "\n" +
		w + "/internal/httpx|" + w + "/ui\n"
	got, seen, err := crossings(out)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{
		w + "/internal/httpx depends on " + w + "/ui",
		w + "/peers depends on " + w + "/p2p",
		w + "/ui depends on " + w,
	}
	if seen != 6 || !slices.Equal(got, want) {
		t.Errorf("crossings = %q (%d packages), want %q (6)", got, seen, want)
	}
}

func TestPart(t *testing.T) {
	for path, want := range map[string]string{
		module + "/web":                "web",
		module + "/web/internal/httpx": "internal",
		module + "/web/p2p":            "p2p",
		module + "/web/peers/openapi":  "peers",
		"github.com/gofiber/fiber/v2":  "web",
	} {
		if got := part(path); got != want {
			t.Errorf("part(%q) = %q, want %q", path, got, want)
		}
	}
}
