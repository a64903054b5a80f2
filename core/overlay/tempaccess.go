package overlay

import (
	"context"
	"fmt"
	"github.com/edgeward/edgeward/core/events"

	"github.com/edgeward/edgeward/core"
	"github.com/rs/xid"
)

// TempAccess is a request for a temporary peer that may reach one peer only.
type TempAccess struct {
	Name string
	// PublicKey is the peer's WireGuard key; empty means the gateway
	// generates a key pair and hands the private key back once.
	PublicKey string
	Rules     []string
	CreatedBy string
}

// TempAccessResult is the temporary peer as created (with its private key
// when the gateway generated the pair) and its rules as the request named
// them.
type TempAccessResult struct {
	Created
	Rules []string
}

// CreateTempAccess adds an ephemeral peer and one policy whose rules let it
// reach target only. Everything is validated before anything is written,
// and both records are written in one transaction. The peer and policy are
// deleted when the peer disconnects after having connected, or when it
// does not connect within the configured timeout.
// Errors: ErrNotFound (target), ValidationError, ErrConflict.
func (s *Service) CreateTempAccess(ctx context.Context, target string, req TempAccess) (TempAccessResult, error) {
	s.wmu.Lock()
	defer s.wmu.Unlock()
	st := s.st
	t, ok := st.peers[target]
	if !ok {
		return TempAccessResult{}, core.NotFound("peer not found: %s", target)
	}
	v := &core.ValidationError{}
	checkName(v, "name", req.Name)
	checkKey(v, req.PublicKey)
	if !checkRuleCount(v, len(req.Rules)) {
		return TempAccessResult{}, v.Err()
	}
	peerID := xid.New().String()
	var rules []Rule
	for i, rs := range req.Rules {
		r, err := ParseRule(rs)
		if err != nil {
			v.Add(fmt.Sprintf("rules[%d]", i), "%s", err.Error())
			continue
		}
		r.ID = fmt.Sprintf("%s-%d", peerID, i)
		r.Name = "Temporary access rule " + rs
		r.SourcePeer, r.DestinationPeer = peerID, target
		rules = append(rules, r)
	}
	if err := v.Err(); err != nil {
		return TempAccessResult{}, err
	}
	if err := st.checkFree(req.Name, req.PublicKey, ""); err != nil {
		return TempAccessResult{}, err
	}
	var out TempAccessResult
	pub, priv, err := keyPair(req.PublicKey)
	if err != nil {
		return TempAccessResult{}, err
	}
	req.PublicKey, out.PrivateKey = pub, priv
	ip, err := s.allocateIP(st)
	if err != nil {
		return TempAccessResult{}, err
	}
	p := &Peer{
		ID: peerID, Name: req.Name, PublicKey: req.PublicKey, IP: ip, Ephemeral: true,
		CreatedAt: s.cfg.Now().UTC(), CreatedBy: req.CreatedBy,
	}
	p.DNSLabel = st.uniqueLabel(p.Name, ip, p.ID)
	pol := &Policy{
		ID: xid.New().String(), Enabled: true, Rules: rules,
		Name:        "Temporary access policy for peer " + req.Name,
		Description: "lets " + req.Name + " reach " + t.Name + " until it disconnects",
	}
	puts := map[string]any{peerPrefix + p.ID: p, policyPrefix + pol.ID: pol}
	err = s.commit(ctx, puts, nil, func(st *state) {
		st.putPeer(p)
		st.policies[pol.ID] = pol
		st.reindexGroups()
	})
	if err != nil {
		return TempAccessResult{}, err
	}
	s.publish(events.PeerTemporaryAccess, p.ID, "temporary peer "+p.Name+" may reach "+t.Name,
		map[string]string{"target": target, "deadline": s.tempDeadline(p).Format("2006-01-02T15:04:05Z07:00")})
	out.PeerInfo, _ = s.Peer(p.ID)
	out.Rules = append([]string{}, req.Rules...)
	return out, nil
}
