package wg

import (
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/edgeward/edgeward/core/wgkey"
)

func TestReadUAPI(t *testing.T) {
	k1, k2, psk := wgkey.Key{1}, wgkey.Key{2}, wgkey.Key{3}
	hexOf := func(k wgkey.Key) string {
		const digits = "0123456789abcdef"
		var b strings.Builder
		for _, c := range k {
			b.WriteByte(digits[c>>4])
			b.WriteByte(digits[c&15])
		}
		return b.String()
	}
	text := "private_key=" + hexOf(wgkey.Key{9}) + "\nlisten_port=51820\n" +
		"public_key=" + hexOf(k1) + "\npreshared_key=" + hexOf(wgkey.Key{}) + "\nprotocol_version=1\n" +
		"endpoint=[::ffff:192.0.2.7]:40000\nlast_handshake_time_sec=1700000000\nlast_handshake_time_nsec=5\n" +
		"tx_bytes=10\nrx_bytes=20\npersistent_keepalive_interval=0\nallowed_ip=100.64.0.2/32\nallowed_ip=10.0.0.0/8\n" +
		"public_key=" + hexOf(k2) + "\npreshared_key=" + hexOf(psk) + "\nlast_handshake_time_sec=0\n" +
		"last_handshake_time_nsec=0\ntx_bytes=0\nrx_bytes=0\nallowed_ip=100.64.0.3/32\nerrno=0\n\n"
	got, err := readUAPI([]byte(text))
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 {
		t.Fatalf("%d peers, want 2: %+v", len(got), got)
	}
	a, b := got[0], got[1]
	if a.PublicKey != k1.String() || a.PresharedKey != "" || a.Endpoint != netip.MustParseAddrPort("192.0.2.7:40000") ||
		!a.LastHandshake.Equal(time.Unix(1700000000, 5)) || a.RxBytes != 20 || a.TxBytes != 10 ||
		len(a.AllowedIPs) != 2 || a.AllowedIPs[1] != netip.MustParsePrefix("10.0.0.0/8") {
		t.Errorf("first peer = %+v", a)
	}
	if b.PublicKey != k2.String() || b.PresharedKey != psk.String() || b.Endpoint.IsValid() || !b.LastHandshake.IsZero() ||
		len(b.AllowedIPs) != 1 || b.AllowedIPs[0] != netip.MustParsePrefix("100.64.0.3/32") {
		t.Errorf("second peer = %+v", b)
	}
	if _, err := readUAPI([]byte("errno=5\n")); err == nil {
		t.Error("a failed get read as no peers")
	}
	if _, err := readUAPI([]byte("public_key=abc\n")); err == nil {
		t.Error("a short key accepted")
	}
}
