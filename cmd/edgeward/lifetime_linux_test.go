package main

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"runtime/pprof"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/edgeward/edgeward/core"
	"github.com/edgeward/edgeward/core/logring"
	"github.com/edgeward/edgeward/core/store"
)

// watchedStore is the real store with a hook that runs when serve closes
// it, and a record of every use after that.
type watchedStore struct {
	*store.DB
	atClose func()

	mu     sync.Mutex
	closed bool
	late   []string // uses after Close
}

func (w *watchedStore) use(what string) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.closed {
		w.late = append(w.late, what)
	}
}

func (w *watchedStore) Update(ctx context.Context, fn func(core.Tx) error) error {
	w.use("Update")
	return w.DB.Update(ctx, fn)
}

func (w *watchedStore) View(ctx context.Context, fn func(core.Tx) error) error {
	w.use("View")
	return w.DB.View(ctx, fn)
}

func (w *watchedStore) Close() error {
	w.atClose()
	w.mu.Lock()
	w.closed = true
	w.mu.Unlock()
	return w.DB.Close()
}

// messages returns the log's records as message → the record's fields.
func (l *logBuf) messages() map[string]map[string]any {
	out := map[string]map[string]any{}
	for line := range strings.Lines(l.String()) {
		var rec map[string]any
		if json.Unmarshal([]byte(line), &rec) == nil {
			msg, _ := rec["msg"].(string)
			out[msg] = rec
		}
	}
	return out
}

var workerLabel = regexp.MustCompile(`"worker":"([^"]+)"`)

// workerGoroutines counts the live goroutines labelled worker=<name> (the
// workers serve starts, and any goroutine they started), by name, with
// their stacks for the failure message.
func workerGoroutines(t *testing.T) (map[string]int, string) {
	t.Helper()
	var b bytes.Buffer
	if err := pprof.Lookup("goroutine").WriteTo(&b, 1); err != nil {
		t.Fatal(err)
	}
	counts := map[string]int{}
	var stacks strings.Builder
	for rec := range strings.SplitSeq(b.String(), "\n\n") {
		m := workerLabel.FindStringSubmatch(rec)
		if m == nil {
			continue
		}
		n, _ := strconv.Atoi(strings.Fields(rec)[0])
		counts[m[1]] += n
		stacks.WriteString(rec + "\n\n")
	}
	return counts, stacks.String()
}

// TestShutdownWaitsForBackgroundWork runs the appliance in process with
// its kernel side in a fresh namespace (firewall, WireGuard device, DNS,
// managed links), waits until every background worker runs, shuts it down
// and checks, at the moment the store closes, that no worker goroutine is
// left, that the kernel handles are closed and the API no longer accepts.
func TestShutdownWaitsForBackgroundWork(t *testing.T) {
	ns := netns(t)
	dir := t.TempDir()
	iface := uniqueIface()
	t.Cleanup(func() { os.Remove("/var/run/wireguard/" + iface + ".sock") })
	var logs logBuf
	cfg, err := parseServe([]string{"--listen", "127.0.0.1:0", "--data", dir, "--netns", ns, "--wg-interface", iface,
		"--manage-links", "--bundle-minute", "200ms"}, &logs, func(string) (string, bool) { return "", false })
	if err != nil {
		t.Fatal(err)
	}
	log := slog.New(slog.NewJSONHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	db, err := store.Open(context.Background(), store.Options{Dir: storeDir(dir)}, migrations)
	if err != nil {
		t.Fatal(err)
	}
	var (
		closes   int
		atClose  map[string]int
		stacks   string
		accepted error // a dial of the API at Close; nil: it still accepted
		kernel   bool  // the kernel handles were closed before the store
	)
	var addr string
	ws := &watchedStore{DB: db, atClose: func() {
		closes++
		atClose, stacks = workerGoroutines(t)
		_, kernel = logs.messages()["kernel handles closed"]
		c, err := net.Dial("tcp", addr)
		if err == nil {
			c.Close()
		}
		accepted = err
	}}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- serveStore(ctx, cfg, ws, log, logring.New(64<<10, cfg.LogChunks), nil) }()

	want := []string{"acl", "dataplane", "jobs", "links", "overlay-sweep", "store-gc", "traffic"}
	// The data plane's worker runs only with a WireGuard device.
	eventually(t, "every worker running", func() bool {
		counts, _ := workerGoroutines(t)
		for _, w := range want {
			if counts[w] == 0 {
				return false
			}
		}
		rec := logs.messages()["serving"]
		addr, _ = rec["addr"].(string)
		return addr != ""
	})
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("serve: %v", err)
		}
	case <-time.After(time.Minute):
		t.Fatal("serve did not return a minute after its context ended")
	}
	if closes != 1 {
		t.Fatalf("store closed %d times, want once", closes)
	}
	if len(atClose) != 0 {
		t.Errorf("worker goroutines still running when the store closed: %v\n%s", atClose, stacks)
	}
	if !kernel {
		t.Error("the store closed before the kernel handles")
	}
	if accepted == nil {
		t.Error("the API still accepted connections when the store closed")
	}
	ws.mu.Lock()
	late := slices.Clone(ws.late)
	ws.mu.Unlock()
	if len(late) > 0 {
		t.Errorf("store used after Close: %v", late)
	}
	if counts, stacks := workerGoroutines(t); len(counts) != 0 {
		t.Errorf("worker goroutines left after serve returned: %v\n%s", counts, stacks)
	}
	if _, err := os.Stat(filepath.Join("/var/run/wireguard", iface+".sock")); err == nil {
		t.Error("the WireGuard device's UAPI socket is still there after serve returned")
	}
}
