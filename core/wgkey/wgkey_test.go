package wgkey

import (
	"strings"
	"testing"
)

func TestParse(t *testing.T) {
	tests := []struct {
		name    string
		in      string
		wantErr string
	}{
		{"valid", "RZBm3yD6L0HyYT0UiXBhKO+t3eZOpcEOcb5FpAhPUlU=", ""},
		{"placeholder from docs", "n0r3pL4c3h0ld3rK3y==", "base64"},
		{"too short", "AAAA", "exactly 32 bytes"},
		{"too long", strings.Repeat("A", 44) + "AAAA", "base64"},
		{"empty", "", "exactly 32 bytes"},
		{"trailing newline", "RZBm3yD6L0HyYT0UiXBhKO+t3eZOpcEOcb5FpAhPUlU=\n", "line breaks"},
		{"url alphabet", "RZBm3yD6L0HyYT0UiXBhKO-t3eZOpcEOcb5FpAhPUlU=", "base64"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			k, err := Parse(tt.in)
			if tt.wantErr == "" {
				if err != nil {
					t.Fatalf("Parse(%q) = %v", tt.in, err)
				}
				if k.String() != tt.in {
					t.Fatalf("round trip = %q, want %q", k.String(), tt.in)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("Parse(%q) error = %v, want it to mention %q", tt.in, err, tt.wantErr)
			}
		})
	}
}

func TestGenerate(t *testing.T) {
	priv, pub, err := Generate()
	if err != nil {
		t.Fatal(err)
	}
	if priv[0]&7 != 0 || priv[31]&128 != 0 || priv[31]&64 == 0 {
		t.Fatalf("private key not clamped: %x", priv)
	}
	again, err := Public(priv)
	if err != nil {
		t.Fatal(err)
	}
	if again != pub {
		t.Fatalf("Public(priv) = %s, want %s", again, pub)
	}
	priv2, _, err := Generate()
	if err != nil {
		t.Fatal(err)
	}
	if priv2 == priv {
		t.Fatal("two generated keys are equal")
	}
}
