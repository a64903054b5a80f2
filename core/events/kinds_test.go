package events_test

import (
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

// literalKind is an event kind written as a string where an events.Kind
// is wanted: an untyped constant converts silently, so the compiler does
// not catch it.
var literalKind = regexp.MustCompile(`(publish|Publish)\(\s*"|Event\{[^}]*Kind:\s*"`)

// TestKindsAreConstants keeps every published kind in kinds.go: readers
// (the /network dialect's mapping, the pages' badges) match constants, and
// a kind written as a literal elsewhere would escape them.
func TestKindsAreConstants(t *testing.T) {
	root := filepath.Join("..", "..")
	var found []string
	for _, dir := range []string{"core", "hw", "web", "cmd"} {
		err := filepath.WalkDir(filepath.Join(root, dir), func(path string, d fs.DirEntry, err error) error {
			if err != nil || d.IsDir() || !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
				return err
			}
			src, err := os.ReadFile(path)
			if err != nil {
				return err
			}
			for i, line := range strings.Split(string(src), "\n") {
				if literalKind.MatchString(line) {
					found = append(found, path+":"+strconv.Itoa(i+1)+": "+strings.TrimSpace(line))
				}
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	if len(found) > 0 {
		t.Errorf("event kinds written as string literals; add them to kinds.go:\n%s", strings.Join(found, "\n"))
	}
}
