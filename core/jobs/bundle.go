package jobs

import (
	"archive/tar"
	"compress/gzip"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/edgeward/edgeward/core/anonymize"
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

// write stores the files as a tar.gz, fsynced, under a random name, and
// returns "<sha256 of the file>/<uuid>".
func (s *Service) write(jobID string, files []file) (string, error) {
	if err := os.MkdirAll(s.cfg.Dir, 0o700); err != nil {
		return "", fmt.Errorf("create bundle dir: %w", err)
	}
	id, err := newUUID()
	if err != nil {
		return "", err
	}
	final := filepath.Join(s.cfg.Dir, id+".tar.gz")
	f, err := os.OpenFile(final+".tmp", os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o600)
	if err != nil {
		return "", fmt.Errorf("create bundle: %w", err)
	}
	defer os.Remove(final + ".tmp")
	h := sha256.New()
	if err := writeTarGz(io.MultiWriter(f, h), "edgeward-bundle-"+jobID, files, s.cfg.Now()); err != nil {
		f.Close()
		return "", err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return "", fmt.Errorf("sync bundle: %w", err)
	}
	if err := f.Close(); err != nil {
		return "", fmt.Errorf("close bundle: %w", err)
	}
	if err := os.Rename(final+".tmp", final); err != nil {
		return "", fmt.Errorf("place bundle: %w", err)
	}
	return hex.EncodeToString(h.Sum(nil)) + "/" + id, nil
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
