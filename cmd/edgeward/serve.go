package main

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"runtime/pprof"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/edgeward/edgeward/core"
	"github.com/edgeward/edgeward/core/acl"
	"github.com/edgeward/edgeward/core/admin"
	"github.com/edgeward/edgeward/core/auth"
	"github.com/edgeward/edgeward/core/backup"
	"github.com/edgeward/edgeward/core/dataplane"
	"github.com/edgeward/edgeward/core/durable"
	"github.com/edgeward/edgeward/core/events"
	"github.com/edgeward/edgeward/core/identity"
	"github.com/edgeward/edgeward/core/jobs"
	"github.com/edgeward/edgeward/core/logring"
	"github.com/edgeward/edgeward/core/netstat"
	"github.com/edgeward/edgeward/core/overlay"
	"github.com/edgeward/edgeward/core/p2pid"
	"github.com/edgeward/edgeward/core/store"
	"github.com/edgeward/edgeward/firmware/slots"
	"github.com/edgeward/edgeward/hw/sysinfo"
	"github.com/edgeward/edgeward/web"
	"github.com/gofiber/fiber/v2"
)

// migrations upgrade stores written by older binaries. Schema 1 is the
// first; a change to a stored record's shape adds an entry here.
var migrations []store.Migration

// storeDir is where the store lives inside the data directory.
func storeDir(data string) string { return filepath.Join(data, "store") }

// serve runs the appliance until ctx is done, then shuts it down (see
// serveStore).
func serve(ctx context.Context, cfg config, stderr io.Writer) error {
	tuneMemory()
	ring := logring.New(64<<10, cfg.LogChunks)
	log, closeLog := newLogger(cfg, io.MultiWriter(stderr, ring))
	defer closeLog()
	if err := os.MkdirAll(cfg.Data, 0o700); err != nil {
		return fmt.Errorf("create data dir: %w", err)
	}
	nofile := raiseFileLimit(log)
	cfg.MaxConns = connLimits(cfg, nofile).Total
	for {
		again, err := serveOnce(ctx, cfg, log, ring)
		if err != nil || !again {
			return err
		}
		log.Info("restarting to apply a restore")
	}
}

// serveOnce applies a staged restore if there is one, opens the store and
// runs the appliance until ctx is done or a restore asks for a restart,
// which it reports. Services cache what they load at start, so a restore
// is applied only here, with the whole appliance stopped: every service is
// then built again from the restored store.
func serveOnce(ctx context.Context, cfg config, log *slog.Logger, ring *logring.Ring) (restart bool, err error) {
	applied, err := backup.Apply(cfg.Data, storeDir(cfg.Data))
	if err != nil {
		return false, err
	}
	if applied {
		log.Info("restore applied", "replaced_store_kept_in", filepath.Join(cfg.Data, backup.BeforeRestore))
	}
	db, err := store.Open(ctx, store.Options{Dir: storeDir(cfg.Data), Logger: log.With("component", "core/store"),
		Reserve: uint64(cfg.DiskReserve)}, migrations)
	if err != nil {
		return false, err
	}
	sctx, stop := context.WithCancel(ctx)
	defer stop()
	var asked atomic.Bool
	err = serveStore(sctx, cfg, db, log, ring, func() { asked.Store(true); stop() })
	return err == nil && asked.Load() && ctx.Err() == nil, err
}

// appStore is the store as serve uses it: the services' KV, its value
// log GC, and Close.
type appStore interface {
	core.KV
	backup.Store
	RunGC(ctx context.Context, every time.Duration)
	Close() error
}

// serveStore runs the appliance on db until ctx is done, then shuts down
// in this order: stop accepting requests and let those in flight finish
// (within ShutdownTimeout), cancel the background work and wait for all
// of it, close the kernel handles (firewall, WireGuard device, DNS, NICs),
// close db. So no worker ever meets a closed store or kernel handle.
// reload is what a staged restore calls (see serveOnce); nil leaves the
// restore for the next start.
func serveStore(ctx context.Context, cfg config, db appStore, log *slog.Logger, ring *logring.Ring, reload func()) (err error) {
	defer func() { err = errors.Join(err, db.Close()) }()
	// An installed update ends the process the way a signal does; its
	// launcher (run-slot) then starts the new version.
	ctx, restart := context.WithCancel(ctx)
	defer restart()
	a, err := wire(ctx, cfg, db, log, ring, restart, reload)
	if err != nil {
		return err
	}
	defer a.stopRequests()
	defer func() {
		a.closeKernel()
		log.Info("kernel handles closed")
	}()
	tc, err := tlsConfig(cfg, log)
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", cfg.Listen)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", cfg.Listen, err)
	}
	// Limited below TLS: a refused connection costs no handshake.
	ln = limitListener(ln, connLimits(cfg, 0), log)
	scheme := "http"
	if tc != nil {
		// The pages see a *tls.Conn: Secure, __Host- cookies.
		ln, scheme = tls.NewListener(ln, tc), "https"
	}
	ifaddrs, _ := net.InterfaceAddrs() // none: the URL says localhost
	log.Info("serving", "url", openURL(scheme, ln.Addr(), ifaddrs), "addr", ln.Addr().String(), "scheme", scheme,
		"data", cfg.Data, "version", version)

	// Installed here, not only by the acl worker: otherwise the API
	// answered, and said "not enforced", for a moment after every boot.
	// A failure is logged; the worker tries again.
	if err := a.guard.Install(ctx); err != nil {
		log.Error("install firewall table", "err", err)
	}
	wctx, stopWorkers := context.WithCancel(context.WithoutCancel(ctx))
	workers := a.start(wctx)
	served := make(chan error, 1)
	go func() { served <- a.app.Listener(ln) }()
	if a.slots != nil {
		go commitTrial(wctx, a.slots, os.Getenv(slotEnv), ln.Addr(), scheme, a.firewallUp, log.With("component", "firmware/slots"))
	}
	select {
	case err = <-served:
	case <-ctx.Done():
		log.Info("shutting down")
		err = a.app.ShutdownWithTimeout(cfg.ShutdownTimeout)
		<-served // the listener is closed: Listener returns
	}
	// Requests still running past the timeout have their core calls
	// cancelled and are waited for: none may meet a closed store.
	a.stopRequests()
	a.requests.Wait()
	stopWorkers()
	workers.Wait()
	if err != nil && !errors.Is(err, net.ErrClosed) {
		return fmt.Errorf("serve: %w", err)
	}
	log.Info("stopped")
	return nil
}

// appliance is what wire builds: the web app, the background workers and
// the kernel handles the workers and the app use.
type appliance struct {
	app     *fiber.App
	workers []worker
	// closeKernel closes the kernel handles; only after every worker
	// returned (the links release DHCP leases and the ACL and data plane
	// write to the kernel until they return).
	closeKernel func()
	// requests holds the requests in flight; stopRequests ends their
	// contexts, for those still running when the shutdown timeout ends.
	requests     *sync.WaitGroup
	stopRequests context.CancelFunc
	// slots are the update slots (nil without --update-dir); firewallUp
	// says whether the kernel firewall was installed.
	slots      *slots.Slots
	firewallUp bool
	// guard's firewall is installed before the API serves, so the first
	// answer after a boot already stands behind the stored bans.
	guard *acl.Service
}

// worker is a background loop that returns once its context is done and
// its work ended.
type worker struct {
	name string
	run  func(ctx context.Context)
}

// start runs each worker on a goroutine of its own labelled
// worker=<name>. Goroutines a worker starts inherit the label, so a
// goroutine profile shows what is left of the background work.
func (a *appliance) start(ctx context.Context) *sync.WaitGroup {
	var wg sync.WaitGroup
	for _, w := range a.workers {
		wg.Go(func() { pprof.Do(ctx, pprof.Labels("worker", w.name), w.run) })
	}
	return &wg
}

// firstToken writes an admin token to DIR/admin.token on first start, so
// the one who installed the box can use the API. The token itself is
// never logged.
func firstToken(ctx context.Context, toks *auth.Tokens, dir string, log *slog.Logger) error {
	if toks.Len() > 0 {
		return nil
	}
	_, secret, err := toks.Create(ctx, "admin (first start)", auth.RoleAdmin)
	if err != nil {
		return err
	}
	path := filepath.Join(dir, "admin.token")
	if err := durable.WriteFile(path, []byte(secret+"\n"), 0o600); err != nil {
		return err
	}
	log.Info("first start: admin API token written", "path", path)
	return nil
}

// setupCode writes a fresh one-time setup code to DIR/setup.code while no
// admin password is set, and removes the spent file once it is, so that
// only someone who can read the data dir claims a fresh box. The code
// itself is never logged.
func setupCode(ctx context.Context, adm *admin.Service, dir string, log *slog.Logger) error {
	path := filepath.Join(dir, "setup.code")
	if !adm.NeedsSetup() {
		if err := os.Remove(path); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("remove spent setup code: %w", err)
		}
		return nil
	}
	code, err := adm.IssueSetupCode(ctx)
	if err != nil {
		return err
	}
	if err := durable.WriteFile(path, []byte(code+"\n"), 0o600); err != nil {
		return err
	}
	log.Info("admin password not set: setup code written; open the web pages to set it", "path", path)
	return nil
}

// wire builds the core services, the web app and the background workers.
// On error it closes what it opened of the kernel.
// restart ends serve after an update is installed; reload restarts the
// services in place to apply a staged restore.
func wire(ctx context.Context, cfg config, db appStore, log *slog.Logger, ring *logring.Ring, restart, reload func()) (*appliance, error) {
	journal := events.New(1024, nil)
	toks, err := auth.New(ctx, db, nil)
	if err != nil {
		return nil, err
	}
	if err := firstToken(ctx, toks, cfg.Data, log); err != nil {
		return nil, err
	}
	adm, err := admin.New(ctx, db, nil)
	if err != nil {
		return nil, err
	}
	if err := setupCode(ctx, adm, cfg.Data, log); err != nil {
		return nil, err
	}
	node, err := identity.Load(ctx, db)
	if err != nil {
		return nil, err
	}
	ov, err := overlay.New(ctx, db, journal, overlay.Config{
		Network: cfg.Overlay, DNSDomain: cfg.DNSDomain, TempAccessTimeout: cfg.TempAccessTimeout,
		Log: log.With("component", "core/overlay"),
	})
	if err != nil {
		return nil, err
	}
	// The NIC layer reads (and with --manage-links configures) the links of
	// --netns: the traffic sampler, the debug bundles and the links service
	// all go through it.
	k, fd, closeNIC, err := openNIC(cfg)
	if err != nil {
		return nil, err
	}
	js, err := jobs.New(ctx, db, ov, jobs.Config{
		Dir:      filepath.Join(cfg.Data, "bundles"),
		Quota:    cfg.BundleQuota,
		Reserve:  uint64(cfg.DiskReserve),
		Sections: bundleSections(cfg, ov, journal, k, fd),
		Logs:     ring.Chunks,
		Minute:   cfg.BundleMinute,
		Keep:     []string{cfg.DNSDomain, "localhost"},
		Log:      log.With("component", "core/jobs"),
		Events:   journal,
	})
	if err != nil {
		closeNIC()
		return nil, err
	}
	ov.OnDelete(js.Forget)
	fw, unavailable, closeFW := openFirewall(cfg, log)
	closeKernel := func() { closeFW(); closeNIC() }
	guards, err := guardPorts(cfg)
	if err != nil {
		closeKernel()
		return nil, err
	}
	own, routers := ownAddrs(ctx, ov.Gateway(), k, log)
	guard, err := acl.New(ctx, db, fw, journal, acl.Config{
		GuardPorts: guards, Rate: uint32(cfg.GreyRate), Burst: uint32(cfg.GreyRate),
		GreyBase: cfg.GreyBase, GreySize: uint32(cfg.GreySize), Unavailable: unavailable,
		PeersFrom: ov.PeersFrom, Log: log.With("component", "core/acl"),
		NeverGrey: neverGrey(cfg, own, routers), Own: own,
	})
	if err != nil {
		closeKernel()
		return nil, err
	}
	ls, err := openLinks(ctx, cfg, db, k, fd, journal, log)
	if err != nil {
		closeKernel()
		return nil, err
	}
	dp := openDataPlane(cfg, node, ov, fw, fd, log)
	closeKernel = func() { dp.close(); closeFW(); closeNIC() }
	plane := dataplane.New(ov, dp.device(), dp.filter, dataplane.Config{
		Interface: cfg.WGInterface, Services: overlayServices(cfg, ov.Gateway()), Stale: cfg.WGStale,
		Excluded: excluded(ov, guard), Unavailable: dp.why, Journal: journal, Log: log.With("component", "core/dataplane"),
	})
	stats := netstat.New(k.Traffic, nil)
	nodeID := p2pid.FromKey(node.Public).String()
	backups := backup.New(backup.Config{Store: db, Dir: cfg.Data, StoreDir: storeDir(cfg.Data),
		Schema: store.Latest(migrations), Version: version, NodeID: nodeID, NodeName: cfg.NodeName,
		Load: func(ctx context.Context, dir string, r io.Reader) (int, error) {
			return store.Restore(ctx, dir, r, log.With("component", "core/store"))
		},
		Restart: reload})
	firewallUp := fw != nil
	sl, err := openSlots(cfg, func() bool { return firewallUp })
	if err != nil {
		closeKernel()
		return nil, err
	}
	requests := &sync.WaitGroup{}
	stop, stopRequests := context.WithCancel(context.WithoutCancel(ctx))
	app := web.New(web.Deps{
		Requests: requests, Stop: stop,
		Log: log.With("component", "web"), Tokens: toks, Overlay: ov, Jobs: js, Version: version,
		GatewayKey: node.Public.String(), Endpoint: cfg.Endpoint, DNS: dp.dnsAddr(),
		ACL: guard, Journal: journal, Stats: stats, Plane: plane, NodeID: nodeID, Links: ls,
		Admin: adm, NodeName: cfg.NodeName, Backups: backups, Slot: os.Getenv(slotEnv), Restart: restart,
		Updater: sl,
		Health:  health(db, guard, fw != nil), GreySize: int(cfg.GreySize), StoreSize: dirSize(storeDir(cfg.Data)),
		System: sysinfo.Reader("/proc"),
		// AuthFailed only counts and queues: the greylisting runs in the
		// ACL's loop, so a refused request never waits behind a bulk ban.
		OnAuthFailure: func(ip string) {
			if a, err := netip.ParseAddr(ip); err == nil {
				guard.AuthFailed(a)
			}
		},
	})
	workers := []worker{
		{"store-gc", func(ctx context.Context) { db.RunGC(ctx, 10*time.Minute) }},
		{"overlay-sweep", func(ctx context.Context) { ov.Run(ctx, 10*time.Second) }},
		{"traffic", func(ctx context.Context) { stats.Run(ctx, time.Second) }},
		{"acl", guard.Run},
		{"dataplane", plane.Run},
		{"jobs", js.Run},
		{"memory", func(ctx context.Context) { trimMemory(ctx, 2*time.Second) }},
	}
	if ls != nil {
		workers = append(workers, worker{"links", func(ctx context.Context) { _ = ls.Run(ctx) }})
	}
	return &appliance{app: app, workers: workers, closeKernel: closeKernel, guard: guard,
		requests: requests, stopRequests: stopRequests, slots: sl, firewallUp: firewallUp}, nil
}

// guardPorts are the ports the kernel guards against connection floods:
// the API's and WireGuard's.
func guardPorts(cfg config) ([]uint16, error) {
	_, port, err := net.SplitHostPort(cfg.Listen)
	n, perr := strconv.ParseUint(port, 10, 16)
	if err != nil || perr != nil {
		return nil, fmt.Errorf("--listen %q: want host:port", cfg.Listen)
	}
	ports := []uint16{uint16(cfg.WGPort)}
	if n != 0 && n != uint64(cfg.WGPort) {
		ports = append(ports, uint16(n))
	}
	return ports, nil
}
