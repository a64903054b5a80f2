package jobs

import (
	"context"
	"encoding/json"
	"fmt"
	"github.com/edgeward/edgeward/core/events"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/edgeward/edgeward/core"
)

// Run works through the queue, one job at a time so that bundle building
// never competes with routing for a small router's CPU, until ctx is done.
// A job interrupted by shutdown stays pending and runs at the next start.
func (s *Service) Run(ctx context.Context) {
	for {
		key, ok := s.next()
		if !ok {
			select {
			case <-ctx.Done():
				return
			case <-s.wake:
				continue
			}
		}
		if err := s.runOne(ctx, key); err != nil && ctx.Err() == nil {
			s.cfg.Log.Error("run job", "job", key, "err", err)
		}
		if ctx.Err() != nil {
			return
		}
	}
}

func (s *Service) next() (string, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.queue) == 0 {
		return "", false
	}
	return s.queue[0], true
}

func (s *Service) done(key string, j Job) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.queue) > 0 && s.queue[0] == key {
		s.queue = s.queue[1:]
	}
	if s.pending[j.PeerID] == j.ID {
		delete(s.pending, j.PeerID)
	}
}

func (s *Service) runOne(ctx context.Context, key string) error {
	var j Job
	err := s.kv.View(ctx, func(tx core.Tx) error {
		v, err := tx.Get([]byte(key))
		if err != nil {
			return err
		}
		return json.Unmarshal(v, &j)
	})
	if core.IsNotFound(err) { // the peer was deleted meanwhile
		s.done(key, Job{})
		return nil
	}
	if err != nil {
		return err
	}
	uploadKey, berr := s.build(ctx, j)
	if ctx.Err() != nil {
		return ctx.Err() // shutting down: leave it pending
	}
	now := s.cfg.Now().UTC()
	j.UpdatedAt, j.CompletedAt = now, now
	if berr != nil {
		j.Status, j.FailedReason = StatusFailed, truncate(berr.Error(), 4096)
	} else {
		j.Status, j.UploadKey = StatusSucceeded, uploadKey
	}
	if !s.peers.Exists(j.PeerID) {
		s.removeBundle(uploadKey)
		s.done(key, j)
		return nil
	}
	err = s.put(ctx, j)
	s.done(key, j)
	s.cfg.Log.Info("job finished", "job", j.ID, "peer", j.PeerID, "status", j.Status)
	s.publish(map[string]events.Kind{StatusSucceeded: events.JobSucceeded, StatusFailed: events.JobFailed}[j.Status], j, "debug bundle job "+j.ID+" "+j.Status)
	return err
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "... (truncated)"
}

// Forget deletes a deleted peer's jobs and bundles. It is meant to be
// registered with the overlay's OnDelete.
func (s *Service) Forget(ctx context.Context, peerID string) {
	var keys []string
	var uploads []string
	_ = s.kv.View(ctx, func(tx core.Tx) error {
		return tx.Scan([]byte(jobKey(peerID, "")), false, func(k, v []byte) error {
			keys = append(keys, string(k))
			var j Job
			if json.Unmarshal(v, &j) == nil && j.UploadKey != "" {
				uploads = append(uploads, j.UploadKey)
			}
			return nil
		})
	})
	err := s.kv.Update(ctx, func(tx core.Tx) error {
		for _, k := range keys {
			if err := tx.Delete([]byte(k)); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		s.cfg.Log.Error("forget jobs of deleted peer", "peer", peerID, "err", err)
	}
	for _, u := range uploads {
		s.removeBundle(u)
	}
	s.mu.Lock()
	delete(s.pending, peerID)
	s.mu.Unlock()
}

// waitWindow sleeps for a bundle_for window, or until ctx is done.
func (s *Service) waitWindow(ctx context.Context, minutes int) error {
	t := time.NewTimer(time.Duration(minutes) * s.cfg.Minute)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// bundlePath maps an upload key to its file, refusing anything that is not
// exactly "<64 hex>/<uuid>" so that a key can never name another path.
func (s *Service) bundlePath(uploadKey string) (string, error) {
	sum, id, ok := strings.Cut(uploadKey, "/")
	if !ok || len(sum) != 64 || !isHex(sum) || !isUUID(id) {
		return "", core.NotFound("bundle not found")
	}
	return filepath.Join(s.cfg.Dir, id+".tar.gz"), nil
}

func (s *Service) removeBundle(uploadKey string) {
	if p, err := s.bundlePath(uploadKey); err == nil {
		if err := os.Remove(p); err != nil && !os.IsNotExist(err) {
			s.cfg.Log.Warn("remove bundle", "err", err)
		}
	}
}

// Open returns the bundle with this upload key and its size. The key's
// hash part must match the file. Errors: ErrNotFound.
func (s *Service) Open(uploadKey string) (*os.File, int64, error) {
	p, err := s.bundlePath(uploadKey)
	if err != nil {
		return nil, 0, err
	}
	f, err := os.Open(p)
	if err != nil {
		return nil, 0, core.NotFound("bundle not found")
	}
	fi, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, 0, fmt.Errorf("stat bundle: %w", err)
	}
	sum, _, _ := strings.Cut(uploadKey, "/")
	if got, err := fileSum(f); err != nil || got != sum {
		f.Close()
		return nil, 0, core.NotFound("bundle not found")
	}
	if _, err := f.Seek(0, 0); err != nil {
		f.Close()
		return nil, 0, fmt.Errorf("rewind bundle: %w", err)
	}
	return f, fi.Size(), nil
}

func isHex(s string) bool {
	for _, c := range s {
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f') {
			return false
		}
	}
	return true
}

func isUUID(s string) bool {
	if len(s) != 36 {
		return false
	}
	for i, c := range s {
		if i == 8 || i == 13 || i == 18 || i == 23 {
			if c != '-' {
				return false
			}
		} else if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f') {
			return false
		}
	}
	return true
}
