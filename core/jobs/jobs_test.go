package jobs

import (
	"archive/tar"
	"compress/gzip"
	"context"
	"crypto/rand"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/edgeward/edgeward/core"
	"github.com/edgeward/edgeward/core/store"
	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

// peers is an in-memory stand-in for the overlay's peer registry.
type peers struct {
	mu  sync.Mutex
	ids map[string]bool
}

func (p *peers) Exists(id string) bool { p.mu.Lock(); defer p.mu.Unlock(); return p.ids[id] }
func (p *peers) drop(id string)        { p.mu.Lock(); defer p.mu.Unlock(); delete(p.ids, id) }

type fixture struct {
	db    *store.DB
	dir   string
	peers *peers
	cfg   Config
	svc   *Service
}

func newFixture(t *testing.T, sections ...Section) *fixture {
	t.Helper()
	f := &fixture{dir: t.TempDir(), peers: &peers{ids: map[string]bool{"p1": true, "p2": true}}}
	f.cfg = Config{
		Dir: filepath.Join(f.dir, "bundles"), Sections: sections, Minute: 10 * time.Millisecond,
		Logs: func(n int) [][]byte {
			out := [][]byte{}
			for i := range min(n, 3) {
				out = append(out, []byte("log chunk from 192.0.2.7 at host.example.com #"+string(rune('a'+i))+"\n"))
			}
			return out
		},
		Keep: []string{"ew.test"},
	}
	f.open(t)
	return f
}

func (f *fixture) open(t *testing.T) {
	t.Helper()
	db, err := store.Open(context.Background(), store.Options{Dir: filepath.Join(f.dir, "store")}, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	f.db = db
	if f.svc, err = New(context.Background(), db, f.peers, f.cfg); err != nil {
		t.Fatal(err)
	}
}

// runUntil runs the worker until cond holds or 10 s pass.
func (f *fixture) runUntil(t *testing.T, cond func() bool) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { f.svc.Run(ctx); close(done) }()
	defer func() { cancel(); <-done }()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("condition not reached in 10 s")
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func (f *fixture) status(t *testing.T, peer, id string) Job {
	t.Helper()
	j, err := f.svc.Get(context.Background(), peer, id)
	if err != nil {
		t.Fatal(err)
	}
	return j
}

func TestValidate(t *testing.T) {
	tests := []struct {
		name  string
		typ   string
		p     Params
		want  Params
		field string
	}{
		{"defaults", "bundle", Params{}, Params{LogFileCount: 10}, ""},
		{"window", "bundle", Params{BundleFor: true, BundleForTime: 5, LogFileCount: 1000}, Params{BundleFor: true, BundleForTime: 5, LogFileCount: 1000}, ""},
		{"unknown type", "reboot", Params{}, Params{LogFileCount: 10}, "workload.type"},
		{"log count high", "bundle", Params{LogFileCount: 1001}, Params{LogFileCount: 1001}, "workload.parameters.log_file_count"},
		{"log count negative", "bundle", Params{LogFileCount: -1}, Params{LogFileCount: -1}, "workload.parameters.log_file_count"},
		{"window without time", "bundle", Params{BundleFor: true}, Params{BundleFor: true, LogFileCount: 10}, "workload.parameters.bundle_for_time"},
		{"window too long", "bundle", Params{BundleFor: true, BundleForTime: 6}, Params{BundleFor: true, BundleForTime: 6, LogFileCount: 10}, "workload.parameters.bundle_for_time"},
		// As the original: the time is only checked when it is used, so
		// NetBird's client, which always sends it (0 without a window), works.
		{"zero time without window", "bundle", Params{BundleForTime: 0, LogFileCount: 3}, Params{LogFileCount: 3}, ""},
		{"time without window unchecked", "bundle", Params{BundleForTime: 9}, Params{BundleForTime: 9, LogFileCount: 10}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := tt.p
			err := Validate(tt.typ, &p)
			if diff := cmp.Diff(tt.want, p); diff != "" {
				t.Errorf("params (-want +got):\n%s", diff)
			}
			var ve *core.ValidationError
			switch {
			case tt.field == "" && err != nil:
				t.Fatalf("err = %v", err)
			case tt.field != "" && (!errors.As(err, &ve) || ve.Fields[0].Field != tt.field):
				t.Fatalf("err = %v, want field %s", err, tt.field)
			}
		})
	}
}

func TestBundleJob(t *testing.T) {
	var mu sync.Mutex
	calls := map[string]int{}
	sec := func(name string, atStart bool, body string) Section {
		return Section{Name: name, AtStart: atStart, Collect: func(_ context.Context, peer string) ([]byte, error) {
			mu.Lock()
			calls[name]++
			mu.Unlock()
			return []byte(strings.ReplaceAll(body, "PEER", peer)), nil
		}}
	}
	f := newFixture(t, sec("peer.json", false, `{"id":"PEER","ip":"100.64.0.9","fqdn":"a.ew.test"}`),
		sec("interfaces.json", true, `{"addr":"2001:db8::5"}`))
	ctx := context.Background()
	j, err := f.svc.Create(ctx, "p1", TypeBundle, Params{Anonymize: true, BundleFor: true, BundleForTime: 2, LogFileCount: 2}, "tok")
	if err != nil {
		t.Fatal(err)
	}
	if j.Status != StatusPending || j.TriggeredBy != "tok" || j.PeerID != "p1" {
		t.Fatalf("created job = %+v", j)
	}
	if _, err := f.svc.Create(ctx, "p1", TypeBundle, Params{}, "tok"); !errors.Is(err, core.ErrConflict) {
		t.Fatalf("second pending job: err = %v, want ErrConflict", err)
	}
	if _, err := f.svc.Create(ctx, "nope", TypeBundle, Params{}, "tok"); !errors.Is(err, core.ErrNotFound) {
		t.Fatalf("unknown peer: err = %v", err)
	}
	f.runUntil(t, func() bool { return f.status(t, "p1", j.ID).Status != StatusPending })
	done := f.status(t, "p1", j.ID)
	if done.Status != StatusSucceeded || done.UploadKey == "" || done.CompletedAt.IsZero() || done.FailedReason != "" {
		t.Fatalf("finished job = %+v", done)
	}
	if d := done.CompletedAt.Sub(done.CreatedAt); d < 20*time.Millisecond {
		t.Errorf("a 2-minute window (10 ms minutes) finished after %s", d)
	}
	files := readBundle(t, f.svc, done.UploadKey)
	names := []string{}
	for n := range files {
		names = append(names, n)
	}
	want := []string{"interfaces.json", "logs/edgeward.001.log", "logs/edgeward.002.log", "manifest.json", "peer.json", "window-start/interfaces.json"}
	if diff := cmp.Diff(want, sorted(names)); diff != "" {
		t.Errorf("bundle files (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(`{"id":"p1","ip":"198.18.0.1","fqdn":"a.ew.test"}`, files["peer.json"]); diff != "" {
		t.Errorf("anonymized peer.json (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff("log chunk from 198.18.0.2 at domain-1.example #a\n", files["logs/edgeward.001.log"]); diff != "" {
		t.Errorf("anonymized log (-want +got):\n%s", diff)
	}
	if files["window-start/interfaces.json"] != `{"addr":"2001:db8:ffff::1"}` {
		t.Errorf("interfaces at window start = %s", files["window-start/interfaces.json"])
	}
	if calls["interfaces.json"] != 2 || calls["peer.json"] != 1 {
		t.Errorf("collect calls = %v, want interfaces twice and peer once", calls)
	}
	list, err := f.svc.List(ctx, "p1")
	if err != nil || len(list) != 1 || list[0].ID != j.ID {
		t.Fatalf("List = %v, %v", list, err)
	}
	// The hash half of the key must match the file.
	bad := strings.Repeat("0", 64) + done.UploadKey[64:]
	if _, _, err := f.svc.Open(bad); !errors.Is(err, core.ErrNotFound) {
		t.Errorf("Open with a wrong hash: err = %v", err)
	}
	for _, k := range []string{"", "x/y", done.UploadKey[:64] + "/../../store", done.UploadKey + "x"} {
		if _, _, err := f.svc.Open(k); !errors.Is(err, core.ErrNotFound) {
			t.Errorf("Open(%q): err = %v, want ErrNotFound", k, err)
		}
	}
	// Forgetting the peer removes its jobs and bundle.
	f.peers.drop("p1")
	f.svc.Forget(ctx, "p1")
	if _, _, err := f.svc.Open(done.UploadKey); !errors.Is(err, core.ErrNotFound) {
		t.Errorf("bundle still there after Forget: %v", err)
	}
	entries, _ := os.ReadDir(f.cfg.Dir)
	if len(entries) != 0 {
		t.Errorf("bundle dir holds %d files after Forget", len(entries))
	}
}

func TestFailedSectionFailsJob(t *testing.T) {
	f := newFixture(t, Section{Name: "x", Collect: func(context.Context, string) ([]byte, error) {
		return nil, errors.New("disk on fire")
	}})
	j, err := f.svc.Create(context.Background(), "p2", TypeBundle, Params{}, "tok")
	if err != nil {
		t.Fatal(err)
	}
	f.runUntil(t, func() bool { return f.status(t, "p2", j.ID).Status != StatusPending })
	got := f.status(t, "p2", j.ID)
	if got.Status != StatusFailed || got.FailedReason != "collect x: disk on fire" || got.UploadKey != "" {
		t.Fatalf("job = %+v", got)
	}
	// A finished job frees the peer for the next one.
	if _, err := f.svc.Create(context.Background(), "p2", TypeBundle, Params{}, "tok"); err != nil {
		t.Fatalf("new job after a failed one: %v", err)
	}
}

func TestPendingJobSurvivesRestart(t *testing.T) {
	f := newFixture(t)
	j, err := f.svc.Create(context.Background(), "p1", TypeBundle, Params{}, "tok")
	if err != nil {
		t.Fatal(err)
	}
	if err := f.db.Close(); err != nil {
		t.Fatal(err)
	}
	f.open(t)
	if _, err := f.svc.Create(context.Background(), "p1", TypeBundle, Params{}, "tok"); !errors.Is(err, core.ErrConflict) {
		t.Fatalf("pending job not known after restart: %v", err)
	}
	f.runUntil(t, func() bool { return f.status(t, "p1", j.ID).Status == StatusSucceeded })
}

func TestQueueFull(t *testing.T) {
	f := newFixture(t)
	f.svc.cfg.MaxQueue = 1
	if _, err := f.svc.Create(context.Background(), "p1", TypeBundle, Params{}, "tok"); err != nil {
		t.Fatal(err)
	}
	if _, err := f.svc.Create(context.Background(), "p2", TypeBundle, Params{}, "tok"); !errors.Is(err, core.ErrBusy) {
		t.Fatalf("err = %v, want ErrBusy", err)
	}
}

func readBundle(t *testing.T, s *Service, key string) map[string]string {
	t.Helper()
	f, size, err := s.Open(key)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if size == 0 {
		t.Fatal("empty bundle")
	}
	zr, err := gzip.NewReader(f)
	if err != nil {
		t.Fatal(err)
	}
	tr := tar.NewReader(zr)
	out := map[string]string{}
	for {
		h, err := tr.Next()
		if err == io.EOF {
			return out
		}
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(tr)
		out[h.Name[strings.Index(h.Name, "/")+1:]] = string(b)
	}
}

func sorted(s []string) []string {
	out := append([]string(nil), s...)
	for i := range out {
		for j := i + 1; j < len(out); j++ {
			if out[j] < out[i] {
				out[i], out[j] = out[j], out[i]
			}
		}
	}
	return out
}

// bundleFiles lists the bundles on disk.
func bundleFiles(t *testing.T, dir string) []string {
	t.Helper()
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range ents {
		if strings.HasSuffix(e.Name(), ".tar.gz") {
			names = append(names, e.Name())
		}
	}
	return names
}

// Bundles stay within the quota: the oldest go to make room, one larger
// than the quota is refused, and none is written into the reserve.
func TestBundleQuota(t *testing.T) {
	f := newFixture(t)
	f.svc.cfg.Quota = 25 << 10
	noise := func() []file {
		b := make([]byte, 10<<10)
		_, _ = rand.Read(b) // incompressible: each bundle is just over 10 KiB
		return []file{{"noise.bin", b}}
	}
	var keys []string
	for range 4 {
		key, err := f.svc.write("j", noise())
		if err != nil {
			t.Fatal(err)
		}
		keys = append(keys, key)
	}
	// Two fit in 25 KiB: the last two, newest kept.
	var want []string
	for _, k := range keys[2:] {
		_, id, _ := strings.Cut(k, "/")
		want = append(want, id+".tar.gz")
	}
	got := bundleFiles(t, f.cfg.Dir)
	if diff := cmp.Diff(want, got, cmpopts.SortSlices(func(a, b string) bool { return a < b })); diff != "" {
		t.Errorf("bundles kept (-want +got):\n%s", diff)
	}
	f.svc.cfg.Quota = 4 << 10
	if _, err := f.svc.write("j", noise()); !errors.Is(err, core.ErrNoSpace) || !strings.Contains(err.Error(), "bundle quota") {
		t.Errorf("bundle over the whole quota: %v, want ErrNoSpace naming the quota", err)
	}
	f.svc.cfg.Quota, f.svc.cfg.Reserve = 0, 1<<62
	if _, err := f.svc.write("j", noise()); !errors.Is(err, core.ErrNoSpace) || !strings.Contains(err.Error(), "reserve") {
		t.Errorf("bundle into the reserve: %v, want ErrNoSpace naming the reserve", err)
	}
	if n := len(bundleFiles(t, f.cfg.Dir)); n != 2 {
		t.Errorf("%d bundles after the refusals, want the 2 kept", n)
	}
}
