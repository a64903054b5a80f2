// Package acl decides who may talk to the router: bans, trusts and
// greylists of addresses, ranges and peers. It keeps its state in the store
// (the source of truth) and drives the kernel through the Firewall port; a
// reconcile loop repairs the kernel when someone else changes it.
package acl

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/netip"
	"strings"
	"sync"
	"time"

	"github.com/edgeward/edgeward/core"
	"github.com/edgeward/edgeward/core/events"
)

// Config tunes the ACL. Zero values take the defaults in brackets.
type Config struct {
	GuardPorts []uint16
	Rate       uint32        // new connections per second per source on a guarded port [20]
	Burst      uint32        // [20]
	GreyBase   time.Duration // first greylisting of a source [10m]
	GreyMax    time.Duration // cap of the growing schedule [24h]
	GreySize   uint32        // size of each kernel greylist set [65536]
	AuthLimit  int           // failed API authentications per AuthWindow that greylist [5]
	AuthWindow time.Duration // [1m]
	PollEvery  time.Duration // how often the kernel greylist is read back [2s]
	CheckEvery time.Duration // how often the table is checked for drift [5s]
	Now        func() time.Time
	Log        *slog.Logger
	// Unavailable says why there is no firewall, when New gets none.
	Unavailable string
	// PeersFrom names the peer ids connected from an address, so that
	// greylisting an address greylists them too. May be nil.
	PeersFrom func(netip.Addr) []string
	// NeverGrey are ranges never greylisted, by the kernel or by
	// edgeward: the gateway's own addresses, its upstreams, the admins'
	// LAN. A spoofed flood in their name must not lock them out.
	NeverGrey []netip.Prefix
	// Own are the gateway's own addresses: a ban covering one is refused
	// unless forced (see Guard).
	Own []netip.Prefix
}

func (c *Config) defaults() {
	set := func(d *time.Duration, v time.Duration) {
		if *d == 0 {
			*d = v
		}
	}
	set(&c.GreyBase, 10*time.Minute)
	set(&c.GreyMax, 24*time.Hour)
	set(&c.AuthWindow, time.Minute)
	set(&c.PollEvery, 2*time.Second)
	set(&c.CheckEvery, 5*time.Second)
	if c.Rate == 0 {
		c.Rate = 20
	}
	if c.Burst == 0 {
		c.Burst = 20
	}
	if c.GreySize == 0 {
		c.GreySize = 65536
	}
	if c.AuthLimit == 0 {
		c.AuthLimit = 5
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	if c.Log == nil {
		c.Log = slog.New(slog.DiscardHandler)
	}
}

// Entry is one ACL record.
type Entry struct {
	Since  time.Time
	Until  time.Time // zero: for good
	Reason string
	By     string // token id, or "kernel" / "edgeward" for automatic entries
	Point  string // the point the admin named, if any
	// Chunk is the store key of the bulk record that holds this entry, so
	// that undoing one entry of a bulk call rewrites that record.
	Chunk string `json:",omitempty"`
}

func (e Entry) live(now time.Time) bool { return e.Until.IsZero() || now.Before(e.Until) }

type offence struct {
	N    int
	Last time.Time
}

// Store key prefixes.
const (
	banPrefix       = "acl/ban/"
	trustPrefix     = "acl/trust/"
	greyPrefix      = "acl/grey/"
	offencePrefix   = "acl/offence/"
	peerBanPrefix   = "acl/peerban/"
	peerTrustPrefix = "acl/peertrust/"
	bulkPrefix      = "acl/bulk/"
)

// offenceMemory is how long a source's past greylistings count towards a
// longer next one.
const offenceMemory = 7 * 24 * time.Hour

// Service is the ACL. Safe for concurrent use.
type Service struct {
	kv      core.KV
	fw      Firewall // nil: no enforcement possible
	journal *events.Journal
	cfg     Config

	wmu sync.Mutex // serialises changes: store, memory, kernel in that order
	mu  sync.RWMutex
	st  state

	auth *authFailures

	enfMu sync.Mutex
	enf   Enforcement

	// cuts is cutLater's work in flight, which Run waits for before it
	// returns (and serve closes the kernel handles); cutSlots bounds it.
	cuts     sync.WaitGroup
	cutSlots chan struct{}
}

type state struct {
	bans map[Target]*Entry
	// rangeBans holds the range bans of bans again: they are few, and checking
	// an address must not walk 100,000 single bans.
	rangeBans  map[Target]*Entry
	trusts     map[netip.Prefix]*Entry
	greys      map[netip.Addr]Entry
	offences   map[netip.Addr]offence
	peerBans   map[string]Entry
	peerTrusts map[string]Entry
	peerGrey   []string // most recent last, bounded
	// bansLive and greysLive say until when every entry of bans and of
	// greys is live, so that counting them is len() and the sweep has
	// nothing to drop (see horizon).
	bansLive, greysLive horizon
	// notReliableSince is when the kernel greylist first overflowed.
	notReliableSince time.Time
	warned80         bool
}

// Enforcement says whether the kernel enforces the ACL.
type Enforcement struct {
	Applied bool
	Reason  string    // why not, when not
	Since   time.Time // of the current state
}

// New loads the ACL. fw may be nil when the platform cannot enforce; the
// ACL then records everything and reports enforcement as unavailable.
func New(ctx context.Context, kv core.KV, fw Firewall, journal *events.Journal, cfg Config) (*Service, error) {
	cfg.defaults()
	s := &Service{kv: kv, fw: fw, journal: journal, cfg: cfg, auth: newAuthFailures(),
		cutSlots: make(chan struct{}, maxCuts)}
	s.st = state{bans: map[Target]*Entry{}, rangeBans: map[Target]*Entry{}, trusts: map[netip.Prefix]*Entry{}, greys: map[netip.Addr]Entry{},
		offences: map[netip.Addr]offence{}, peerBans: map[string]Entry{}, peerTrusts: map[string]Entry{}}
	if err := s.load(ctx); err != nil {
		return nil, err
	}
	s.enf = Enforcement{Reason: "not applied yet", Since: cfg.Now()}
	if fw == nil {
		s.enf.Reason = cfg.Unavailable
		if s.enf.Reason == "" {
			s.enf.Reason = "this platform cannot program the kernel firewall"
		}
	}
	return s, nil
}

func (s *Service) load(ctx context.Context) error {
	now := s.cfg.Now()
	return s.kv.View(ctx, func(tx core.Tx) error {
		scan := func(prefix string, fn func(key string, e Entry) error) error {
			return tx.Scan([]byte(prefix), false, func(k, v []byte) error {
				var e Entry
				if err := json.Unmarshal(v, &e); err != nil {
					return fmt.Errorf("decode %s: %w", k, err)
				}
				if !e.live(now) {
					return nil // expired while the daemon was down
				}
				return fn(strings.TrimPrefix(string(k), prefix), e)
			})
		}
		err := errors.Join(
			scan(banPrefix, func(k string, e Entry) error {
				t, err := parseKey(k)
				s.st.setBan(t, &e)
				return err
			}),
			scan(trustPrefix, func(k string, e Entry) error {
				p, err := netip.ParsePrefix(k)
				s.st.trusts[p] = &e
				return err
			}),
			scan(greyPrefix, func(k string, e Entry) error {
				a, err := netip.ParseAddr(k)
				s.st.setGrey(a, e)
				return err
			}),
			scan(peerBanPrefix, func(k string, e Entry) error { s.st.peerBans[k] = e; return nil }),
			scan(peerTrustPrefix, func(k string, e Entry) error { s.st.peerTrusts[k] = e; return nil }),
		)
		if err != nil {
			return fmt.Errorf("load acl: %w", err)
		}
		if err := s.loadChunks(tx, now); err != nil {
			return fmt.Errorf("load acl: %w", err)
		}
		return tx.Scan([]byte(offencePrefix), false, func(k, v []byte) error {
			var o offence
			a, err := netip.ParseAddr(strings.TrimPrefix(string(k), offencePrefix))
			if err != nil || json.Unmarshal(v, &o) != nil {
				return nil // an unreadable counter only costs a shorter greylisting
			}
			s.st.offences[a] = o
			return nil
		})
	})
}

func parseKey(k string) (Target, error) {
	p, port, ok := strings.Cut(k, "#")
	if !ok {
		return Target{}, fmt.Errorf("bad acl key %q", k)
	}
	t, err := ParseTarget(p)
	if err != nil {
		return Target{}, err
	}
	var n int
	if _, err := fmt.Sscan(port, &n); err != nil {
		return Target{}, fmt.Errorf("bad acl key %q", k)
	}
	t.Port = uint16(n)
	return t, nil
}

// Enforcement reports whether the kernel enforces the ACL now.
func (s *Service) Enforcement() Enforcement {
	s.enfMu.Lock()
	defer s.enfMu.Unlock()
	return s.enf
}

func (s *Service) setEnforcement(err error) {
	s.enfMu.Lock()
	defer s.enfMu.Unlock()
	applied := err == nil
	if applied == s.enf.Applied && (applied || s.enf.Reason == reason(err)) {
		return
	}
	s.enf = Enforcement{Applied: applied, Reason: reason(err), Since: s.cfg.Now()}
	if applied {
		s.cfg.Log.Info("acl enforced in the kernel")
	} else {
		s.cfg.Log.Warn("acl not enforced", "err", err)
	}
}

func reason(err error) string {
	switch {
	case err == nil:
		return ""
	case errors.Is(err, core.ErrPermission):
		return "no permission to program nftables (needs CAP_NET_ADMIN)"
	case errors.Is(err, core.ErrUnsupported):
		return "this platform cannot program the kernel firewall"
	}
	return "kernel firewall error: " + err.Error()
}

func (s *Service) publish(kind events.Kind, subject, msg string, fields map[string]string) {
	if s.journal != nil {
		s.journal.Publish(events.Event{Kind: kind, Subject: subject, Message: msg, Fields: fields})
	}
}
