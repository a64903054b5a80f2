package acl

import (
	"context"
	"encoding/json"
	"fmt"
	"github.com/edgeward/edgeward/core/events"
	"slices"

	"github.com/edgeward/edgeward/core"
)

// SetPeer applies an ACL to a peer id. The ban is recorded and reported by
// PeerBanned; removing a banned peer from the WireGuard device is the data
// plane's part. Banning a peer does not ban its address.
// Errors: ValidationError for an unknown acl.
func (s *Service) SetPeer(ctx context.Context, id, acl, by string) error {
	if acl != Ban && acl != Trust && acl != Open {
		return core.Invalid("acl", "must be ban, trust or open, not %q", acl)
	}
	e := Entry{Since: s.cfg.Now().UTC(), By: by, Reason: acl + " by an admin"}
	b, err := json.Marshal(e)
	if err != nil {
		return err
	}
	s.wmu.Lock()
	defer s.wmu.Unlock()
	err = s.kv.Update(ctx, func(tx core.Tx) error {
		del := []string{peerBanPrefix + id, peerTrustPrefix + id}
		for _, k := range del {
			if err := tx.Delete([]byte(k)); err != nil {
				return err
			}
		}
		switch acl {
		case Ban:
			return tx.Put([]byte(peerBanPrefix+id), b, 0)
		case Trust:
			return tx.Put([]byte(peerTrustPrefix+id), b, 0)
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("store peer acl: %w", err)
	}
	s.mu.Lock()
	delete(s.st.peerBans, id)
	delete(s.st.peerTrusts, id)
	switch acl {
	case Ban:
		s.st.peerBans[id] = e
	case Trust:
		s.st.peerTrusts[id] = e
		s.st.peerGrey = slices.DeleteFunc(s.st.peerGrey, func(x string) bool { return x == id })
	case Open:
		s.st.peerGrey = slices.DeleteFunc(s.st.peerGrey, func(x string) bool { return x == id })
	}
	s.mu.Unlock()
	past := map[string]string{Ban: "banned", Trust: "trusted", Open: "opened"}[acl]
	s.publish(map[string]events.Kind{Ban: events.PeerBanned, Trust: events.PeerTrusted, Open: events.PeerOpened}[acl], id, "peer "+id+" "+past, map[string]string{"by": by})
	return nil
}

// PeerState is what the ACL knows of a peer id.
type PeerState struct {
	Trusted, Banned, Greylisted bool
}

// Peer returns the ACL state of a peer id. A trusted peer is never banned.
func (s *Service) Peer(id string) PeerState {
	s.mu.RLock()
	defer s.mu.RUnlock()
	_, t := s.st.peerTrusts[id]
	_, b := s.st.peerBans[id]
	g := slices.Contains(s.st.peerGrey, id)
	return PeerState{Trusted: t, Banned: !t && b, Greylisted: !t && g}
}
