// Package jobs runs debug-bundle jobs for peers.
//
// Peers of this overlay are plain WireGuard devices with no agent, so a
// bundle is gathered by the gateway: what it knows about the peer and about
// itself. Jobs are stored durably; a job still pending when the process
// stops is run again at the next start.
package jobs

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/edgeward/edgeward/core"
	"github.com/edgeward/edgeward/core/events"
	"github.com/rs/xid"
)

// Job states.
const (
	StatusPending   = "pending"
	StatusSucceeded = "succeeded"
	StatusFailed    = "failed"
)

// TypeBundle is the only job type.
const TypeBundle = "bundle"

// Params are the bundle job's parameters.
type Params struct {
	Anonymize     bool
	BundleFor     bool
	BundleForTime int // minutes, 1-5 when BundleFor; kept as sent (unused) otherwise
	LogFileCount  int // 1-1000
}

// Job is one job of one peer.
type Job struct {
	ID           string
	PeerID       string
	Type         string
	Params       Params
	Status       string
	TriggeredBy  string
	CreatedAt    time.Time
	UpdatedAt    time.Time
	CompletedAt  time.Time
	UploadKey    string
	FailedReason string
}

// DefaultLogFileCount is used when a request names no log_file_count.
const DefaultLogFileCount = 10

// Validate checks a job request. Zero LogFileCount takes the default.
func Validate(typ string, p *Params) error {
	v := &core.ValidationError{}
	if typ != TypeBundle {
		v.Add("workload.type", "unknown job type %q: the only type is bundle", typ)
	}
	if p.LogFileCount == 0 {
		p.LogFileCount = DefaultLogFileCount
	}
	if p.LogFileCount < 1 || p.LogFileCount > 1000 {
		v.Add("workload.parameters.log_file_count", "must be from 1 to 1000")
	}
	// The time is checked only when it is used, as the original does:
	// NetBird's client sends bundle_for_time 0 along with bundle_for false.
	if p.BundleFor && (p.BundleForTime < 1 || p.BundleForTime > 5) {
		v.Add("workload.parameters.bundle_for_time", "must be from 1 to 5 minutes when bundle_for is true")
	}
	return v.Err()
}

// Peers is what jobs needs of the overlay.
type Peers interface {
	Exists(id string) bool
}

// Config wires the job service.
type Config struct {
	Dir string // where bundles are written
	// Quota is the most bytes of bundles kept in Dir: the oldest are
	// removed to make room for a new one. 0 keeps every bundle.
	Quota int64
	// Reserve is the bytes a new bundle must leave free on Dir's
	// filesystem (the store's reserve); 0 checks nothing.
	Reserve  uint64
	Sections []Section // what a bundle holds, in order
	Logs     func(n int) [][]byte
	Keep     []string      // domains anonymizing keeps
	Minute   time.Duration // one minute of bundle_for_time; tests shorten it
	MaxQueue int
	Now      func() time.Time
	Log      *slog.Logger
	Events   *events.Journal // may be nil
}

// Service creates, stores and runs jobs. Safe for concurrent use.
type Service struct {
	kv    core.KV
	peers Peers
	cfg   Config

	mu      sync.Mutex
	queue   []string          // store keys of pending jobs, oldest first
	pending map[string]string // peer id -> pending job id
	wake    chan struct{}
}

const keyPrefix = "job/"

func jobKey(peerID, jobID string) string { return keyPrefix + peerID + "/" + jobID }

// New loads jobs and queues the ones left pending.
func New(ctx context.Context, kv core.KV, peers Peers, cfg Config) (*Service, error) {
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Minute == 0 {
		cfg.Minute = time.Minute
	}
	if cfg.MaxQueue == 0 {
		cfg.MaxQueue = 16
	}
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.DiscardHandler)
	}
	s := &Service{kv: kv, peers: peers, cfg: cfg, pending: map[string]string{}, wake: make(chan struct{}, 1)}
	err := kv.View(ctx, func(tx core.Tx) error {
		return tx.Scan([]byte(keyPrefix), false, func(k, v []byte) error {
			var j Job
			if err := json.Unmarshal(v, &j); err != nil {
				return fmt.Errorf("decode job %s: %w", k, err)
			}
			if j.Status == StatusPending {
				s.queue = append(s.queue, string(k))
				s.pending[j.PeerID] = j.ID
			}
			return nil
		})
	})
	if err != nil {
		return nil, fmt.Errorf("load jobs: %w", err)
	}
	return s, nil
}

// Create queues a bundle job for a peer. Errors: ErrNotFound (peer),
// ValidationError, ErrConflict (the peer has a pending job), ErrBusy (the
// queue is full).
func (s *Service) Create(ctx context.Context, peerID, typ string, p Params, by string) (Job, error) {
	if !s.peers.Exists(peerID) {
		return Job{}, core.NotFound("peer not found: %s", peerID)
	}
	if err := Validate(typ, &p); err != nil {
		return Job{}, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if id, ok := s.pending[peerID]; ok {
		return Job{}, core.Conflict("peer already has pending job %s", id)
	}
	if len(s.queue) >= s.cfg.MaxQueue {
		return Job{}, core.Busy("job queue is full (%d jobs); try again later", s.cfg.MaxQueue)
	}
	now := s.cfg.Now().UTC()
	j := Job{ID: xid.New().String(), PeerID: peerID, Type: typ, Params: p, Status: StatusPending,
		TriggeredBy: by, CreatedAt: now, UpdatedAt: now}
	if err := s.put(ctx, j); err != nil {
		return Job{}, err
	}
	s.queue = append(s.queue, jobKey(peerID, j.ID))
	s.pending[peerID] = j.ID
	s.publish(events.JobCreated, j, "debug bundle job "+j.ID+" queued")
	select {
	case s.wake <- struct{}{}:
	default:
	}
	return j, nil
}

func (s *Service) put(ctx context.Context, j Job) error {
	if err := s.kv.Update(ctx, func(tx core.Tx) error { return core.PutJSON(tx, jobKey(j.PeerID, j.ID), j) }); err != nil {
		return fmt.Errorf("store job: %w", err)
	}
	return nil
}

// List returns a peer's jobs, newest first. Errors: ErrNotFound (peer).
func (s *Service) List(ctx context.Context, peerID string) ([]Job, error) {
	if !s.peers.Exists(peerID) {
		return nil, core.NotFound("peer not found: %s", peerID)
	}
	out := []Job{}
	err := s.kv.View(ctx, func(tx core.Tx) error {
		return tx.Scan([]byte(jobKey(peerID, "")), true, func(_, v []byte) error {
			var j Job
			if err := json.Unmarshal(v, &j); err != nil {
				return fmt.Errorf("decode job: %w", err)
			}
			out = append(out, j)
			return nil
		})
	})
	return out, err
}

// Get returns one job of one peer. Errors: ErrNotFound.
func (s *Service) Get(ctx context.Context, peerID, jobID string) (Job, error) {
	if !s.peers.Exists(peerID) {
		return Job{}, core.NotFound("peer not found: %s", peerID)
	}
	var j Job
	err := s.kv.View(ctx, func(tx core.Tx) error {
		v, err := tx.Get([]byte(jobKey(peerID, jobID)))
		if err != nil {
			return err
		}
		return json.Unmarshal(v, &j)
	})
	if core.IsNotFound(err) {
		return Job{}, core.NotFound("job %s not found", jobID)
	}
	return j, err
}

func (s *Service) publish(kind events.Kind, j Job, msg string) {
	if s.cfg.Events != nil {
		s.cfg.Events.Publish(events.Event{Kind: kind, Subject: j.PeerID, Message: msg, Fields: map[string]string{"job": j.ID}})
	}
}
