package jobs

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/edgeward/edgeward/core"
	"github.com/edgeward/edgeward/core/anonymize"
	"github.com/edgeward/edgeward/core/durable"
)

// Section is one part of a bundle.
type Section struct {
	// Name is the file name inside the bundle, e.g. "interfaces.json".
	Name string
	// AtStart also takes a snapshot when a bundle_for window opens, for
	// sections whose change over the window tells something (counters).
	AtStart bool
	Collect func(ctx context.Context, peerID string) ([]byte, error)
}

type file struct {
	name string
	data []byte
}

// build gathers the bundle of job j and writes it; it returns the upload key.
func (s *Service) build(ctx context.Context, j Job) (string, error) {
	var files []file
	if j.Params.BundleFor {
		start, err := s.collect(ctx, j.PeerID, "window-start/", true)
		if err != nil {
			return "", err
		}
		files = append(files, start...)
		if err := s.waitWindow(ctx, j.Params.BundleForTime); err != nil {
			return "", err
		}
	}
	end, err := s.collect(ctx, j.PeerID, "", false)
	if err != nil {
		return "", err
	}
	files = append(files, end...)
	if s.cfg.Logs != nil {
		for i, chunk := range s.cfg.Logs(j.Params.LogFileCount) {
			files = append(files, file{fmt.Sprintf("logs/edgeward.%03d.log", i+1), chunk})
		}
	}
	manifest, err := json.MarshalIndent(map[string]any{
		"job_id": j.ID, "peer_id": j.PeerID, "created_at": s.cfg.Now().UTC(),
		"anonymized": j.Params.Anonymize, "bundle_for_minutes": j.Params.BundleForTime,
		"log_chunks": j.Params.LogFileCount,
	}, "", "  ")
	if err != nil {
		return "", fmt.Errorf("encode manifest: %w", err)
	}
	files = append([]file{{"manifest.json", manifest}}, files...)
	if j.Params.Anonymize {
		a := anonymize.New(s.cfg.Keep)
		for i := range files {
			files[i].data = a.Bytes(files[i].data)
		}
	}
	return s.write(j.ID, files)
}

func (s *Service) collect(ctx context.Context, peerID, prefix string, atStart bool) ([]file, error) {
	var out []file
	for _, sec := range s.cfg.Sections {
		if atStart && !sec.AtStart {
			continue
		}
		data, err := sec.Collect(ctx, peerID)
		if err != nil {
			return nil, fmt.Errorf("collect %s: %w", sec.Name, err)
		}
		out = append(out, file{prefix + sec.Name, data})
	}
	return out, nil
}

// write stores the files as a tar.gz under a random name and returns
// "<sha256 of the file>/<uuid>". The file is durable, directory entry
// included, before the job that names it is stored as succeeded.
func (s *Service) write(jobID string, files []file) (string, error) {
	if err := os.MkdirAll(s.cfg.Dir, 0o700); err != nil {
		return "", fmt.Errorf("create bundle dir: %w", err)
	}
	id, err := newUUID()
	if err != nil {
		return "", err
	}
	// The files are in memory already; their compressed form is smaller.
	var buf bytes.Buffer
	if err := writeTarGz(&buf, "edgeward-bundle-"+jobID, files, s.cfg.Now()); err != nil {
		return "", err
	}
	if err := s.makeRoom(int64(buf.Len())); err != nil {
		return "", err
	}
	if err := durable.WriteFile(filepath.Join(s.cfg.Dir, id+".tar.gz"), buf.Bytes(), 0o600); err != nil {
		return "", fmt.Errorf("store bundle: %w", durable.NoSpace(err))
	}
	sum := sha256.Sum256(buf.Bytes())
	return hex.EncodeToString(sum[:]) + "/" + id, nil
}

func writeTarGz(w io.Writer, dir string, files []file, now time.Time) error {
	gz := gzip.NewWriter(w)
	tw := tar.NewWriter(gz)
	for _, f := range files {
		hdr := &tar.Header{Name: dir + "/" + f.name, Mode: 0o600, Size: int64(len(f.data)), ModTime: now}
		if err := tw.WriteHeader(hdr); err != nil {
			return fmt.Errorf("write bundle header %s: %w", f.name, err)
		}
		if _, err := tw.Write(f.data); err != nil {
			return fmt.Errorf("write bundle file %s: %w", f.name, err)
		}
	}
	if err := tw.Close(); err != nil {
		return fmt.Errorf("close bundle tar: %w", err)
	}
	if err := gz.Close(); err != nil {
		return fmt.Errorf("close bundle gzip: %w", err)
	}
	return nil
}

func fileSum(r io.Reader) (string, error) {
	h := sha256.New()
	if _, err := io.Copy(h, r); err != nil {
		return "", fmt.Errorf("hash bundle: %w", err)
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

func newUUID() (string, error) {
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", fmt.Errorf("read random id: %w", err)
	}
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	x := hex.EncodeToString(b[:])
	return x[0:8] + "-" + x[8:12] + "-" + x[12:16] + "-" + x[16:20] + "-" + x[20:], nil
}

// makeRoom removes the oldest bundles until one of size more fits in the
// quota, then checks that writing it leaves the reserve free. A bundle
// larger than the whole quota is refused. So bundles never fill the data
// filesystem the store needs.
func (s *Service) makeRoom(size int64) error {
	if s.cfg.Quota > 0 {
		if size > s.cfg.Quota {
			return core.NoSpace("the bundle (%d bytes) is larger than the bundle quota (%d bytes)", size, s.cfg.Quota)
		}
		if err := s.prune(s.cfg.Quota - size); err != nil {
			return err
		}
	}
	return durable.Space{Dir: s.cfg.Dir, Reserve: s.cfg.Reserve}.CheckFor(uint64(size))
}

// prune removes the oldest bundles until those left take at most keep bytes.
func (s *Service) prune(keep int64) error {
	ents, err := os.ReadDir(s.cfg.Dir)
	if err != nil {
		return fmt.Errorf("list bundles: %w", err)
	}
	type bundle struct {
		path string
		size int64
		mod  time.Time
	}
	var all []bundle
	var total int64
	for _, e := range ents {
		if !e.Type().IsRegular() || !strings.HasSuffix(e.Name(), ".tar.gz") {
			continue
		}
		fi, err := e.Info()
		if err != nil {
			continue // removed meanwhile
		}
		all = append(all, bundle{filepath.Join(s.cfg.Dir, e.Name()), fi.Size(), fi.ModTime()})
		total += fi.Size()
	}
	slices.SortFunc(all, func(a, b bundle) int { return a.mod.Compare(b.mod) })
	for _, b := range all {
		if total <= keep {
			break
		}
		if err := os.Remove(b.path); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("remove old bundle: %w", err)
		}
		total -= b.size
		s.cfg.Log.Info("old bundle removed to stay within the bundle quota", "path", b.path, "bytes", b.size, "quota", s.cfg.Quota)
	}
	return nil
}
