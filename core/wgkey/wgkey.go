// Package wgkey parses and generates WireGuard Curve25519 keys.
package wgkey

import (
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"strings"

	"golang.org/x/crypto/curve25519"
)

// Len is the length of a WireGuard key in bytes.
const Len = 32

// Key is a WireGuard public or private key.
type Key [Len]byte

// Parse decodes the standard base64 form WireGuard tools print. It accepts
// only exactly 32 bytes, so a truncated or padded copy-paste is refused.
func Parse(s string) (Key, error) {
	var k Key
	// The decoder skips line breaks even in strict mode; a key is one token.
	if strings.ContainsAny(s, "\r\n") {
		return k, fmt.Errorf("must not contain line breaks")
	}
	b, err := base64.StdEncoding.Strict().DecodeString(s)
	if err != nil {
		return k, fmt.Errorf("not valid base64")
	}
	if len(b) != Len {
		return k, fmt.Errorf("must be base64 of exactly %d bytes, got %d", Len, len(b))
	}
	copy(k[:], b)
	return k, nil
}

// String returns the base64 form.
func (k Key) String() string { return base64.StdEncoding.EncodeToString(k[:]) }

// Generate returns a new private key, clamped as WireGuard expects, and its
// public key.
func Generate() (priv, pub Key, err error) {
	if _, err := rand.Read(priv[:]); err != nil {
		return priv, pub, fmt.Errorf("read random key: %w", err)
	}
	priv[0] &= 248
	priv[31] = (priv[31] & 127) | 64
	p, err := curve25519.X25519(priv[:], curve25519.Basepoint)
	if err != nil {
		return priv, pub, fmt.Errorf("derive public key: %w", err)
	}
	copy(pub[:], p)
	return priv, pub, nil
}

// GeneratePSK returns a new preshared key: 32 random bytes, as wg genpsk
// makes them.
func GeneratePSK() (Key, error) {
	var k Key
	if _, err := rand.Read(k[:]); err != nil {
		return k, fmt.Errorf("read random key: %w", err)
	}
	return k, nil
}

// Public derives the public key of a private key.
func Public(priv Key) (Key, error) {
	var pub Key
	p, err := curve25519.X25519(priv[:], curve25519.Basepoint)
	if err != nil {
		return pub, fmt.Errorf("derive public key: %w", err)
	}
	copy(pub[:], p)
	return pub, nil
}
