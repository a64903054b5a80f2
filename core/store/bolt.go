package store

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"time"

	bolt "go.etcd.io/bbolt"
	bolterr "go.etcd.io/bbolt/errors"

	"github.com/edgeward/edgeward/core"
)

// boltFile is the store's file inside Options.Dir.
const boltFile = "edgeward.db"

// boltBucket holds every key: core.KV is one flat, ordered key space.
var boltBucket = []byte("kv")

// boltDB is the bbolt engine, for 32-bit targets. bbolt is a B+tree in one
// mmapped file: no background compaction, no value log, writers run one at
// a time. It has no TTLs, so each value carries its expiry (see
// encodeValue); reads skip expired keys and gc deletes them.
type boltDB struct {
	db  *bolt.DB
	log *slog.Logger
	// tmp is the directory an in-memory store lives in, removed on Close.
	tmp string
}

func openBolt(opts Options, log *slog.Logger) (engine, error) {
	dir, tmp := opts.Dir, ""
	if opts.InMemory {
		var err error
		if tmp, err = os.MkdirTemp("", "edgeward-store-"); err != nil {
			return nil, fmt.Errorf("open in-memory store: %w", err)
		}
		dir = tmp
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("open store %s: %w", dir, err)
	}
	bdb, err := bolt.Open(filepath.Join(dir, boltFile), 0o600, &bolt.Options{
		// bbolt waits for the file lock forever by default; a second
		// edgeward must fail fast instead.
		Timeout: 200 * time.Millisecond,
		// An in-memory store needs no fsync; the real one fsyncs each commit.
		NoSync: opts.InMemory,
		// The freelist is rebuilt on open instead of written on every
		// commit: fewer flash writes, and the file is small.
		NoFreelistSync: true,
		FreelistType:   bolt.FreelistMapType,
	})
	if err != nil {
		removeTmp(tmp)
		if errors.Is(err, bolterr.ErrTimeout) {
			return nil, core.Busy("store %s is in use by another edgeward process", opts.Dir)
		}
		return nil, fmt.Errorf("open store %s: %w", dir, err)
	}
	err = bdb.Update(func(btx *bolt.Tx) error {
		_, err := btx.CreateBucketIfNotExists(boltBucket)
		return err
	})
	if err != nil {
		_ = bdb.Close()
		removeTmp(tmp)
		return nil, fmt.Errorf("create bucket: %w", err)
	}
	return &boltDB{db: bdb, log: log, tmp: tmp}, nil
}

// restoreBolt writes a backup (a bbolt file) into opts.Dir, synced, and
// opens it. A stream that is not a bbolt file gives core.ErrInvalid.
func restoreBolt(opts Options, r io.Reader, log *slog.Logger) (engine, error) {
	if err := os.MkdirAll(opts.Dir, 0o700); err != nil {
		return nil, fmt.Errorf("restore store %s: %w", opts.Dir, err)
	}
	path := filepath.Join(opts.Dir, boltFile)
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return nil, fmt.Errorf("restore store %s: %w", opts.Dir, err)
	}
	_, err = io.Copy(f, r)
	err = errors.Join(err, f.Sync(), f.Close())
	if err != nil {
		return nil, errors.Join(fmt.Errorf("write backup into %s: %w", path, err), os.Remove(path))
	}
	eng, err := openBolt(opts, log)
	if errors.Is(err, bolterr.ErrInvalid) || errors.Is(err, bolterr.ErrVersionMismatch) || errors.Is(err, bolterr.ErrChecksum) {
		_ = os.Remove(path)
		return nil, &core.Error{Kind: core.ErrInvalid, Msg: "backup stream is not a bbolt store: was it made by a build with another store engine?"}
	}
	return eng, err
}

func removeTmp(dir string) {
	if dir != "" {
		_ = os.RemoveAll(dir)
	}
}

func (db *boltDB) Close() error {
	err := db.db.Close()
	removeTmp(db.tmp)
	return err
}

// Update commits with an fsync (bbolt's default). fn's error rolls back and
// is returned unchanged.
func (db *boltDB) Update(_ context.Context, fn func(core.Tx) error) error {
	var fnErr error
	err := db.db.Update(func(btx *bolt.Tx) error {
		fnErr = fn(&boltTx{b: btx.Bucket(boltBucket), now: time.Now()})
		return fnErr
	})
	if fnErr != nil {
		return fnErr
	}
	if err != nil {
		return fmt.Errorf("commit: %w", err)
	}
	return nil
}

func (db *boltDB) View(_ context.Context, fn func(core.Tx) error) error {
	return db.db.View(func(btx *bolt.Tx) error {
		return fn(&boltTx{b: btx.Bucket(boltBucket), now: time.Now()})
	})
}

// gc deletes expired keys, which reads already skip, so their space is
// reused. Sessions and greylist entries are the keys with TTLs.
func (db *boltDB) gc(ctx context.Context) bool {
	err := db.db.Update(func(btx *bolt.Tx) error {
		b, now := btx.Bucket(boltBucket), time.Now()
		var expired [][]byte
		c := b.Cursor()
		for k, v := c.First(); k != nil && ctx.Err() == nil; k, v = c.Next() {
			if _, ok := decodeValue(v, now); !ok {
				expired = append(expired, bytes.Clone(k))
			}
		}
		for _, k := range expired {
			if err := b.Delete(k); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil && ctx.Err() == nil {
		db.log.Warn("store sweep", "err", err)
	}
	return true
}

// backup writes a copy of the database file as of one read transaction.
func (db *boltDB) backup(w io.Writer) error {
	return db.db.View(func(btx *bolt.Tx) error {
		_, err := btx.WriteTo(w)
		return err
	})
}

// encodeValue prefixes val with its expiry in Unix nanoseconds, big
// endian; 0 means never.
func encodeValue(val []byte, expires time.Time) []byte {
	out := make([]byte, 8+len(val))
	if !expires.IsZero() {
		binary.BigEndian.PutUint64(out, uint64(expires.UnixNano()))
	}
	copy(out[8:], val)
	return out
}

// decodeValue returns the value in raw and whether it is still live.
func decodeValue(raw []byte, now time.Time) ([]byte, bool) {
	if len(raw) < 8 {
		return nil, false // not written by encodeValue: treat as gone
	}
	exp := binary.BigEndian.Uint64(raw)
	if exp != 0 && now.UnixNano() >= int64(exp) {
		return nil, false
	}
	return raw[8:], true
}
