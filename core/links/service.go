package links

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"time"

	"github.com/edgeward/edgeward/core"
	"github.com/edgeward/edgeward/core/events"
)

// ErrStale is returned by a write whose IfMatch is not the current ETag.
// Its message is public-safe.
var ErrStale = errors.New("the config changed since it was read (stale If-Match)")

// ErrReadOnly is returned by every write of a read-only service. Its
// message is public-safe and says how to turn link management on.
var ErrReadOnly = &core.Error{Kind: core.ErrPermission,
	Msg: "link management is off, so the interfaces are read-only: restart edgeward with --manage-links to change them"}

// Config is the service's fixed configuration. Zero values take the
// defaults in brackets.
type Config struct {
	NodeID   int    // this appliance's node id [1]
	NodeName string // reported with every status
	// ResolvConf is the resolver file the networks' DNS settings are
	// written to; "" leaves DNS alone.
	ResolvConf string
	// CheckEvery is how often Run re-reads the links and re-applies
	// configs the kernel has not taken yet [5s].
	CheckEvery time.Duration
	// DHCP runs the DHCP clients of networks assigned by DHCP; nil leaves
	// DHCP to something else on the router.
	DHCP Leaser
	// ReadOnly serves the configs and the kernel's state but changes
	// nothing: writes and Confirm fail with ErrReadOnly, Run only adopts
	// new links, and no stored config is ever applied.
	ReadOnly bool
	Now      func() time.Time
	Log      *slog.Logger
}

// Store keys.
const (
	ifPrefix      = "links/if/"      // + id: record
	pendingPrefix = "links/pending/" // + id: pending
	nextKey       = "links/next"     // the next interface id; ids are never reused
)

// record is what the store holds per interface.
type record struct {
	Key      string // "mac:<mac>" or "name:<name>": what identifies the link across reboots
	Iface    Interface
	Networks []Network
	NextNet  int    // the next network id; network ids are never reused
	Gen      uint64 // bumped by every accepted write
}

// pending is an unconfirmed change: Prev comes back at Deadline.
type pending struct {
	Prev     record
	Deadline time.Time
}

// Service owns the router's interfaces. It is safe for concurrent use:
// writes are serialised, and each one reaches the store before memory and
// the kernel.
type Service struct {
	kv      core.KV
	kernel  Kernel
	journal *events.Journal
	cfg     Config

	wmu  sync.Mutex // serialises writes, applies and rollbacks
	mu   sync.RWMutex
	recs map[int]*record
	keys map[string]int
	pend map[int]*pending
	// applied is the generation the kernel last took, per interface; 0
	// after a start or after the link vanished, until the next apply.
	applied map[int]uint64
	next    int

	dhcp dhcpRuns
	// vlanFailed remembers VLAN links the kernel refused, so that the
	// retry every check is logged once.
	vlanFailed sync.Map
}

// New loads the interfaces from kv and adopts the kernel's links it has
// not seen before. A kernel that cannot be read is logged, not fatal: the
// stored interfaces then report UNAVAILABLE until Run reads it.
func New(ctx context.Context, kv core.KV, kernel Kernel, journal *events.Journal, cfg Config) (*Service, error) {
	if cfg.NodeID == 0 {
		cfg.NodeID = 1
	}
	if cfg.CheckEvery == 0 {
		cfg.CheckEvery = 5 * time.Second
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.DiscardHandler)
	}
	s := &Service{kv: kv, kernel: kernel, journal: journal, cfg: cfg, recs: map[int]*record{},
		keys: map[string]int{}, pend: map[int]*pending{}, applied: map[int]uint64{}, next: 1}
	if err := s.load(ctx); err != nil {
		return nil, err
	}
	if _, err := s.discover(ctx); err != nil && !errors.Is(err, errKernel) {
		return nil, err
	}
	return s, nil
}

func (s *Service) load(ctx context.Context) error {
	err := s.kv.View(ctx, func(tx core.Tx) error {
		if b, err := tx.Get([]byte(nextKey)); err == nil {
			if err := json.Unmarshal(b, &s.next); err != nil {
				return fmt.Errorf("decode %s: %w", nextKey, err)
			}
		} else if !errors.Is(err, core.ErrNotFound) {
			return err
		}
		if err := tx.Scan([]byte(ifPrefix), false, func(k, v []byte) error {
			r := new(record)
			if err := json.Unmarshal(v, r); err != nil {
				return fmt.Errorf("decode %s: %w", k, err)
			}
			s.recs[r.Iface.ID], s.keys[r.Key] = r, r.Iface.ID
			return nil
		}); err != nil {
			return err
		}
		return tx.Scan([]byte(pendingPrefix), false, func(k, v []byte) error {
			p := new(pending)
			if err := json.Unmarshal(v, p); err != nil {
				return fmt.Errorf("decode %s: %w", k, err)
			}
			s.pend[p.Prev.Iface.ID] = p
			return nil
		})
	})
	if err != nil {
		return fmt.Errorf("load links: %w", err)
	}
	return nil
}

// commit stores r (and p, or deletes the pending change when p is nil and
// dropPending is set) durably, then in memory. Callers hold wmu.
func (s *Service) commit(ctx context.Context, r *record, p *pending, dropPending bool) error {
	id := r.Iface.ID
	err := s.kv.Update(ctx, func(tx core.Tx) error {
		if err := core.PutJSON(tx, ifKey(id), r); err != nil {
			return err
		}
		if p != nil {
			return core.PutJSON(tx, pendingKey(id), p)
		}
		if dropPending {
			if err := tx.Delete([]byte(pendingKey(id))); err != nil && !errors.Is(err, core.ErrNotFound) {
				return fmt.Errorf("delete %s: %w", pendingKey(id), err)
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("store interface %d: %w", id, err)
	}
	s.mu.Lock()
	s.recs[id], s.keys[r.Key] = r, id
	if p != nil {
		s.pend[id] = p
	} else if dropPending {
		delete(s.pend, id)
	}
	s.mu.Unlock()
	return nil
}

func ifKey(id int) string      { return fmt.Sprintf("%s%06d", ifPrefix, id) }
func pendingKey(id int) string { return fmt.Sprintf("%s%06d", pendingPrefix, id) }

// get returns a deep copy of the record, or ErrNotFound.
func (s *Service) get(id int) (*record, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	r, ok := s.recs[id]
	if !ok {
		return nil, core.NotFound("interface %d not found", id)
	}
	return r.clone(), nil
}

func (r *record) clone() *record {
	c := *r
	c.Networks = make([]Network, len(r.Networks))
	for i, n := range r.Networks {
		n.IPRanges = slices.Clone(n.IPRanges)
		n.FloatingIPRanges = slices.Clone(n.FloatingIPRanges)
		n.DNSServers = slices.Clone(n.DNSServers)
		n.DNSSearchDomains = slices.Clone(n.DNSSearchDomains)
		c.Networks[i] = n
	}
	return &c
}

// etag hashes what the API shows of the record plus its generation.
func (r *record) etag() string {
	b, _ := json.Marshal(struct {
		I   Interface
		N   []Network
		Gen uint64
	}{r.Iface, r.Networks, r.Gen})
	sum := sha256.Sum256(b)
	return `"` + hex.EncodeToString(sum[:16]) + `"`
}

// ETag returns the interface's entity tag, which changes with every
// accepted write to it or its networks. Errors: ErrNotFound.
func (s *Service) ETag(id int) (string, error) {
	r, err := s.get(id)
	if err != nil {
		return "", err
	}
	return r.etag(), nil
}

func (s *Service) ids() []int {
	s.mu.RLock()
	defer s.mu.RUnlock()
	out := make([]int, 0, len(s.recs))
	for id := range s.recs {
		out = append(out, id)
	}
	slices.Sort(out)
	return out
}

func (s *Service) publish(kind events.Kind, id int, msg string, fields map[string]string) {
	if s.journal == nil {
		return
	}
	s.journal.Publish(events.Event{Kind: kind, Subject: fmt.Sprint(id), Message: msg, Fields: fields})
}

// ReadOnly reports whether the service refuses every write (Config.ReadOnly).
func (s *Service) ReadOnly() bool { return s.cfg.ReadOnly }
