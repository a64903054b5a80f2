package core_test

import (
	"bytes"
	"maps"
	"os"
	"os/exec"
	"runtime"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

const module = "github.com/edgeward/edgeward"

// corePackage is one package under core as go list reports it.
type corePackage struct {
	imports []string // direct, non-test imports
	deps    []string // every non-test dependency, direct or not
}

// listCore runs go list over core/... for goos (go test puts its own go
// first in PATH). Test files are left out: a test may use what the code
// may not.
func listCore(t *testing.T, goos string) map[string]corePackage {
	t.Helper()
	cmd := exec.Command("go", "list", "-f",
		`{{.ImportPath}}|{{join .Imports " "}}|{{join .Deps " "}}`, module+"/core/...")
	cmd.Env = append(os.Environ(), "GOOS="+goos)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("GOOS=%s go list: %v\n%s", goos, err, stderr.Bytes())
	}
	pkgs := map[string]corePackage{}
	for line := range strings.Lines(string(out)) {
		fields := strings.Split(strings.TrimSpace(line), "|")
		if len(fields) != 3 {
			t.Fatalf("go list line %q: want 3 fields separated by |", line)
		}
		pkgs[fields[0]] = corePackage{imports: strings.Fields(fields[1]), deps: strings.Fields(fields[2])}
	}
	return pkgs
}

// under reports whether path is root or a package below it.
func under(path, root string) bool {
	return path == root || strings.HasPrefix(path, root+"/")
}

// targets are the systems whose file sets are checked: the appliance's
// and the developer's (a *_linux.go file is invisible to go list on macOS).
func targets() []string {
	return slices.Compact(slices.Sorted(slices.Values([]string{"linux", runtime.GOOS})))
}

func TestCoreDependencies(t *testing.T) {
	byOS := map[string]map[string]corePackage{}
	for _, goos := range targets() {
		pkgs := listCore(t, goos)
		// Guard against a go list that silently lists nothing.
		for _, p := range []string{module + "/core", module + "/core/store", module + "/core/auth"} {
			if _, ok := pkgs[p]; !ok {
				t.Fatalf("GOOS=%s go list did not report %s; got %d packages", goos, p, len(pkgs))
			}
		}
		byOS[goos] = pkgs
	}

	tests := []struct {
		name string
		root string
		// transitive also forbids reaching root through another package.
		// net/http and x/sys/unix cannot be: Badger itself needs them.
		transitive bool
	}{
		{"fiber", "github.com/gofiber", true},
		{"templ", "github.com/a-h/templ", true},
		{"google nftables", "github.com/google/nftables", true},
		{"mdlayher", "github.com/mdlayher", true},
		{"rtnetlink", "github.com/jsimonetti/rtnetlink", true},
		{"vishvananda netlink and netns", "github.com/vishvananda", true},
		{"x/sys/unix", "golang.org/x/sys/unix", false},
		{"net/http", "net/http", false},
		{"web layer", module + "/web", true},
		{"hw layer", module + "/hw", true},
		{"views layer", module + "/views", true},
		{"binaries", module + "/cmd", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got []string
			for _, goos := range targets() {
				pkgs := byOS[goos]
				for _, name := range slices.Sorted(maps.Keys(pkgs)) {
					p := pkgs[name]
					list, how := p.imports, " imports "
					if tt.transitive {
						list, how = p.deps, " depends on "
					}
					for _, imp := range list {
						if under(imp, tt.root) {
							got = append(got, goos+": "+name+how+imp)
						}
					}
				}
			}
			if diff := cmp.Diff([]string(nil), got); diff != "" {
				t.Errorf("core packages reaching %s (-want +got):\n%s", tt.root, diff)
			}
		})
	}
}

func TestBadgerOnlyInStore(t *testing.T) {
	for _, goos := range targets() {
		t.Run(goos, func(t *testing.T) {
			pkgs := listCore(t, goos)
			var got []string
			for _, name := range slices.Sorted(maps.Keys(pkgs)) {
				if slices.ContainsFunc(pkgs[name].imports, func(imp string) bool {
					return under(imp, "github.com/dgraph-io/badger")
				}) {
					got = append(got, name)
				}
			}
			// store must really use Badger, or this test would guard nothing.
			want := []string{module + "/core/store"}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("core packages importing Badger (-want +got):\n%s", diff)
			}
		})
	}
}
