// Package slotstest makes what update tests need: a minisign key pair and
// signatures as `minisign -S` writes them. Only tests import it.
package slotstest

import (
	"bytes"
	"crypto/rand"
	"io"
	"os"
	"testing"

	"aead.dev/minisign"
)

// Key returns a fresh key pair.
func Key(t testing.TB) (minisign.PublicKey, minisign.PrivateKey) {
	t.Helper()
	pub, priv, err := minisign.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return pub, priv
}

// Sign returns the prehashed signature of file (the .minisig file).
func Sign(t testing.TB, key minisign.PrivateKey, file []byte) []byte {
	t.Helper()
	r := minisign.NewReader(bytes.NewReader(file))
	if _, err := io.Copy(io.Discard, r); err != nil {
		t.Fatal(err)
	}
	return r.SignWithComments(key, "edgeward update", "signed in a test")
}

// WriteKeyFile writes pub as a minisign .pub file, comment line first.
func WriteKeyFile(t testing.TB, path string, pub minisign.PublicKey) {
	t.Helper()
	text, err := pub.MarshalText()
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, append([]byte("untrusted comment: test key\n"), text...), 0o644); err != nil {
		t.Fatal(err)
	}
}
