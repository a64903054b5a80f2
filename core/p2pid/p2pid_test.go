package p2pid

import (
	"errors"
	"strings"
	"testing"

	"github.com/edgeward/edgeward/core/wgkey"
)

// The two ids are real P2P node ids; their checksums must verify.
func TestParseKnownIDs(t *testing.T) {
	for _, s := range []string{"idrpUzezw7VJ4NU6phQYuxh88RiU1t", "idqrcQybXbKwWk42bn1XjeZ33xgduC"} {
		id, err := Parse(s)
		if err != nil {
			t.Fatalf("Parse(%q): %v", s, err)
		}
		if got := id.String(); got != s {
			t.Fatalf("round trip of %q = %q", s, got)
		}
	}
}

func TestFromKey(t *testing.T) {
	for range 50 {
		_, pub, err := wgkey.Generate()
		if err != nil {
			t.Fatal(err)
		}
		s := FromKey(pub).String()
		if len(s) != 30 || !strings.HasPrefix(s, "id") {
			t.Fatalf("id %q: want 30 characters starting with id", s)
		}
		back, err := Parse(s)
		if err != nil || back != FromKey(pub) {
			t.Fatalf("Parse(%q) = %v, %v", s, back, err)
		}
	}
}

func TestParseRefuses(t *testing.T) {
	tests := []struct{ name, in string }{
		{"empty", ""},
		{"checksum", "idrpUzezw7VJ4NU6phQYuxh88RiU1u"},
		{"not base58", "idrpUzezw7VJ4NU6phQYuxh88RiU10"},
		{"too short", "idrpUzezw7VJ4NU6phQY"},
		{"other prefix", "tz1VSUr8wwNhLAzempoch5d6hLRiTh8Cjcjb"},
		{"garbage", "../../etc/passwd"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := Parse(tt.in); !errors.Is(err, ErrInvalid) {
				t.Fatalf("Parse(%q) err = %v, want ErrInvalid", tt.in, err)
			}
		})
	}
}
