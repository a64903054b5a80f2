package acl

import (
	"context"
	"fmt"
	"net/netip"
	"sync"
	"testing"
	"time"

	"github.com/edgeward/edgeward/core/events"
	"github.com/edgeward/edgeward/core/store"
)

// stuck bounds a wait that only a deadlock would exceed.
const stuck = time.Minute

// run runs f's ACL loop until the test ends.
func (f *fixture) run(t *testing.T) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Go(func() { f.svc.Run(ctx) })
	t.Cleanup(func() { cancel(); wg.Wait() })
}

// waitEvent waits for an event of kind about subject.
func waitEvent(t *testing.T, sub *events.Subscription, kind events.Kind, subject string) {
	t.Helper()
	timeout := time.After(stuck)
	for {
		select {
		case e := <-sub.C():
			if e.Kind == kind && e.Subject == subject {
				return
			}
		case <-timeout:
			t.Fatalf("no %s event for %s", kind, subject)
		}
	}
}

func TestAuthFailuresGreylist(t *testing.T) {
	f := newFixture(t)
	sub := f.journal.Subscribe(64)
	defer sub.Close()
	f.run(t)
	// b's five failures come first, spread over two minutes: the first
	// is out of the window when the fifth comes.
	b := addr("192.0.2.67")
	for range 5 {
		f.svc.AuthFailed(b)
		f.clock.Add(30 * time.Second)
	}
	a := addr("192.0.2.66")
	for range 5 {
		f.svc.AuthFailed(a)
	}
	waitEvent(t, sub, "greylisted", a.String())
	if !f.svc.Banned(a) {
		t.Fatal("five failures within a minute did not greylist")
	}
	// Run greylists in queue order: had b been queued, it would be done.
	if f.svc.Banned(b) {
		t.Fatal("failures spread over two minutes greylisted")
	}
}

// gatedFirewall holds a large Apply (a bulk ban's) until released.
type gatedFirewall struct {
	*fakeFirewall
	entered chan struct{} // closed when the large Apply starts
	release chan struct{}
}

func (g *gatedFirewall) Apply(ctx context.Context, d Delta) error {
	if len(d.Fresh)+len(d.Add) >= 1000 {
		close(g.entered)
		<-g.release
	}
	return g.fakeFirewall.Apply(ctx, d)
}

func TestAuthFailedDoesNotWaitForBulkBan(t *testing.T) {
	ctx := context.Background()
	db, err := store.Open(ctx, store.Options{Dir: t.TempDir()}, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	fw := &gatedFirewall{fakeFirewall: newFake(), entered: make(chan struct{}), release: make(chan struct{})}
	f := &fixture{db: db, clock: &clock{t: time.Now().Truncate(time.Second)}}
	f.journal = events.New(256, f.clock.Now)
	f.svc, err = New(ctx, db, fw, f.journal, Config{Now: f.clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	sub := f.journal.Subscribe(64)
	defer sub.Close()
	f.run(t)
	bans := make([]string, 100_000)
	for i := range bans {
		bans[i] = fmt.Sprintf("10.%d.%d.%d", i>>16, i>>8&0xff, i&0xff)
	}
	bulkDone := make(chan error, 1)
	go func() {
		_, err := f.svc.Bulk(ctx, Ban, bans, 0, "tok", Guard{})
		bulkDone <- err
	}()
	<-fw.entered // the bulk ban holds the ACL's writer lock and the kernel
	a := addr("198.51.100.9")
	authDone := make(chan struct{})
	go func() {
		defer close(authDone)
		for range 5 {
			f.svc.AuthFailed(a)
		}
	}()
	select {
	case <-authDone:
	case <-time.After(stuck):
		t.Fatal("AuthFailed waits for the bulk ban")
	}
	if f.svc.Banned(a) {
		t.Fatal("greylisted while the bulk ban holds the writer lock")
	}
	close(fw.release)
	if err := <-bulkDone; err != nil {
		t.Fatalf("Bulk: %v", err)
	}
	waitEvent(t, sub, "greylisted", a.String())
	if !f.svc.Banned(a) || !fw.has(Element{Kind: KindGrey, Addr: a}) {
		t.Fatal("the source was not greylisted after the bulk ban")
	}
}

func (s *Service) authSources() int {
	s.auth.mu.Lock()
	defer s.auth.mu.Unlock()
	return len(s.auth.by)
}

func TestAuthFailuresSwept(t *testing.T) {
	f := newFixture(t)
	for i := range 100 {
		f.svc.AuthFailed(netip.AddrFrom4([4]byte{192, 0, 2, byte(i)}))
	}
	f.clock.Add(30 * time.Second)
	recent := addr("198.51.100.1")
	f.svc.AuthFailed(recent)
	f.clock.Add(31 * time.Second) // the first 100 are past the minute
	f.svc.auth.sweep(f.clock.Now(), f.svc.cfg.AuthWindow)
	if got := f.svc.authSources(); got != 1 {
		t.Fatalf("%d sources counted after the sweep, want 1", got)
	}
	f.clock.Add(30 * time.Second)
	f.svc.auth.sweep(f.clock.Now(), f.svc.cfg.AuthWindow)
	if got := f.svc.authSources(); got != 0 {
		t.Fatalf("%d sources counted after the last one's window, want 0", got)
	}
}

func TestAuthFailuresBounded(t *testing.T) {
	f := newFixture(t)
	first := netip.MustParseAddr("2001:db8::")
	a := first
	for range 10_000 {
		f.svc.AuthFailed(a)
		a = a.Next()
	}
	if got := f.svc.authSources(); got != maxAuthSources {
		t.Fatalf("%d sources counted, want the cap %d", got, maxAuthSources)
	}
	f.svc.auth.mu.Lock()
	_, firstKept := f.svc.auth.by[first]
	_, lastKept := f.svc.auth.by[a.Prev()]
	f.svc.auth.mu.Unlock()
	if firstKept || !lastKept {
		t.Fatalf("first source kept %v, last kept %v: the oldest must go first", firstKept, lastKept)
	}
	// Without Run nobody greylists: the queue fills and stays bounded,
	// and the sources beyond it stay counted.
	b := netip.MustParseAddr("198.18.0.0")
	for range authQueueSize + 10 {
		for range f.svc.cfg.AuthLimit {
			f.svc.AuthFailed(b)
		}
		b = b.Next()
	}
	if n := len(f.svc.auth.queue); n != authQueueSize {
		t.Fatalf("%d sources queued, want the queue's size %d", n, authQueueSize)
	}
	f.svc.auth.mu.Lock()
	_, counted := f.svc.auth.by[b.Prev()]
	f.svc.auth.mu.Unlock()
	if !counted {
		t.Fatal("a source over the limit that found the queue full is no longer counted")
	}
}
