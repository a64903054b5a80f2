package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"
)

// seedSchemas reads the JSON "Schema" blocks of the peers API contract,
// keyed by the section heading they belong to (e.g. "Retrieve a Peer").
func seedSchemas(t *testing.T) map[string]any {
	t.Helper()
	path := os.Getenv("EDGEWARD_SEEDS")
	if path == "" {
		path = filepath.Join("..", "..", "..", "shared", "seeds")
	}
	f, err := os.Open(filepath.Join(path, "peers-api.mdx"))
	if err != nil {
		t.Fatalf("the peers API contract is needed beside the repository: %v", err)
	}
	defer f.Close()
	out := map[string]any{}
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	var heading string
	var block *strings.Builder
	for sc.Scan() {
		line := sc.Text()
		switch {
		case strings.HasPrefix(line, "## "):
			heading = strings.TrimSpace(strings.SplitN(line[3:], "{{", 2)[0])
		case strings.HasPrefix(line, "```json {{ title: 'Schema'"):
			block = &strings.Builder{}
		case block != nil && strings.HasPrefix(line, "```"):
			var v any
			if err := json.Unmarshal([]byte(block.String()), &v); err != nil {
				t.Fatalf("schema of %q: %v", heading, err)
			}
			out[heading] = v
			block = nil
		case block != nil:
			block.WriteString(line + "\n")
		}
	}
	if len(out) < 8 {
		t.Fatalf("found %d schemas in the contract, want at least 8", len(out))
	}
	return out
}

// optional are the contract's fields that are present only in some states:
// a reason only while approval is pending, a key only once a job succeeded.
var optional = map[string]bool{
	"disapproval_reason":         true,
	"workload.result.upload_key": true,
}

var indexRE = regexp.MustCompile(`^\[\d+\]\.`)

// matchSchema reports every field of schema missing from got or of the
// wrong JSON type. Extra fields in got are allowed.
func matchSchema(schema, got any, path string) []string {
	var errs []string
	switch s := schema.(type) {
	case map[string]any:
		g, ok := got.(map[string]any)
		if !ok {
			return []string{fmt.Sprintf("%s: want an object, got %T", path, got)}
		}
		keys := make([]string, 0, len(s))
		for k := range s {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			p := strings.TrimPrefix(path+"."+k, ".")
			v, present := g[k]
			if !present {
				if !optional[indexRE.ReplaceAllString(p, "")] {
					errs = append(errs, p+": missing")
				}
				continue
			}
			errs = append(errs, matchSchema(s[k], v, p)...)
		}
	case []any:
		g, ok := got.([]any)
		if !ok {
			return []string{fmt.Sprintf("%s: want an array, got %T", path, got)}
		}
		for i, v := range g {
			errs = append(errs, matchSchema(s[0], v, fmt.Sprintf("%s[%d]", path, i))...)
		}
	case string:
		want := map[string]string{"string": "string", "boolean": "bool", "integer": "float64", "number": "float64"}[s]
		if fmt.Sprintf("%T", got) != want {
			errs = append(errs, fmt.Sprintf("%s: want %s, got %T", path, s, got))
		}
		if s == "integer" {
			if f, ok := got.(float64); ok && f != float64(int64(f)) {
				errs = append(errs, fmt.Sprintf("%s: want an integer, got %v", path, f))
			}
		}
	}
	return errs
}
