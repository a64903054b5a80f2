package overlay

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/netip"
	"sync"
	"time"

	"github.com/edgeward/edgeward/core"
	"github.com/edgeward/edgeward/core/events"
	"github.com/rs/xid"
)

// Store key prefixes. Records are JSON of the domain structs.
const (
	peerPrefix = "peer/"
	// endpointPrefix holds each peer's last WireGuard endpoint as text. It
	// is written only when the endpoint changes (roaming is rare), so a
	// restarted gateway can reach its peers first.
	endpointPrefix = "endpoint/"
	// keyPrefix holds generated private keys the admin chose to keep
	// (NewPeer.KeepKey), apart from the peer records, so that nothing
	// that shows or exports a peer can carry one by mistake.
	keyPrefix = "peerkey/"
	// pskPrefix holds the preshared keys the gateway made for the peers
	// whose key pair it made, apart from the records for the same reason.
	pskPrefix    = "peerpsk/"
	groupPrefix  = "group/"
	policyPrefix = "policy/"
)

// Config is the overlay's fixed configuration.
type Config struct {
	// Network is the overlay's IPv4 prefix; its first host address is the
	// gateway's own and is never given to a peer.
	Network netip.Prefix
	// DNSDomain is appended to each peer's DNS label.
	DNSDomain string
	// TempAccessTimeout is how long a temporary-access peer may take to
	// connect before it and its policy are deleted.
	TempAccessTimeout time.Duration
	Now               func() time.Time
	Log               *slog.Logger
}

// Service is the overlay's registry. It is safe for concurrent use: writers
// are serialised and readers see a consistent snapshot.
type Service struct {
	kv      core.KV
	cfg     Config
	journal *events.Journal
	started time.Time

	wmu    sync.Mutex // serialises writers; held across validation, store and memory
	nextIP netip.Addr // allocation hint, guarded by wmu
	mu     sync.RWMutex
	st     *state

	hooksMu  sync.Mutex
	onDelete []func(ctx context.Context, peerID string)
	onChange []func()
}

// New loads the overlay from kv, creating the All group on first start.
func New(ctx context.Context, kv core.KV, journal *events.Journal, cfg Config) (*Service, error) {
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.DiscardHandler)
	}
	if !cfg.Network.Addr().Is4() || cfg.Network.Bits() > 30 {
		return nil, fmt.Errorf("overlay network %s: %w", cfg.Network, core.Invalid("overlay", "must be an IPv4 prefix of /30 or larger"))
	}
	cfg.Network = cfg.Network.Masked()
	s := &Service{kv: kv, cfg: cfg, journal: journal, started: cfg.Now()}
	st, err := s.load(ctx)
	if err != nil {
		return nil, err
	}
	s.st = st
	if st.allGroup() == nil {
		all := &Group{ID: xid.New().String(), Name: "All", Issued: "api", All: true}
		if err := s.kv.Update(ctx, func(tx core.Tx) error { return core.PutJSON(tx, groupPrefix+all.ID, all) }); err != nil {
			return nil, fmt.Errorf("create group All: %w", err)
		}
		st.groups[all.ID] = all
		st.reindex()
	}
	return s, nil
}

// OnDelete registers fn to run after a peer is deleted, so that services
// holding per-peer data (jobs, bundles) can drop it.
func (s *Service) OnDelete(fn func(ctx context.Context, peerID string)) {
	s.hooksMu.Lock()
	defer s.hooksMu.Unlock()
	s.onDelete = append(s.onDelete, fn)
}

// OnChange registers fn to run after every change of peers, groups or
// policies is stored. fn runs with the writer's lock held, so it must only
// signal (the data plane re-reads Enforcement on its own goroutine).
func (s *Service) OnChange(fn func()) {
	s.hooksMu.Lock()
	defer s.hooksMu.Unlock()
	s.onChange = append(s.onChange, fn)
}

// Gateway returns the overlay address this gateway keeps for itself.
func (s *Service) Gateway() netip.Addr { return s.cfg.Network.Addr().Next() }

// DNSDomain returns the domain peers' labels live under.
func (s *Service) DNSDomain() string { return s.cfg.DNSDomain }

func (s *Service) load(ctx context.Context) (*state, error) {
	st := newState()
	err := s.kv.View(ctx, func(tx core.Tx) error {
		if err := tx.Scan([]byte(peerPrefix), false, func(_, v []byte) error {
			p := new(Peer)
			if err := json.Unmarshal(v, p); err != nil {
				return fmt.Errorf("decode peer: %w", err)
			}
			st.peers[p.ID] = p
			return nil
		}); err != nil {
			return err
		}
		if err := tx.Scan([]byte(groupPrefix), false, func(_, v []byte) error {
			g := new(Group)
			if err := json.Unmarshal(v, g); err != nil {
				return fmt.Errorf("decode group: %w", err)
			}
			st.groups[g.ID] = g
			return nil
		}); err != nil {
			return err
		}
		if err := tx.Scan([]byte(pskPrefix), false, func(k, v []byte) error {
			var psk string
			if err := json.Unmarshal(v, &psk); err != nil {
				return fmt.Errorf("decode preshared key: %w", err)
			}
			st.psk[string(k[len(pskPrefix):])] = psk
			return nil
		}); err != nil {
			return err
		}
		if err := tx.Scan([]byte(endpointPrefix), false, func(k, v []byte) error {
			if ep, err := netip.ParseAddrPort(string(v)); err == nil {
				st.status[string(k[len(endpointPrefix):])] = &Status{Endpoint: ep}
			}
			return nil
		}); err != nil {
			return err
		}
		return tx.Scan([]byte(policyPrefix), false, func(_, v []byte) error {
			p := new(Policy)
			if err := json.Unmarshal(v, p); err != nil {
				return fmt.Errorf("decode policy: %w", err)
			}
			st.policies[p.ID] = p
			return nil
		})
	})
	if err != nil {
		return nil, fmt.Errorf("load overlay: %w", err)
	}
	for id := range st.status {
		if st.peers[id] == nil {
			delete(st.status, id) // the peer went while its endpoint was being written
		}
	}
	st.reindex()
	return st, nil
}

// commit persists the records in one durable transaction and only then
// applies the change to memory, so memory never runs ahead of the store.
// Callers hold wmu.
func (s *Service) commit(ctx context.Context, puts map[string]any, dels []string, apply func(st *state)) error {
	err := s.kv.Update(ctx, func(tx core.Tx) error {
		for k, v := range puts {
			if err := core.PutJSON(tx, k, v); err != nil {
				return err
			}
		}
		for _, k := range dels {
			if err := tx.Delete([]byte(k)); err != nil {
				return fmt.Errorf("delete %s: %w", k, err)
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("store overlay change: %w", err)
	}
	s.mu.Lock()
	apply(s.st)
	s.st.gen++
	s.mu.Unlock()
	s.hooksMu.Lock()
	for _, fn := range s.onChange {
		fn()
	}
	s.hooksMu.Unlock()
	return nil
}

func (s *Service) publish(kind events.Kind, subject, msg string, fields map[string]string) {
	if s.journal == nil {
		return
	}
	s.journal.Publish(events.Event{Kind: kind, Subject: subject, Message: msg, Fields: fields})
}

// Network returns the overlay prefix.
func (s *Service) Network() netip.Prefix { return s.cfg.Network }
