package backup

import (
	"archive/tar"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/edgeward/edgeward/core/durable"

	"github.com/edgeward/edgeward/core"
)

// maxManifest bounds what is read of a manifest before it is trusted.
const maxManifest = 64 << 10

// Restore checks the archive read from r, stages it and asks for the
// restart that applies it (Config.Restart). It returns the archive's
// manifest once the new store is complete and synced beside the live one:
// from then on the restore happens even if the box loses power before it
// restarts. The live store is not touched.
//
// A file that is not an edgeward backup, is damaged or whose checksum does
// not match gives core.ErrInvalid; a newer archive format or schema than
// this binary runs gives core.ErrUnsupported; another restore in progress
// gives core.ErrBusy.
func (s *Service) Restore(ctx context.Context, r io.Reader) (Manifest, error) {
	if !s.restoring.TryLock() {
		return Manifest{}, core.Busy("another restore is in progress")
	}
	defer s.restoring.Unlock()
	m, err := s.stage(ctx, r)
	if err != nil {
		return Manifest{}, err
	}
	if s.cfg.Restart != nil {
		s.cfg.Restart()
	}
	return m, nil
}

// stage reads the archive into a checked scratch file, loads it into
// restore.tmp and renames that to restore.pending.
func (s *Service) stage(ctx context.Context, r io.Reader) (Manifest, error) {
	tmp, err := os.CreateTemp(s.cfg.Dir, ".restore-*")
	if err != nil {
		return Manifest{}, fmt.Errorf("create restore scratch file: %w", err)
	}
	defer os.Remove(tmp.Name())
	defer tmp.Close()
	m, err := s.read(r, tmp)
	if err != nil {
		return Manifest{}, err
	}
	if _, err := tmp.Seek(0, io.SeekStart); err != nil {
		return Manifest{}, fmt.Errorf("rewind restore scratch file: %w", err)
	}
	staging := filepath.Join(s.cfg.Dir, stagingName)
	if err := os.RemoveAll(staging); err != nil {
		return Manifest{}, fmt.Errorf("remove old staging store: %w", err)
	}
	schema, err := s.cfg.Load(ctx, staging, tmp)
	if err != nil {
		return Manifest{}, errors.Join(fmt.Errorf("load backup: %w", err), os.RemoveAll(staging))
	}
	if schema != m.Schema {
		_ = os.RemoveAll(staging)
		return Manifest{}, invalid("the store in the file is at schema %d, its manifest says %d", schema, m.Schema)
	}
	pending := filepath.Join(s.cfg.Dir, pendingName)
	if err := os.RemoveAll(pending); err != nil {
		return Manifest{}, fmt.Errorf("remove older staged restore: %w", err)
	}
	if err := os.Rename(staging, pending); err != nil {
		return Manifest{}, fmt.Errorf("stage restore: %w", err)
	}
	durable.SyncDir(s.cfg.Dir)
	return m, nil
}

// read checks the archive's manifest and copies its store snapshot to w,
// checking size and checksum.
func (s *Service) read(r io.Reader, w io.Writer) (Manifest, error) {
	gz, err := gzip.NewReader(r)
	if err != nil {
		return Manifest{}, invalid("not an edgeward backup (not a gzip archive)")
	}
	tr := tar.NewReader(gz)
	hdr, err := tr.Next()
	if err != nil || hdr.Name != manifestName || hdr.Size > maxManifest {
		return Manifest{}, invalid("not an edgeward backup (no %s first in the archive)", manifestName)
	}
	var m Manifest
	raw, err := io.ReadAll(io.LimitReader(tr, maxManifest))
	if err != nil {
		return Manifest{}, invalid("the backup is damaged or cut short")
	}
	if json.Unmarshal(raw, &m) != nil || m.Format != Format {
		return Manifest{}, invalid("not an edgeward backup (its manifest is not one)")
	}
	if err := s.check(m); err != nil {
		return Manifest{}, err
	}
	hdr, err = tr.Next()
	if err != nil || hdr.Name != storeName {
		return Manifest{}, invalid("the backup is damaged: no %s after the manifest", storeName)
	}
	h := sha256.New()
	n, err := io.Copy(io.MultiWriter(w, h), tr)
	if err != nil {
		if errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, gzip.ErrChecksum) || errors.Is(err, gzip.ErrHeader) {
			return Manifest{}, invalid("the backup is damaged or cut short")
		}
		return Manifest{}, fmt.Errorf("copy store snapshot: %w", err)
	}
	if n != m.StoreBytes || hex.EncodeToString(h.Sum(nil)) != m.StoreSHA256 {
		return Manifest{}, invalid("the backup is damaged: its store snapshot does not match the manifest's checksum")
	}
	return m, nil
}

// check refuses archives this binary cannot run.
func (s *Service) check(m Manifest) error {
	switch {
	case m.FormatVersion < 1 || m.FormatVersion > FormatVersion:
		return unsupported("backup format version %d: this edgeward reads up to %d; update edgeward first", m.FormatVersion, FormatVersion)
	case m.Schema < 1:
		return invalid("the backup's manifest has no schema version")
	case m.Schema > s.cfg.Schema:
		return unsupported("backup schema version %d is newer than this edgeward supports (%d); update edgeward first", m.Schema, s.cfg.Schema)
	case len(m.StoreSHA256) != sha256.Size*2 || m.StoreBytes < 0:
		return invalid("the backup's manifest has no store checksum")
	}
	return nil
}

// Apply makes a staged restore the store, if there is one, and reports
// whether it did. It must run while the store is closed (before Open). The
// live store moves to BeforeRestore (replacing an older one), then the
// staged one takes its place; a crash between the two renames is finished
// by the next Apply, so the result is the old store or the new, whole.
func Apply(dir, storeDir string) (bool, error) {
	pending := filepath.Join(dir, pendingName)
	if _, err := os.Stat(pending); errors.Is(err, os.ErrNotExist) {
		return false, nil
	} else if err != nil {
		return false, fmt.Errorf("look for a staged restore: %w", err)
	}
	if _, err := os.Stat(storeDir); err == nil {
		before := filepath.Join(dir, BeforeRestore)
		if err := os.RemoveAll(before); err != nil {
			return false, fmt.Errorf("remove the store kept by the last restore: %w", err)
		}
		if err := os.Rename(storeDir, before); err != nil {
			return false, fmt.Errorf("keep the replaced store: %w", err)
		}
	}
	if err := os.Rename(pending, storeDir); err != nil {
		return false, fmt.Errorf("apply staged restore: %w", err)
	}
	durable.SyncDir(dir)
	return true, nil
}

func invalid(format string, args ...any) error {
	return &core.Error{Kind: core.ErrInvalid, Field: "file", Msg: fmt.Sprintf(format, args...)}
}

func unsupported(format string, args ...any) error {
	return &core.Error{Kind: core.ErrUnsupported, Field: "file", Msg: fmt.Sprintf(format, args...)}
}
