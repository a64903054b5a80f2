package golden

import (
	"bytes"
	"cmp"
	"context"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/edgeward/edgeward/core"
)

// A store dump is one record per key, sorted by key:
//
//	-- "peer/id-ann" json
//	{
//		"ID": "id-ann",
//		...
//	}
//	-- "endpoint/id-ann" text
//	"198.51.100.7:51820"
//
// A record's header names the key (quoted) and how the value is shown:
// json (indented), text (a quoted line: printable UTF-8 that is not JSON)
// or hex (anything else). Lines before the first header are comments.
const header = "-- "

// Value encodings of a dump.
const (
	encJSON = "json"
	encText = "text"
	encHex  = "hex"
)

// Dump returns every key and value of kv in the dump format. Each old
// string of repl is replaced by its new one in keys and values before
// sorting: that is how a test makes ids, keys and other values the
// service draws at random stable. Longer old strings are replaced first.
func Dump(ctx context.Context, kv core.KV, repl map[string]string) ([]byte, error) {
	r := replacer(repl)
	type rec struct{ key, val string }
	var recs []rec
	err := kv.View(ctx, func(tx core.Tx) error {
		return tx.Scan(nil, false, func(k, v []byte) error {
			recs = append(recs, rec{r.Replace(string(k)), r.Replace(string(v))})
			return nil
		})
	})
	if err != nil {
		return nil, fmt.Errorf("dump store: %w", err)
	}
	slices.SortFunc(recs, func(a, b rec) int { return cmp.Compare(a.key, b.key) })
	var out bytes.Buffer
	for _, rc := range recs {
		v := []byte(rc.val)
		var ind bytes.Buffer
		switch {
		case json.Valid(v) && json.Indent(&ind, v, "", "\t") == nil:
			fmt.Fprintf(&out, "%s%s %s\n%s\n", header, strconv.Quote(rc.key), encJSON, ind.Bytes())
		case utf8.ValidString(rc.val) && strconv.CanBackquote(rc.val):
			fmt.Fprintf(&out, "%s%s %s\n%s\n", header, strconv.Quote(rc.key), encText, strconv.Quote(rc.val))
		default:
			fmt.Fprintf(&out, "%s%s %s\n%s\n", header, strconv.Quote(rc.key), encHex, hex.EncodeToString(v))
		}
	}
	return out.Bytes(), nil
}

// replacer replaces the longest matches first, so that an id that holds
// another is not cut in two; ties go in string order, for a stable result.
func replacer(repl map[string]string) *strings.Replacer {
	olds := make([]string, 0, len(repl))
	for o := range repl {
		olds = append(olds, o)
	}
	slices.SortFunc(olds, func(a, b string) int {
		return cmp.Or(cmp.Compare(len(b), len(a)), cmp.Compare(a, b))
	})
	pairs := make([]string, 0, 2*len(olds))
	for _, o := range olds {
		pairs = append(pairs, o, repl[o])
	}
	return strings.NewReplacer(pairs...)
}

// Load writes the records of a dump into kv in one transaction, each
// value in its stored encoding (JSON compacted again), for good.
func Load(ctx context.Context, kv core.KV, dump []byte) error {
	recs, err := parse(dump)
	if err != nil {
		return err
	}
	return kv.Update(ctx, func(tx core.Tx) error {
		for _, r := range recs {
			if err := tx.Put([]byte(r[0]), []byte(r[1]), 0); err != nil {
				return err
			}
		}
		return nil
	})
}

// parse reads a dump into key and value pairs.
func parse(dump []byte) ([][2]string, error) {
	var out [][2]string
	var key, enc string
	var body []string
	flush := func() error {
		if enc == "" {
			return nil // the comments before the first record
		}
		v, err := decode(enc, strings.Join(body, "\n"))
		if err != nil {
			return fmt.Errorf("golden record %q: %w", key, err)
		}
		out = append(out, [2]string{key, v})
		return nil
	}
	for line := range strings.Lines(string(dump)) {
		line = strings.TrimSuffix(line, "\n")
		rest, ok := strings.CutPrefix(line, header)
		if !ok {
			body = append(body, line)
			continue
		}
		if err := flush(); err != nil {
			return nil, err
		}
		q, err := strconv.QuotedPrefix(rest)
		if err != nil {
			return nil, fmt.Errorf("golden header %q: %w", line, err)
		}
		key, _ = strconv.Unquote(q)
		enc, body = strings.TrimSpace(rest[len(q):]), nil
	}
	if err := flush(); err != nil {
		return nil, err
	}
	return out, nil
}

func decode(enc, body string) (string, error) {
	switch enc {
	case encJSON:
		var b bytes.Buffer
		if err := json.Compact(&b, []byte(body)); err != nil {
			return "", err
		}
		return b.String(), nil
	case encText:
		return strconv.Unquote(strings.TrimSpace(body))
	case encHex:
		b, err := hex.DecodeString(strings.TrimSpace(body))
		return string(b), err
	}
	return "", fmt.Errorf("unknown encoding %q", enc)
}
