package links

import (
	"context"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/edgeward/edgeward/core/store"
)

// fakeLeaser hands out one lease per link and records which links run.
type fakeLeaser struct {
	mu      sync.Mutex
	running map[string]bool
	started chan string
}

func (f *fakeLeaser) Lease(ctx context.Context, link string, onLease func(Lease)) error {
	f.mu.Lock()
	f.running[link] = true
	f.mu.Unlock()
	onLease(Lease{Addr: netip.MustParsePrefix("192.0.2.50/24"), Router: netip.MustParseAddr("192.0.2.1"),
		DNS: []netip.Addr{netip.MustParseAddr("192.0.2.53")}, Search: []string{"lab.test"}})
	f.started <- link
	<-ctx.Done()
	onLease(Lease{})
	f.mu.Lock()
	delete(f.running, link)
	f.mu.Unlock()
	return nil
}

func TestDHCPNetworksRunClients(t *testing.T) {
	resolv := filepath.Join(t.TempDir(), "resolv.conf")
	fl := &fakeLeaser{running: map[string]bool{}, started: make(chan string, 4)}
	db, err := store.Open(context.Background(), store.Options{Dir: t.TempDir()}, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	svc, err := New(context.Background(), db, lab(), nil, Config{NodeName: "edge-1", ResolvConf: resolv, DHCP: fl})
	if err != nil {
		t.Fatal(err)
	}
	// Adopted at first sight, eth1's DHCP belongs to whatever set it up;
	// the admin's write hands it to edgeward.
	dhcpBy := AssignedDHCP
	if err := svc.SetNetwork(context.Background(), 2, 1, NetworkPatch{AssignedBy: &dhcpBy}, WriteOpts{}); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { _ = svc.Run(ctx); close(done) }()

	want := "eth1" // the lab's link whose address came from DHCP
	select {
	case got := <-fl.started:
		if got != want {
			t.Fatalf("client started on %s, want %s", got, want)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("no DHCP client started for the DHCP network")
	}
	time.Sleep(100 * time.Millisecond)
	fl.mu.Lock()
	if len(fl.running) != 1 {
		t.Errorf("clients run on %v; adopted links (wg0 has no addresses) must get none", fl.running)
	}
	fl.mu.Unlock()
	b, err := os.ReadFile(resolv)
	if err != nil || !strings.Contains(string(b), "nameserver 192.0.2.53") || !strings.Contains(string(b), "search lab.test") {
		t.Fatalf("resolver file after the lease: %q, %v", b, err)
	}
	cancel()
	<-done
	fl.mu.Lock()
	defer fl.mu.Unlock()
	if len(fl.running) != 0 {
		t.Fatalf("clients still running after Run returned: %v", fl.running)
	}
	if b, _ := os.ReadFile(resolv); strings.Contains(string(b), "192.0.2.53") {
		t.Fatalf("released lease's DNS still in the resolver file: %q", b)
	}
}
