package core_test

import (
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// packageDirs returns, relative to root, every directory holding non-test
// Go files, skipping testdata, hidden directories and those the go tool
// ignores (leading "_").
func packageDirs(t *testing.T, root string) []string {
	t.Helper()
	seen := map[string]bool{}
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		name := d.Name()
		if d.IsDir() {
			if path != root && (name == "testdata" || strings.HasPrefix(name, ".") || strings.HasPrefix(name, "_")) {
				return filepath.SkipDir
			}
			return nil
		}
		if strings.HasSuffix(name, ".go") && !strings.HasSuffix(name, "_test.go") {
			rel, err := filepath.Rel(root, filepath.Dir(path))
			if err != nil {
				return err
			}
			seen[filepath.ToSlash(rel)] = true
		}
		return nil
	})
	if err != nil {
		t.Fatalf("walk %s: %v", root, err)
	}
	dirs := make([]string, 0, len(seen))
	for d := range seen {
		dirs = append(dirs, d)
	}
	slices.Sort(dirs)
	return dirs
}

// undocumented returns the packages in dir (by name; a directory can hold
// more than one, such as a build-ignored generator) that no non-test file
// documents.
func undocumented(t *testing.T, dir string) []string {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatalf("read %s: %v", dir, err)
	}
	documented := map[string]bool{}
	fset := token.NewFileSet()
	for _, e := range entries {
		name := e.Name()
		if e.IsDir() || !strings.HasSuffix(name, ".go") || strings.HasSuffix(name, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, filepath.Join(dir, name), nil, parser.ParseComments|parser.PackageClauseOnly)
		if err != nil {
			t.Fatalf("parse: %v", err)
		}
		pkg := f.Name.Name
		documented[pkg] = documented[pkg] || f.Doc != nil
	}
	var out []string
	for pkg, ok := range documented {
		if !ok {
			out = append(out, pkg)
		}
	}
	slices.Sort(out)
	return out
}

// TestPackageDocs requires a package doc comment ("// Package x ...") in
// at least one non-test file of every package in the repository.
func TestPackageDocs(t *testing.T) {
	root := ".."
	if _, err := os.Stat(filepath.Join(root, "go.mod")); err != nil {
		t.Fatalf("repository root %s has no go.mod: %v", root, err)
	}
	dirs := packageDirs(t, root)
	// Guard against a walk that silently finds nothing.
	for _, d := range []string{"core", "core/auth", "cmd/edgeward"} {
		if !slices.Contains(dirs, d) {
			t.Fatalf("walk did not find package directory %s; found %q", d, dirs)
		}
	}
	var missing []string
	for _, d := range dirs {
		for _, pkg := range undocumented(t, filepath.Join(root, filepath.FromSlash(d))) {
			missing = append(missing, d+" (package "+pkg+")")
		}
	}
	if diff := cmp.Diff([]string(nil), missing); diff != "" {
		t.Errorf("packages without a doc comment (-want +got):\n%s", diff)
	}
}
