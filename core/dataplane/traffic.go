package dataplane

import (
	"sync"
	"time"
)

// SparkStep is the span of one per-peer traffic sample and SparkSamples
// how many a peer keeps: the last five minutes, for the Peers page's
// sparklines.
const (
	SparkStep    = 10 * time.Second
	SparkSamples = 30
)

// sparks keeps each peer's recent traffic. Memory is bounded by activity,
// not by the number of peers: a peer gets a ring only once its counters
// move and loses it after a whole window without traffic, so it costs
// SparkSamples×4 = 120 bytes of samples (about 200 with the map entry)
// per peer active in the last five minutes: 2 MB for 10,000 busy peers,
// nothing for idle ones.
type sparks struct {
	mu    sync.Mutex
	step  int64 // the step being filled, in SparkSteps since the epoch
	rings map[string]*spark
}

// spark is one peer's ring: bytes moved (both directions) per step.
type spark struct {
	samples [SparkSamples]uint32
	next    int    // where the next closed step goes
	bucket  uint64 // bytes of the step being filled
	idle    int    // closed steps since the last traffic
}

// add records bytes moved by the peer at now, first closing the steps
// that now has left behind for every peer.
func (s *sparks) add(now time.Time, moved map[string]uint64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.rings == nil {
		s.rings = map[string]*spark{}
	}
	// What a poll sees moved before it: a poll on a step's boundary
	// ends that step.
	cur := (now.UnixNano() - 1) / int64(SparkStep)
	if s.step == 0 {
		s.step = cur
	}
	if gap := cur - s.step; gap > 0 {
		for k, r := range s.rings {
			r.close(gap)
			if r.idle >= SparkSamples {
				delete(s.rings, k)
			}
		}
		s.step = cur
	}
	for k, n := range moved {
		if n == 0 {
			continue
		}
		r := s.rings[k]
		if r == nil {
			r = &spark{}
			s.rings[k] = r
		}
		r.bucket += n
	}
}

// close ends the step being filled and gap-1 empty ones after it.
func (r *spark) close(gap int64) {
	for i := range min(gap, SparkSamples) {
		v := uint64(0)
		if i == 0 {
			v = r.bucket
		}
		r.samples[r.next] = uint32(min(v, 1<<32-1))
		r.next = (r.next + 1) % SparkSamples
		if v == 0 {
			r.idle++
		} else {
			r.idle = 0
		}
	}
	if gap > SparkSamples {
		r.idle = SparkSamples
	}
	r.bucket = 0
}

// forget drops the rings of peers no longer on the device.
func (s *sparks) forget(keys []string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, k := range keys {
		delete(s.rings, k)
	}
}

// rates returns the closed steps of each key's ring as bytes per second,
// oldest first.
func (s *sparks) rates(keys []string) map[string][]int {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := map[string][]int{}
	secs := uint64(SparkStep / time.Second)
	for _, k := range keys {
		r := s.rings[k]
		if r == nil {
			continue
		}
		v := make([]int, SparkSamples)
		for i := range v {
			v[i] = int(uint64(r.samples[(r.next+i)%SparkSamples]) / secs)
		}
		out[k] = v
	}
	return out
}

// PeerTraffic returns, for each public key that moved traffic within the
// last SparkSamples steps, its rate (received plus sent, bytes per
// second) over each of those steps of SparkStep, oldest first, the
// newest closed step last. Keys absent from the map had no traffic that
// long (or are not on the device): draw them flat. One call per page,
// whatever its number of rows; it never waits behind the device.
func (p *Plane) PeerTraffic(publicKeys []string) map[string][]int {
	return p.sparks.rates(publicKeys)
}
