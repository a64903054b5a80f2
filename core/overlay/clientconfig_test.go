package overlay

import (
	"context"
	"net/netip"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestClientConfig(t *testing.T) {
	f := newFixture(t) // overlay 100.64.0.0/24
	ctx := context.Background()
	lan, err := f.svc.SaveGroup(ctx, "", GroupSpec{Name: "lan", Resources: []netip.Prefix{netip.MustParsePrefix("192.168.1.0/24")}})
	if err != nil {
		t.Fatal(err)
	}
	devs := f.group(t, "devs")
	made, err := f.svc.CreatePeer(ctx, NewPeer{Name: "laptop", Groups: []string{devs}})
	if err != nil {
		t.Fatal(err)
	}
	r, err := ParseRule("all")
	if err != nil {
		t.Fatal(err)
	}
	r.Sources, r.Destinations = []string{devs}, []string{lan.ID}
	if _, err := f.svc.SavePolicy(ctx, "", Policy{Name: "lan", Enabled: true, Rules: []Rule{r}}); err != nil {
		t.Fatal(err)
	}
	if made.PrivateKey == "" || made.PresharedKey == "" {
		t.Fatalf("a generated pair comes with a private and a preshared key: %+v", made)
	}
	own, err := f.svc.CreatePeer(ctx, NewPeer{Name: "phone", PublicKey: key(t)})
	if err != nil {
		t.Fatal(err)
	}
	iface := "[Interface]\nPrivateKey = " + made.PrivateKey + "\nAddress = " + made.IP.String() + "/32\n"
	peer := "\n[Peer]\nPublicKey = gwkey=\nPresharedKey = " + made.PresharedKey +
		"\nAllowedIPs = 100.64.0.0/24, 192.168.1.0/24\n"
	tests := []struct {
		name string
		p    Created
		gw   Gateway
		want string
	}{
		{"own key: nothing to hand over", own, Gateway{PublicKey: "gwkey=", Endpoint: "vpn.example:51820"}, ""},
		{"no data plane: interface only", made, Gateway{}, iface},
		{"dns", made, Gateway{DNS: netip.MustParseAddr("100.64.0.1")}, iface + "DNS = 100.64.0.1\n"},
		{"gateway with endpoint", made, Gateway{PublicKey: "gwkey=", Endpoint: "vpn.example:51820"},
			iface + peer + "Endpoint = vpn.example:51820\nPersistentKeepalive = 25\n"},
		{"gateway without endpoint", made, Gateway{PublicKey: "gwkey="},
			iface + peer + "# Endpoint = HOST:PORT of this gateway (start edgeward with --endpoint to fill it in)\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if diff := cmp.Diff(tt.want, f.svc.ClientConfig(tt.p, tt.gw)); diff != "" {
				t.Errorf("config (-want +got):\n%s", diff)
			}
		})
	}
}
