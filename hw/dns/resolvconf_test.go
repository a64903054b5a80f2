package dns

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func write(t testing.TB, path, text string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestResolvConf(t *testing.T) {
	tests := []struct {
		name string
		text string
		want []string
	}{
		{
			name: "systemd-resolved stub kept",
			text: "# This is /run/systemd/resolve/stub-resolv.conf\nnameserver 127.0.0.53\noptions edns0 trust-ad\nsearch lan\n",
			want: []string{"127.0.0.53:53"},
		},
		{
			name: "order kept, repeats and junk dropped",
			text: "nameserver 192.0.2.1\n; comment\n#nameserver 192.0.2.9\nnameserver\nnameserver not-an-ip\n" +
				"  nameserver   2001:db8::1   # trailing\nnameserver 192.0.2.1\nnameserver fe80::1%eth0\nnameserver ::ffff:192.0.2.7\n",
			want: []string{"192.0.2.1:53", "[2001:db8::1]:53", "[fe80::1%eth0]:53", "192.0.2.7:53"},
		},
		{
			name: "no nameserver",
			text: "search example.com\n",
			want: nil,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "resolv.conf")
			write(t, path, tt.text)
			if diff := cmp.Diff(tt.want, ResolvConf(path)); diff != "" {
				t.Errorf("ResolvConf (-want +got):\n%s", diff)
			}
		})
	}
	t.Run("missing file", func(t *testing.T) {
		if got := ResolvConf(filepath.Join(t.TempDir(), "nope")); got != nil {
			t.Errorf("ResolvConf = %v, want nil", got)
		}
	})
}
