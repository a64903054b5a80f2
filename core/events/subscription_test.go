package events

import (
	"runtime"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// drain reads ch until it is closed and returns what it read.
func drain(ch <-chan Event) []Event {
	var out []Event
	for e := range ch {
		out = append(out, e)
	}
	return out
}

func TestSubscriptionReceivesInOrder(t *testing.T) {
	j := New(2, fakeClock())
	j.Publish(Event{Kind: "before.subscribe"})
	s := j.Subscribe(10)
	publishN(j, 5)
	s.Close()

	got := seqs(drain(s.C()))
	if diff := cmp.Diff([]uint64{2, 3, 4, 5, 6}, got); diff != "" {
		t.Errorf("received seqs (-want +got):\n%s", diff)
	}
	if s.Dropped() {
		t.Error("Dropped() = true after plain Close, want false")
	}
}

func TestSlowSubscriberIsCutOff(t *testing.T) {
	const buffer = 4
	j := New(8, fakeClock())
	slow := j.Subscribe(buffer)
	fast := j.Subscribe(1000)

	done := make(chan struct{})
	go func() {
		defer close(done)
		publishN(j, 100*buffer) // nobody reads slow
	}()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("Publish blocked on a slow subscriber")
	}

	if !slow.Dropped() {
		t.Error("slow.Dropped() = false, want true")
	}
	// The buffered events are still readable, then the channel is closed.
	got := seqs(drain(slow.C()))
	if diff := cmp.Diff([]uint64{1, 2, 3, 4}, got); diff != "" {
		t.Errorf("slow subscriber seqs (-want +got):\n%s", diff)
	}
	slow.Close() // idempotent after being cut off

	if fast.Dropped() {
		t.Error("fast.Dropped() = true, want false")
	}
	fast.Close()
	if n := len(drain(fast.C())); n != 100*buffer {
		t.Errorf("fast subscriber got %d events, want %d", n, 100*buffer)
	}
	j.mu.Lock()
	n := len(j.subs)
	j.mu.Unlock()
	if n != 0 {
		t.Errorf("journal still holds %d subscriptions, want 0", n)
	}
}

func TestCloseIsIdempotent(t *testing.T) {
	j := New(2, nil)
	s := j.Subscribe(0)
	s.Close()
	s.Close()
	if _, ok := <-s.C(); ok {
		t.Error("channel open after Close")
	}
	j.Publish(Event{Kind: "after.close"}) // must not panic on the closed channel
}

func TestConcurrentPublishSubscribeClose(t *testing.T) {
	j := New(16, nil)
	published := make(chan struct{})
	var pubs, wg sync.WaitGroup
	for p := 0; p < 4; p++ {
		pubs.Go(func() {
			for i := 0; i < 500; i++ {
				j.Publish(Event{Kind: "peer.connected", Fields: map[string]string{"i": "x"}})
			}
		})
	}
	go func() { pubs.Wait(); close(published) }()
	for c := 0; c < 4; c++ {
		wg.Go(func() {
			for i := 0; i < 100; i++ {
				s := j.Subscribe(c * 4)
				readInOrder(t, s, 3, published)
				var cwg sync.WaitGroup
				cwg.Go(s.Close)
				cwg.Go(s.Close)
				cwg.Wait()
				_ = s.Dropped()
			}
		})
	}
	wg.Go(func() {
		for i := 0; i < 200; i++ {
			j.Recent(5, nil)
			j.Since(uint64(i))
		}
	})
	wg.Wait()
	<-published
	if got := j.Recent(1, nil); len(got) != 1 || got[0].Seq != 2000 {
		t.Errorf("newest event = %+v, want Seq 2000", got)
	}
}

// readInOrder reads up to n events from s, checking that Seq increases,
// and gives up once the channel closes or publishing has ended.
func readInOrder(t *testing.T, s *Subscription, n int, published <-chan struct{}) {
	var last uint64
	for range n {
		select {
		case e, ok := <-s.C():
			if !ok {
				return
			}
			if e.Seq <= last {
				t.Errorf("seq %d after %d", e.Seq, last)
			}
			last = e.Seq
		case <-published:
			return
		}
	}
}

func BenchmarkPublish(b *testing.B) {
	j := New(1024, nil)
	s := j.Subscribe(4096)
	done := make(chan struct{})
	go func() {
		defer close(done)
		for range s.C() {
		}
	}()
	e := Event{Kind: "peer.connected", Subject: "peer-1", Message: "handshake completed"}
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		j.Publish(e)
		// With few CPUs the drainer may not be scheduled during a tight
		// loop; let it catch up so the run measures a live subscriber
		// rather than one that was cut off.
		if i++; i%1024 == 0 {
			for len(s.ch) > cap(s.ch)/2 {
				runtime.Gosched()
			}
		}
	}
	b.StopTimer()
	if s.Dropped() {
		b.Fatal("drainer fell behind and was cut off; the run measured no subscriber")
	}
	s.Close()
	<-done
}

func TestSubscribersCountsLiveSubscriptions(t *testing.T) {
	j := New(4, nil)
	a, b := j.Subscribe(1), j.Subscribe(8)
	if n := j.Subscribers(); n != 2 {
		t.Fatalf("subscribers = %d, want 2", n)
	}
	a.Close()
	a.Close()
	if n := j.Subscribers(); n != 1 {
		t.Fatalf("after a close: subscribers = %d, want 1", n)
	}
	// b has room for 8; a second slow subscriber is cut off by the flood.
	c := j.Subscribe(1)
	j.Publish(Event{Kind: PeerCreated})
	j.Publish(Event{Kind: PeerCreated})
	if n := j.Subscribers(); n != 1 || !c.Dropped() {
		t.Fatalf("after a cut-off: subscribers = %d (want 1), dropped = %v", n, c.Dropped())
	}
	b.Close()
	if n := j.Subscribers(); n != 0 {
		t.Fatalf("subscribers = %d, want 0", n)
	}
}
