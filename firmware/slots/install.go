package slots

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"github.com/edgeward/edgeward/core/durable"

	"aead.dev/minisign"

	"github.com/edgeward/edgeward/core"
)

// MaxSize is the largest update accepted: several times an edgeward
// binary, far less than a router's flash.
const MaxSize = 128 << 20

// Installed is what Install reports.
type Installed struct {
	Slot    string `json:"slot"`
	SHA256  string `json:"sha256"`
	Size    int64  `json:"size"`
	Version string `json:"version"`
}

func invalid(field, format string, args ...any) error {
	return &core.Error{Kind: core.ErrInvalid, Field: field, Msg: field + ": " + fmt.Sprintf(format, args...)}
}

// Install streams body into the inactive slot while hashing it, checks
// the minisign signature sig (prehashed, as minisign -S makes by
// default) and, when wantSHA is not empty, its SHA-256, fsyncs it, asks
// the new binary its version, and puts the slot on trial: the next start
// of the launcher runs it. Anything refused leaves the slots and the
// state as they were. Errors: core.ErrPermission without a key,
// core.ErrBusy while another upload runs, core.ErrConflict while a
// trial is pending, core.ErrInvalid (field "signature", "sha256" or
// "file") for a refused upload.
func (s *Slots) Install(ctx context.Context, body io.Reader, sig []byte, wantSHA string) (Installed, error) {
	if s.cfg.Key == nil {
		return Installed{}, &core.Error{Kind: core.ErrPermission,
			Msg: "updates are off: no update public key is configured (--update-key or a built-in key)"}
	}
	if !s.install.TryLock() {
		return Installed{}, core.Busy("another update is being uploaded")
	}
	defer s.install.Unlock()
	var parsed minisign.Signature
	if len(sig) == 0 {
		return Installed{}, invalid("signature", "missing: send the minisign signature of the file")
	}
	if err := parsed.UnmarshalText(sig); err != nil {
		return Installed{}, invalid("signature", "not a minisign signature")
	}
	if parsed.KeyID != s.cfg.Key.ID() {
		return Installed{}, invalid("signature", "made with key %X, this box trusts key %X", parsed.KeyID, s.cfg.Key.ID())
	}
	st, err := s.State()
	if err != nil {
		return Installed{}, err
	}
	if st.Trial != "" {
		return Installed{}, core.Conflict("slot %s is on trial: wait until it commits or rolls back", st.Trial)
	}
	slot := inactive(st)
	dst := s.Binary(slot)
	tmp, sum, size, err := s.receive(ctx, filepath.Dir(dst), body, sig)
	if err != nil {
		return Installed{}, err
	}
	defer os.Remove(tmp) // a no-op after the rename
	if wantSHA != "" && !strings.EqualFold(wantSHA, sum) {
		return Installed{}, invalid("sha256", "the file's SHA-256 is %s, not %s", sum, wantSHA)
	}
	ver, err := probe(ctx, tmp)
	if err != nil {
		return Installed{}, invalid("file", "signed, but it does not run on this box: %v", err)
	}
	if err := os.Rename(tmp, dst); err != nil {
		return Installed{}, fmt.Errorf("rename into slot %s: %w", slot, err)
	}
	durable.SyncDir(filepath.Dir(dst))
	_, err = s.change(func(st *State) error {
		st.Trial, st.Attempts, st.Deadline, st.RolledBack = slot, 0, time.Time{}, ""
		st.RequireFirewall = s.cfg.FirewallUp != nil && s.cfg.FirewallUp()
		if st.Versions == nil {
			st.Versions, st.SHA256 = map[string]string{}, map[string]string{}
		}
		st.Versions[slot], st.SHA256[slot] = ver, sum
		st.Updated = s.cfg.Now()
		return nil
	})
	if err != nil {
		return Installed{}, err
	}
	return Installed{Slot: slot, SHA256: sum, Size: size, Version: ver}, nil
}

// receive writes body to a temporary file in dir, fsyncs it and checks
// sig over what it read. The file is removed unless it is returned.
func (s *Slots) receive(ctx context.Context, dir string, body io.Reader, sig []byte) (string, string, int64, error) {
	f, err := os.CreateTemp(dir, ".upload-*")
	if err != nil {
		return "", "", 0, fmt.Errorf("create upload file: %w", err)
	}
	ok := false
	defer func() {
		if !ok {
			f.Close()
			os.Remove(f.Name())
		}
	}()
	mr := minisign.NewReader(io.LimitReader(core.ContextReader(ctx, body), MaxSize+1))
	h := sha256.New()
	size, err := io.Copy(io.MultiWriter(f, h), mr)
	if err != nil {
		return "", "", 0, fmt.Errorf("receive update: %w", err)
	}
	if size > MaxSize {
		return "", "", 0, invalid("file", "larger than %d bytes", MaxSize)
	}
	if size == 0 {
		return "", "", 0, invalid("file", "empty")
	}
	if !mr.Verify(*s.cfg.Key, sig) {
		return "", "", 0, invalid("signature", "does not match the file: it was changed after signing or signed by another key")
	}
	if err := f.Chmod(0o755); err != nil {
		return "", "", 0, fmt.Errorf("chmod upload: %w", err)
	}
	if err := f.Sync(); err != nil {
		return "", "", 0, fmt.Errorf("sync upload: %w", err)
	}
	if err := f.Close(); err != nil {
		return "", "", 0, fmt.Errorf("close upload: %w", err)
	}
	ok = true
	return f.Name(), hex.EncodeToString(h.Sum(nil)), size, nil
}

// probe runs "BIN version", which also proves the binary is for this
// CPU, and returns what it printed.
func probe(ctx context.Context, bin string) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, bin, "version").Output()
	if err != nil {
		return "", err
	}
	v := strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(string(out)), "edgeward"))
	if v == "" || strings.ContainsAny(v, "\n\r") {
		return "", fmt.Errorf("version printed %q", out)
	}
	return v, nil
}
