package overlay

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"github.com/edgeward/edgeward/core/events"
	"net/netip"
	"strings"

	"github.com/edgeward/edgeward/core"
	"github.com/edgeward/edgeward/core/wgkey"
	"github.com/rs/xid"
)

// NewPeer is a request to add a peer.
type NewPeer struct {
	Name string
	// PublicKey is the peer's WireGuard key; empty means the gateway
	// generates a key pair and hands the private key back once.
	PublicKey string
	Groups    []string
	CreatedBy string
	// KeepKey keeps a generated private key on the gateway, so the admin
	// can download the peer's config (or show its QR code) again later;
	// without it the key is handed back once and stored nowhere.
	KeepKey bool
}

// Created is the result of CreatePeer.
type Created struct {
	PeerInfo
	// PrivateKey is set only when the gateway generated the key pair. It is
	// stored only when the request asked to keep it.
	PrivateKey string
	// PresharedKey is made with a generated pair (a client config carries
	// it in one piece); "" when the peer brought its own public key.
	PresharedKey string
}

// CreatePeer adds a peer with a free overlay IP and a unique DNS label.
// Errors: ValidationError (ErrInvalid), ErrConflict for a taken name or key.
func (s *Service) CreatePeer(ctx context.Context, req NewPeer) (Created, error) {
	s.wmu.Lock()
	defer s.wmu.Unlock()
	st := s.st
	v := &core.ValidationError{}
	checkName(v, "name", req.Name)
	checkKey(v, req.PublicKey)
	for i, gid := range req.Groups {
		if g, ok := st.groups[gid]; !ok {
			v.Add(fmt.Sprintf("groups[%d]", i), "unknown group id %q", gid)
		} else if g.All {
			v.Add(fmt.Sprintf("groups[%d]", i), "every peer is in group All already")
		}
	}
	if err := v.Err(); err != nil {
		return Created{}, err
	}
	if err := st.checkFree(req.Name, req.PublicKey, ""); err != nil {
		return Created{}, err
	}
	var out Created
	pub, priv, err := keyPair(req.PublicKey)
	if err != nil {
		return Created{}, err
	}
	req.PublicKey, out.PrivateKey = pub, priv
	ip, err := s.allocateIP(st)
	if err != nil {
		return Created{}, err
	}
	p := &Peer{
		ID: xid.New().String(), Name: req.Name, PublicKey: req.PublicKey, IP: ip,
		CreatedAt: s.cfg.Now().UTC(), CreatedBy: req.CreatedBy,
	}
	p.DNSLabel = st.uniqueLabel(p.Name, ip, p.ID)
	puts := map[string]any{peerPrefix + p.ID: p}
	if out.PrivateKey != "" {
		psk, err := wgkey.GeneratePSK()
		if err != nil {
			return Created{}, err
		}
		out.PresharedKey = psk.String()
		puts[pskPrefix+p.ID] = out.PresharedKey
		if req.KeepKey {
			puts[keyPrefix+p.ID] = out.PrivateKey
		}
	}
	groups := withPeer(st, req.Groups, p.ID)
	for _, g := range groups {
		puts[groupPrefix+g.ID] = g
	}
	err = s.commit(ctx, puts, nil, func(st *state) {
		st.putPeer(p)
		if out.PresharedKey != "" {
			st.psk[p.ID] = out.PresharedKey
		}
		for _, g := range groups {
			st.groups[g.ID] = g
		}
		st.reindexGroups()
	})
	if err != nil {
		return Created{}, err
	}
	fields := map[string]string{"ip": ip.String()}
	if pid := PeerID(p.PublicKey); pid != "" {
		fields["peer_id"] = pid // the /network dialect's name of the peer
	}
	s.publish(events.PeerCreated, p.ID, "peer "+p.Name+" created", fields)
	info, _ := s.Peer(p.ID)
	out.PeerInfo = info
	return out, nil
}

// Kept returns peer id with the keys a client config needs, when the
// gateway keeps its private key (see NewPeer.KeepKey); ok is false when
// it does not. Errors: ErrNotFound for an unknown peer.
func (s *Service) Kept(ctx context.Context, id string) (c Created, ok bool, err error) {
	if c.PeerInfo, err = s.Peer(id); err != nil {
		return Created{}, false, err
	}
	err = s.kv.View(ctx, func(tx core.Tx) error {
		v, err := tx.Get([]byte(keyPrefix + id))
		if err != nil {
			return err
		}
		return json.Unmarshal(v, &c.PrivateKey)
	})
	if errors.Is(err, core.ErrNotFound) {
		return Created{}, false, nil
	}
	if err != nil {
		return Created{}, false, fmt.Errorf("read kept key: %w", err)
	}
	s.mu.RLock()
	c.PresharedKey = s.st.psk[id]
	s.mu.RUnlock()
	return c, true, nil
}

// ForgetKey drops the private key kept for peer id: its config can no
// longer be downloaded. Errors: ErrNotFound for an unknown peer.
func (s *Service) ForgetKey(ctx context.Context, id string) error {
	s.wmu.Lock()
	defer s.wmu.Unlock()
	p, ok := s.st.peers[id]
	if !ok {
		return core.NotFound("peer not found: %s", id)
	}
	if err := s.commit(ctx, nil, []string{keyPrefix + id}, func(*state) {}); err != nil {
		return err
	}
	s.publish(events.PeerKeyForgotten, id, "the gateway no longer keeps the private key of peer "+p.Name, nil)
	return nil
}

// checkKey validates a peer's public key; empty asks for a generated pair.
func checkKey(v *core.ValidationError, key string) {
	if key == "" {
		return
	}
	if _, err := wgkey.Parse(key); err != nil {
		v.Add("wg_pub_key", "%s", err.Error())
	}
}

// keyPair returns pub with no private key, or, for an empty pub, a new
// pair whose private key is handed back once and stored nowhere.
func keyPair(pub string) (string, string, error) {
	if pub != "" {
		return pub, "", nil
	}
	priv, k, err := wgkey.Generate()
	if err != nil {
		return "", "", err
	}
	return k.String(), priv.String(), nil
}

// withPeer returns copies of the groups gids with peer id added.
func withPeer(st *state, gids []string, id string) []*Group {
	var out []*Group
	seen := map[string]bool{}
	for _, gid := range gids {
		if seen[gid] {
			continue
		}
		seen[gid] = true
		g := *st.groups[gid]
		g.Peers = append(append([]string(nil), g.Peers...), id)
		out = append(out, &g)
	}
	return out
}

// checkFree returns ErrConflict if name or key belong to a peer other than self.
func (st *state) checkFree(name, key, self string) error {
	if id, ok := st.byName[name]; ok && id != self {
		return core.ConflictOn("name", "peer name %q is already taken by peer %s", name, id)
	}
	if id, ok := st.byKey[key]; ok && key != "" && id != self {
		return core.ConflictOn("wg_pub_key", "key is already registered to peer %s", id)
	}
	return nil
}

// allocateIP returns the lowest free host address of the overlay, skipping
// the gateway's own address and, for IPv4, the broadcast address.
// The search starts after the last address handed out, so adding many
// peers stays linear; it wraps once to reuse freed addresses.
func (s *Service) allocateIP(st *state) (netip.Addr, error) {
	first := s.Gateway().Next()
	start := s.nextIP
	if !s.usable(start) {
		start = first
	}
	for _, from := range []netip.Addr{start, first} {
		for ip := from; s.usable(ip); ip = ip.Next() {
			if _, taken := st.byIP[ip]; !taken {
				s.nextIP = ip.Next()
				return ip, nil
			}
		}
	}
	return netip.Addr{}, core.ConflictOn("ip", "overlay network %s has no free address", s.cfg.Network)
}

// usable reports whether ip may be given to a peer.
func (s *Service) usable(ip netip.Addr) bool {
	n := s.cfg.Network
	if !ip.IsValid() || !n.Contains(ip) || ip == n.Addr() || ip == s.Gateway() {
		return false
	}
	return ip.Next().IsValid() && n.Contains(ip.Next()) // not broadcast
}

// Peer returns one peer. Errors: ErrNotFound.
func (s *Service) Peer(id string) (PeerInfo, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	p, ok := s.st.peers[id]
	if !ok {
		return PeerInfo{}, core.NotFound("peer not found: %s", id)
	}
	return s.info(s.st, p), nil
}

func (s *Service) info(st *state, p *Peer) PeerInfo {
	var in PeerInfo
	s.infoInto(st, p, &in)
	return in
}

// infoInto fills in with p, reusing in.Groups' array.
func (s *Service) infoInto(st *state, p *Peer, in *PeerInfo) {
	groups := in.Groups[:0]
	if groups == nil {
		groups = make([]GroupRef, 0, 1+len(st.memberOf[p.ID]))
	}
	*in = PeerInfo{Peer: *p, FQDN: p.DNSLabel + "." + s.cfg.DNSDomain, Groups: groups}
	if stat, ok := st.status[p.ID]; ok {
		in.Status = *stat
	}
	if all := st.allGroup(); all != nil && !p.Ephemeral {
		in.Groups = append(in.Groups, st.groupRef(all))
	}
	for _, gid := range st.memberOf[p.ID] {
		in.Groups = append(in.Groups, st.groupRef(st.groups[gid]))
	}
	in.AccessibleCount = st.accessibleCount(p)
}

// Filter selects peers by substrings, as the original API's clients expect:
// Name matches inside the name, IP inside the overlay address.
type Filter struct {
	Name string
	IP   string
}

// Peers returns the peers matching f, sorted by name.
func (s *Service) Peers(f Filter) []PeerInfo {
	s.mu.RLock()
	defer s.mu.RUnlock()
	var out []PeerInfo
	if f == (Filter{}) {
		out = make([]PeerInfo, 0, len(s.st.order))
	}
	s.match(f, func(_ int, p *Peer) { out = append(out, s.info(s.st, p)) })
	return out
}

// PeerRow is one peer as EachPeer yields it. Gen and Index key whatever
// a caller derives from Info without Status: the stored side of a peer, and
// the groups and policy counts it shows, change only with a new Gen (which
// may also move Index). Status is the data plane's live side, which changes
// without one.
type PeerRow struct {
	Gen    uint64
	Index  int // position in the list order of all peers, below Count
	Count  int
	Status Status
	s      *Service
	p      *Peer
	in     PeerInfo
}

// Info returns everything the API shows of the peer, Status included. It
// is reused by the next row.
func (r *PeerRow) Info() *PeerInfo {
	r.s.infoInto(r.s.st, r.p, &r.in)
	return &r.in
}

// EachPeer calls fn with each peer matching f, sorted by name, as Peers
// returns them but without the slice: a list of 10,000 peers is written
// straight from the state, and a caller keeping what it derived from a
// row's Info per Gen and Index need not ask for it again. fn runs under
// the service's read lock, so it must be quick and must not call the
// service; the row is reused between calls.
func (s *Service) EachPeer(f Filter, fn func(*PeerRow)) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	r := PeerRow{Gen: s.st.gen, Count: len(s.st.order), s: s}
	s.match(f, func(i int, p *Peer) {
		r.Index, r.p, r.Status = i, p, Status{}
		if stat := s.st.status[p.ID]; stat != nil {
			r.Status = *stat
		}
		fn(&r)
	})
}

// match calls fn with each peer matching f and its position in the list
// order; the caller holds s.mu.
func (s *Service) match(f Filter, fn func(int, *Peer)) {
	st := s.st
	ipText := []byte(f.IP)
	var buf [64]byte
	for i, id := range st.order {
		p := st.peers[id]
		if f.Name != "" && !strings.Contains(p.Name, f.Name) {
			continue
		}
		if f.IP != "" && !bytes.Contains(p.IP.AppendTo(buf[:0]), ipText) {
			continue
		}
		fn(i, p)
	}
}

// Counts returns how many peers there are and how many of them are
// connected, without shaping a list: the dashboard polls it every few
// seconds.
func (s *Service) Counts() (peers, connected int) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	for _, stat := range s.st.status {
		if stat.Connected {
			connected++
		}
	}
	return len(s.st.peers), connected
}

// Accessible returns the peers that peer id may reach under the enabled
// policies, sorted by name. Errors: ErrNotFound.
func (s *Service) Accessible(id string) ([]PeerInfo, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	p, ok := s.st.peers[id]
	if !ok {
		return nil, core.NotFound("peer not found: %s", id)
	}
	peers := s.st.accessible(p)
	out := make([]PeerInfo, len(peers))
	for i, q := range peers {
		out[i] = PeerInfo{Peer: *q, FQDN: q.DNSLabel + "." + s.cfg.DNSDomain}
		if stat, ok := s.st.status[q.ID]; ok {
			out[i].Status = *stat
		}
	}
	return out, nil
}

// Exists reports whether a peer with this id exists.
func (s *Service) Exists(id string) bool {
	s.mu.RLock()
	defer s.mu.RUnlock()
	_, ok := s.st.peers[id]
	return ok
}
