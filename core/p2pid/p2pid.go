// Package p2pid encodes node and peer identities the way P2P clients of
// the /network API expect them: Base58Check of the 16-byte Blake2b hash of
// a Curve25519 (here: WireGuard) public key, with the prefix bytes
// 0x99 0x67 that make every id 30 characters long and start with "id".
package p2pid

import (
	"crypto/sha256"
	"errors"
	"math/big"
	"strings"

	"github.com/edgeward/edgeward/core/wgkey"
	"golang.org/x/crypto/blake2b"
)

// ID is the 16-byte hash of a public key.
type ID [16]byte

var prefix = []byte{0x99, 0x67}

const alphabet = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"

// FromKey hashes a public key into its id.
func FromKey(k wgkey.Key) ID {
	h, _ := blake2b.New(16, nil) // 16 is a valid size, so this cannot fail
	h.Write(k[:])
	var id ID
	copy(id[:], h.Sum(nil))
	return id
}

// String returns the Base58Check form, e.g. "idrpUzezw7VJ4NU6phQYuxh88RiU1t".
func (id ID) String() string {
	payload := append(append([]byte{}, prefix...), id[:]...)
	sum := checksum(payload)
	return encode(append(payload, sum[:]...))
}

func checksum(b []byte) [4]byte {
	first := sha256.Sum256(b)
	second := sha256.Sum256(first[:])
	var out [4]byte
	copy(out[:], second[:4])
	return out
}

// ErrInvalid is returned by Parse for anything that is not a peer id.
var ErrInvalid = errors.New("not a peer id: want 30 Base58Check characters starting with id")

// Parse decodes a Base58Check peer id, checking prefix, length and checksum.
func Parse(s string) (ID, error) {
	var id ID
	b, ok := decode(s)
	if !ok || len(b) != len(prefix)+len(id)+4 || b[0] != prefix[0] || b[1] != prefix[1] {
		return id, ErrInvalid
	}
	body, sum := b[:len(b)-4], b[len(b)-4:]
	if c := checksum(body); string(c[:]) != string(sum) {
		return id, ErrInvalid
	}
	copy(id[:], body[len(prefix):])
	return id, nil
}

func encode(b []byte) string {
	n := new(big.Int).SetBytes(b)
	base, mod := big.NewInt(58), new(big.Int)
	var out []byte
	for n.Sign() > 0 {
		n.DivMod(n, base, mod)
		out = append(out, alphabet[mod.Int64()])
	}
	for _, c := range b {
		if c != 0 {
			break
		}
		out = append(out, alphabet[0])
	}
	for i, j := 0, len(out)-1; i < j; i, j = i+1, j-1 {
		out[i], out[j] = out[j], out[i]
	}
	return string(out)
}

func decode(s string) ([]byte, bool) {
	if s == "" || len(s) > 64 {
		return nil, false
	}
	n := new(big.Int)
	base := big.NewInt(58)
	for _, c := range s {
		i := strings.IndexRune(alphabet, c)
		if i < 0 {
			return nil, false
		}
		n.Mul(n, base).Add(n, big.NewInt(int64(i)))
	}
	b := n.Bytes()
	for _, c := range s {
		if c != rune(alphabet[0]) {
			break
		}
		b = append([]byte{0}, b...)
	}
	return b, true
}
