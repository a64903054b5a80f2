// Package backup writes and restores an archive of the whole store: a
// gzipped tar holding manifest.json (what, from where, when, which schema)
// and store.db, the store's own consistent snapshot stream.
//
// A restore is staged, never applied to the live store: the archive is
// checked whole (format, schema, checksum), loaded into a new store
// directory beside the live one and renamed into place only by Apply, which
// the binary runs before it opens the store, at start or at the in-process
// restart it performs right after a restore. Services cache what they read
// at start (tokens, peers, bans, links), so swapping the store under them
// would serve a mix of old and new state; a restart rebuilds them all from
// the restored store. A crash at any point leaves either the old store or
// the complete new one.
package backup

import (
	"archive/tar"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
	"time"
	"unicode"
)

// Format names an edgeward backup in its manifest; FormatVersion is the
// newest archive layout this package reads and the one it writes.
const (
	Format        = "edgeward-backup"
	FormatVersion = 1
)

// Secrets is the manifest's warning: what the archive holds that must be
// kept like a password.
const Secrets = "this file holds secrets: hashed API tokens and admin password, " +
	"the node's WireGuard private key and peers' private keys the gateway keeps; store it like a password"

// Archive member names.
const (
	manifestName = "manifest.json"
	storeName    = "store.db"
)

// Names in the data directory: a staged restore, the store it replaced.
const (
	stagingName = "restore.tmp"
	pendingName = "restore.pending"
	// BeforeRestore keeps the store a restore replaced, until the next
	// restore, so an admin who restored the wrong file can move it back.
	BeforeRestore = "store.before-restore"
)

// Manifest describes an archive.
type Manifest struct {
	Format        string    `json:"format"`
	FormatVersion int       `json:"format_version"`
	Schema        int       `json:"schema"`
	Version       string    `json:"edgeward_version"`
	NodeID        string    `json:"node_id"`
	NodeName      string    `json:"node_name"`
	Created       time.Time `json:"created"`
	Secrets       string    `json:"secrets"`
	StoreSHA256   string    `json:"store_sha256"`
	StoreBytes    int64     `json:"store_bytes"`
}

// Store is what a backup reads: a consistent snapshot stream of the whole
// store and the schema it is at.
type Store interface {
	Backup(ctx context.Context, w io.Writer) error
	SchemaVersion(ctx context.Context) (int, error)
}

// Loader builds a new store in dir from a snapshot stream and returns the
// schema version the stream recorded (store.Restore).
type Loader func(ctx context.Context, dir string, r io.Reader) (int, error)

// Config configures New.
type Config struct {
	Store Store
	Load  Loader
	// Dir is the data directory: the store lives in StoreDir under it, and
	// the staged restore and the scratch files beside it.
	Dir      string
	StoreDir string
	// Schema is the newest schema this binary runs; newer archives are
	// refused.
	Schema   int
	Version  string
	NodeID   string
	NodeName string
	// Restart, once a restore is staged, makes the box apply it: the
	// binary stops its services, runs Apply and starts them again. nil
	// leaves the restore for the next start.
	Restart func()
	Now     func() time.Time
}

// Service backs the store up and stages restores. It is safe for
// concurrent use; one restore is staged at a time.
type Service struct {
	cfg       Config
	restoring sync.Mutex
}

// New returns a Service.
func New(cfg Config) *Service {
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	return &Service{cfg: cfg}
}

// Backup writes an archive of the whole store to w and returns its
// manifest. The snapshot goes to a scratch file first, because the
// manifest, written first, carries its checksum and size.
func (s *Service) Backup(ctx context.Context, w io.Writer) (Manifest, error) {
	schema, err := s.cfg.Store.SchemaVersion(ctx)
	if err != nil {
		return Manifest{}, fmt.Errorf("read schema version: %w", err)
	}
	tmp, err := os.CreateTemp(s.cfg.Dir, ".backup-*")
	if err != nil {
		return Manifest{}, fmt.Errorf("create backup scratch file: %w", err)
	}
	defer os.Remove(tmp.Name())
	defer tmp.Close()
	h := sha256.New()
	cw := &countWriter{w: io.MultiWriter(tmp, h)}
	if err := s.cfg.Store.Backup(ctx, cw); err != nil {
		return Manifest{}, err
	}
	m := Manifest{Format: Format, FormatVersion: FormatVersion, Schema: schema, Version: s.cfg.Version,
		NodeID: s.cfg.NodeID, NodeName: s.cfg.NodeName, Created: s.cfg.Now().UTC().Truncate(time.Second),
		Secrets: Secrets, StoreSHA256: hex.EncodeToString(h.Sum(nil)), StoreBytes: cw.n}
	if _, err := tmp.Seek(0, io.SeekStart); err != nil {
		return Manifest{}, fmt.Errorf("rewind backup scratch file: %w", err)
	}
	return m, writeArchive(w, m, tmp)
}

func writeArchive(w io.Writer, m Manifest, snapshot io.Reader) error {
	raw, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return fmt.Errorf("encode manifest: %w", err)
	}
	gz := gzip.NewWriter(w)
	tw := tar.NewWriter(gz)
	if err := tw.WriteHeader(&tar.Header{Name: manifestName, Mode: 0o600, Size: int64(len(raw)), ModTime: m.Created}); err != nil {
		return fmt.Errorf("write manifest header: %w", err)
	}
	if _, err := tw.Write(raw); err != nil {
		return fmt.Errorf("write manifest: %w", err)
	}
	if err := tw.WriteHeader(&tar.Header{Name: storeName, Mode: 0o600, Size: m.StoreBytes, ModTime: m.Created}); err != nil {
		return fmt.Errorf("write store header: %w", err)
	}
	if _, err := io.Copy(tw, snapshot); err != nil {
		return fmt.Errorf("write store snapshot: %w", err)
	}
	if err := tw.Close(); err != nil {
		return fmt.Errorf("close archive: %w", err)
	}
	if err := gz.Close(); err != nil {
		return fmt.Errorf("close archive: %w", err)
	}
	return nil
}

type countWriter struct {
	w io.Writer
	n int64
}

func (c *countWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n += int64(n)
	return n, err
}

// FileName is the download name of the archive m describes:
// edgeward-<node name>-<UTC time>.tar.gz, with anything but letters,
// digits, dot, dash and underscore in the node name dropped, so the name
// is safe in a Content-Disposition header and on any filesystem.
func FileName(m Manifest) string {
	node := strings.Map(func(r rune) rune {
		if r < 0x80 && (unicode.IsLetter(r) || unicode.IsDigit(r) || strings.ContainsRune("._-", r)) {
			return r
		}
		return -1
	}, m.NodeName)
	if node == "" {
		node = "node"
	}
	return "edgeward-" + node + "-" + m.Created.UTC().Format("20060102T150405Z") + ".tar.gz"
}
