// Package dataplane keeps the kernel's WireGuard device and overlay filter
// equal to the overlay in the store, and turns what the device sees
// (handshakes, endpoints, traffic) into the overlay's connection state.
//
// Changes reach the kernel incrementally: a new peer is one device peer
// and one element per group it is in; only a change of rules reinstalls
// the filter's policy. A poll every couple of seconds reads the device,
// records connection state and repairs drift (a peer added or removed by
// hand with wg set).
package dataplane

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"net/netip"
	"slices"
	"sync"
	"time"

	"github.com/edgeward/edgeward/core/events"
	"github.com/edgeward/edgeward/core/overlay"
	"github.com/edgeward/edgeward/core/tunnel"
)

// Defaults for zero Config fields.
const (
	// DefaultStale is WireGuard's reject-after time: a session older than
	// this carries no data, so a peer silent that long is not connected.
	DefaultStale   = 180 * time.Second
	DefaultPoll    = 2 * time.Second
	DefaultKickFor = 10 * time.Minute
)

// Config is the data plane's fixed configuration.
type Config struct {
	// Interface is the WireGuard interface's name.
	Interface string
	// Services are what peers may reach on the gateway itself.
	Services []tunnel.Service
	// Stale is how long a peer may go without a handshake or traffic and
	// still count as connected.
	Stale time.Duration
	// Poll is how often the device is read.
	Poll time.Duration
	// KickFor is how long a kicked peer stays off the device.
	KickFor time.Duration
	// Excluded returns the public keys that must not be on the device
	// however the overlay stands (peers banned or greylisted by id).
	Excluded func() []string
	// Unavailable, when set, says what of the data plane does not run
	// (the device, its DNS, the filter). Without a device the plane only
	// reports it.
	Unavailable string
	Journal     *events.Journal
	Now         func() time.Time
	Log         *slog.Logger
}

// Plane is the data plane service. Its methods are safe for concurrent use.
type Plane struct {
	cfg    Config
	ov     *overlay.Service
	dev    tunnel.Device
	filter tunnel.Filter
	wake   chan struct{}

	mu sync.Mutex // guards everything below; held across kernel calls
	// onDev is what the device holds, as far as the plane wrote it.
	onDev map[string]held
	// policy is the filter's policy as last installed, members included.
	policy  *tunnel.Policy
	members map[string]map[netip.Addr]bool
	kicked  map[string]time.Time
	seen    map[string]activity
	status  Status
	// sparks has its own lock, so the Peers page never waits on a kernel
	// call.
	sparks sparks
}

// held is what the plane writes of a device peer and checks is still so.
type held struct {
	ip  netip.Addr
	psk string
}

// activity is the last traffic counter a poll saw for a peer, and when it
// last moved.
type activity struct {
	rx int64
	at time.Time
	tx int64 // the sent counter, for the per-peer traffic rings
}

// Status is what the data plane says of itself.
type Status struct {
	Running bool
	// Enforced says the kernel filter enforces the policies.
	Enforced bool
	// Why says why the device or the filter is not running; "" when both
	// are.
	Why       string
	Interface string
	// Peers is how many peers the device holds; Connected how many of them
	// showed life within Stale.
	Peers     int
	Connected int
	// RxBytes and TxBytes total the tunnel's traffic over all peers the
	// device holds.
	RxBytes, TxBytes int64
	// LastPoll is when the device was last read.
	LastPoll time.Time
}

// New returns a plane over dev and filter. dev nil means no device (see
// Config.Unavailable); filter nil means policies are not enforced.
func New(ov *overlay.Service, dev tunnel.Device, filter tunnel.Filter, cfg Config) *Plane {
	cfg.Stale = cmp.Or(cfg.Stale, DefaultStale)
	cfg.Poll = cmp.Or(cfg.Poll, DefaultPoll)
	cfg.KickFor = cmp.Or(cfg.KickFor, DefaultKickFor)
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.DiscardHandler)
	}
	if cfg.Excluded == nil {
		cfg.Excluded = func() []string { return nil }
	}
	p := &Plane{cfg: cfg, ov: ov, dev: dev, filter: filter, wake: make(chan struct{}, 1),
		onDev: map[string]held{}, kicked: map[string]time.Time{}, seen: map[string]activity{},
		members: map[string]map[netip.Addr]bool{}}
	if dev != nil && filter == nil && cfg.Unavailable == "" {
		p.cfg.Unavailable = "policies are not enforced: the kernel filter is unavailable"
	}
	p.status = Status{Interface: cfg.Interface, Why: p.cfg.Unavailable, Running: dev != nil, Enforced: dev != nil && filter != nil}
	ov.OnChange(p.Changed)
	return p
}

// Changed tells the plane the overlay changed. It never blocks: changes
// that arrive while a sync runs are taken by the next one.
func (p *Plane) Changed() {
	select {
	case p.wake <- struct{}{}:
	default:
	}
}

// aclKinds are the journal events after which the peers excluded from the
// device may differ.
var aclKinds = map[events.Kind]bool{events.PeerBanned: true, events.PeerTrusted: true, events.PeerOpened: true,
	events.Greylisted: true, events.GreylistCleared: true}

// Status returns the data plane's state.
func (p *Plane) Status() Status {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.status
}

// Run syncs the kernel with the overlay at once, then on every change and
// polls the device every Poll, until ctx is done.
func (p *Plane) Run(ctx context.Context) {
	if p.dev == nil {
		return
	}
	if err := p.Sync(ctx); err != nil {
		p.cfg.Log.Error("data plane sync", "err", err)
	}
	poll := time.NewTicker(p.cfg.Poll)
	defer poll.Stop()
	// Bans and greylistings of peer ids change who may be on the device:
	// the ACL announces them in the journal.
	var aclEvents <-chan events.Event
	var sub *events.Subscription
	if p.cfg.Journal != nil {
		sub = p.cfg.Journal.Subscribe(64)
		defer func() { sub.Close() }()
		aclEvents = sub.C()
	}
	for {
		select {
		case <-ctx.Done():
			return
		case e, ok := <-aclEvents:
			if !ok { // too slow a reader: the journal dropped it
				sub = p.cfg.Journal.Subscribe(64)
				aclEvents = sub.C()
				p.Changed()
				continue
			}
			if aclKinds[e.Kind] {
				p.Changed()
			}
		case <-p.wake:
			if err := p.Sync(ctx); err != nil && ctx.Err() == nil {
				p.cfg.Log.Error("data plane sync", "err", err)
			}
		case <-poll.C:
			if err := p.Poll(ctx); err != nil && ctx.Err() == nil {
				p.cfg.Log.Error("data plane poll", "err", err)
			}
		}
	}
}

// want returns the device peers the overlay asks for now, less excluded
// and kicked ones. Callers hold mu.
func (p *Plane) want(peers map[string]overlay.DevicePeer) map[string]overlay.DevicePeer {
	now := p.cfg.Now()
	for k, until := range p.kicked {
		if !now.Before(until) {
			delete(p.kicked, k)
		}
	}
	out := peers
	for _, k := range p.cfg.Excluded() {
		delete(out, k)
	}
	for k := range p.kicked {
		delete(out, k)
	}
	return out
}

// Sync makes the device and the filter equal to the overlay, writing only
// the difference from what the plane last wrote.
func (p *Plane) Sync(ctx context.Context) error {
	if p.dev == nil {
		return nil
	}
	e := p.ov.Enforcement()
	p.mu.Lock()
	defer p.mu.Unlock()
	want := p.want(e.Peers)
	devErr := p.configure(ctx, want)
	var filterErr error
	if p.filter != nil {
		filterErr = p.enforce(ctx, e)
	}
	return errors.Join(devErr, filterErr)
}

// configure writes the difference between onDev and want. A peer new to
// the device gets its last known endpoint, so the gateway can handshake
// first after a restart. Callers hold mu.
func (p *Plane) configure(ctx context.Context, want map[string]overlay.DevicePeer) error {
	var set []tunnel.Peer
	var remove []string
	for k, w := range want {
		old, ok := p.onDev[k]
		if !ok || old != (held{w.IP, w.PSK}) {
			d := devicePeer(k, w.IP)
			d.PresharedKey = w.PSK
			if !ok {
				d.Endpoint = w.Endpoint
			}
			set = append(set, d)
		}
	}
	for k := range p.onDev {
		if _, ok := want[k]; !ok {
			remove = append(remove, k)
		}
	}
	if len(set) == 0 && len(remove) == 0 {
		return nil
	}
	if err := p.dev.Configure(ctx, set, remove); err != nil {
		// What the device holds is unknown now: the next poll reads it.
		p.onDev = nil
		return fmt.Errorf("configure device: %w", err)
	}
	if p.onDev == nil {
		p.onDev = map[string]held{}
	}
	for _, d := range set {
		p.onDev[d.PublicKey] = held{d.AllowedIPs[0].Addr(), d.PresharedKey}
	}
	for _, k := range remove {
		delete(p.onDev, k)
	}
	return nil
}

func devicePeer(key string, ip netip.Addr) tunnel.Peer {
	return tunnel.Peer{PublicKey: key, AllowedIPs: []netip.Prefix{netip.PrefixFrom(ip, ip.BitLen())}}
}

// enforce brings the filter to e: member changes only when the rules and
// groups are the same, otherwise a reinstall. Callers hold mu.
func (p *Plane) enforce(ctx context.Context, e overlay.Enforcement) error {
	next := tunnel.Policy{Interface: p.cfg.Interface, Gateway: p.ov.Gateway(), Network: p.ov.Network(),
		Services: p.cfg.Services, Groups: e.Groups, Rules: e.Rules}
	if p.policy != nil && sameShape(*p.policy, next) {
		d := p.memberDelta(next)
		if len(d.Add) == 0 && len(d.Remove) == 0 {
			return nil
		}
		if err := p.filter.ApplyMembers(ctx, d); err != nil {
			p.policy = nil // reinstall whole on the next sync
			return fmt.Errorf("apply group members: %w", err)
		}
		for _, m := range d.Add {
			p.members[m.Group][m.Addr] = true
		}
		for _, m := range d.Remove {
			delete(p.members[m.Group], m.Addr)
		}
		p.policy = &next
		return nil
	}
	if err := p.filter.InstallPolicy(ctx, next); err != nil {
		p.policy = nil
		return fmt.Errorf("install overlay policy: %w", err)
	}
	p.policy = &next
	p.members = make(map[string]map[netip.Addr]bool, len(next.Groups))
	for _, g := range next.Groups {
		m := make(map[netip.Addr]bool, len(g.Members))
		for _, a := range g.Members {
			m[a] = true
		}
		p.members[g.ID] = m
	}
	return nil
}

// memberDelta is what changed in next's groups since the filter was last
// written. A group whose members are all still there and no more than
// before costs a lookup per member and no allocation: the common change
// (one peer joins) stays cheap with 10,000 peers. Callers hold mu.
func (p *Plane) memberDelta(next tunnel.Policy) tunnel.Members {
	var d tunnel.Members
	for _, g := range next.Groups {
		have := p.members[g.ID]
		kept := 0
		for _, a := range g.Members {
			if have[a] {
				kept++
			} else {
				d.Add = append(d.Add, tunnel.Member{Group: g.ID, Addr: a})
			}
		}
		if kept == len(have) {
			continue
		}
		now := make(map[netip.Addr]bool, len(g.Members))
		for _, a := range g.Members {
			now[a] = true
		}
		for a := range have {
			if !now[a] {
				d.Remove = append(d.Remove, tunnel.Member{Group: g.ID, Addr: a})
			}
		}
	}
	return d
}

// sameShape reports whether a and b differ in members only.
func sameShape(a, b tunnel.Policy) bool {
	if a.Interface != b.Interface || a.Gateway != b.Gateway || a.Network != b.Network ||
		!slices.Equal(a.Services, b.Services) || len(a.Groups) != len(b.Groups) ||
		!slices.EqualFunc(a.Rules, b.Rules, func(x, y tunnel.Rule) bool {
			return x.FromGroup == y.FromGroup && x.FromAddr == y.FromAddr && x.ToGroup == y.ToGroup &&
				x.ToAddr == y.ToAddr && x.Protocol == y.Protocol && slices.Equal(x.Ports, y.Ports)
		}) {
		return false
	}
	for i := range a.Groups {
		if a.Groups[i].ID != b.Groups[i].ID || !slices.Equal(a.Groups[i].Resources, b.Groups[i].Resources) {
			return false
		}
	}
	return true
}

// Poll reads the device: connection state goes to the overlay, and a
// device that differs from what the overlay asks for is repaired.
func (p *Plane) Poll(ctx context.Context) error {
	if p.dev == nil {
		return nil
	}
	stats, err := p.dev.Peers(ctx)
	if err != nil {
		p.mu.Lock()
		p.status.Running, p.status.Why = false, "cannot read the WireGuard device: "+err.Error()
		p.mu.Unlock()
		return fmt.Errorf("read device: %w", err)
	}
	peers := p.ov.DevicePeers()
	now := p.cfg.Now()
	obs := make([]overlay.Observation, 0, len(stats))
	p.mu.Lock()
	st := Status{Running: true, Enforced: p.filter != nil, Why: p.cfg.Unavailable, Interface: p.cfg.Interface,
		Peers: len(stats), LastPoll: now}
	onDev := make(map[string]held, len(stats))
	moved := make(map[string]uint64)
	for _, s := range stats {
		h := held{psk: s.PresharedKey} // more or other allowed IPs than the plane writes: rewritten below
		if len(s.AllowedIPs) == 1 && s.AllowedIPs[0].IsSingleIP() {
			h.ip = s.AllowedIPs[0].Addr()
		}
		onDev[s.PublicKey] = h
		a, known := p.seen[s.PublicKey]
		// Counters that went back (the device re-created) moved nothing.
		if known && s.RxBytes >= a.rx && s.TxBytes >= a.tx {
			if n := uint64(s.RxBytes-a.rx) + uint64(s.TxBytes-a.tx); n > 0 {
				moved[s.PublicKey] = n
			}
		}
		if s.RxBytes != a.rx {
			a = activity{rx: s.RxBytes, at: now}
		}
		a.tx = s.TxBytes
		last := a.at
		if s.LastHandshake.After(last) {
			last = s.LastHandshake
		}
		// Counters are not traffic on the first sight of a peer.
		if !known {
			a.at, last = time.Time{}, s.LastHandshake
		}
		p.seen[s.PublicKey] = a
		connected := !s.LastHandshake.IsZero() && now.Sub(last) < p.cfg.Stale
		if connected {
			st.Connected++
		}
		st.RxBytes += s.RxBytes
		st.TxBytes += s.TxBytes
		obs = append(obs, overlay.Observation{PublicKey: s.PublicKey, Connected: connected, Endpoint: s.Endpoint,
			LastHandshake: s.LastHandshake, LastSeen: last, RxBytes: s.RxBytes, TxBytes: s.TxBytes})
	}
	// Peers taken off the device (kicked, banned, deleted) are no longer
	// connected.
	var gone []string
	for k := range p.seen {
		if _, ok := onDev[k]; !ok {
			delete(p.seen, k)
			gone = append(gone, k)
			obs = append(obs, overlay.Observation{PublicKey: k})
		}
	}
	p.sparks.forget(gone)
	p.sparks.add(now, moved)
	want := p.want(peers)
	drift := len(onDev) != len(want)
	for k, w := range want {
		if drift {
			break
		}
		h, ok := onDev[k]
		drift = !ok || h != (held{w.IP, w.PSK})
	}
	var repairErr error
	if drift {
		wasBelieved := p.onDev != nil && maps.Equal(p.onDev, onDev)
		p.onDev = onDev
		repairErr = p.configure(ctx, want)
		if repairErr == nil && !wasBelieved {
			p.publishRepair(len(onDev), len(want))
		}
	}
	p.status = st
	p.mu.Unlock()
	return errors.Join(repairErr, p.ov.Observe(ctx, obs))
}

func (p *Plane) publishRepair(had, want int) {
	why := fmt.Sprintf("device %s held %d peers not as the store has them (%d)", p.cfg.Interface, had, want)
	p.cfg.Log.Warn("data plane repaired", "why", why)
	if p.cfg.Journal != nil {
		p.cfg.Journal.Publish(events.Event{Kind: events.ReconcileRepaired, Message: "WireGuard peers rebuilt from the store: " + why,
			Fields: map[string]string{"why": why}})
	}
}

// Kick takes the peer with this public key off the device for KickFor:
// its tunnel ends now, and it may come back after that (or once Allow is
// called). It reports whether the peer was on the device; without a
// device there is nothing to end.
func (p *Plane) Kick(ctx context.Context, publicKey string) (bool, error) {
	if p.dev == nil {
		return false, nil // no device, no tunnel to end
	}
	p.mu.Lock()
	_, on := p.onDev[publicKey]
	p.kicked[publicKey] = p.cfg.Now().Add(p.cfg.KickFor)
	p.mu.Unlock()
	if err := p.Sync(ctx); err != nil {
		return on, err
	}
	return on, p.Poll(ctx)
}

// Allow lets a kicked peer back at once.
func (p *Plane) Allow(publicKey string) {
	p.mu.Lock()
	delete(p.kicked, publicKey)
	p.mu.Unlock()
	p.Changed()
}
