package main

import (
	"context"
	"crypto/tls"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"time"

	"aead.dev/minisign"

	"github.com/edgeward/edgeward/firmware/slots"
)

// updateKey is the minisign public key updates must be signed with, built
// in with -ldflags "-X main.updateKey=RWQ..."; --update-key overrides it.
var updateKey = ""

// slotEnv tells a process started by run-slot which slot it runs from.
const slotEnv = "EDGEWARD_SLOT"

// openSlots opens the update slots of --update-dir, or returns nil when
// updates are not set up. Without a key the API answers but refuses
// every upload.
func openSlots(cfg config, firewallUp func() bool) (*slots.Slots, error) {
	if cfg.UpdateDir == "" {
		return nil, nil
	}
	sc := slots.Config{Dir: cfg.UpdateDir, FirewallUp: firewallUp}
	text := updateKey
	if cfg.UpdateKey != "" {
		b, err := os.ReadFile(cfg.UpdateKey)
		if err != nil {
			return nil, fmt.Errorf("--update-key: %w", err)
		}
		text = string(b)
	}
	if text != "" {
		var k minisign.PublicKey
		if err := k.UnmarshalText(lastLine(text)); err != nil {
			return nil, fmt.Errorf("update public key: not a minisign public key: %w", err)
		}
		sc.Key = &k
	}
	return slots.New(sc)
}

// lastLine drops a minisign .pub file's "untrusted comment:" line.
func lastLine(s string) []byte {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	return []byte(strings.TrimSpace(lines[len(lines)-1]))
}

// commitTrial is the trial version's health check: when this process
// runs the slot on trial, it commits the slot once the API answers on
// addr (the store is open and the services wired by then) and, if the
// version before had its firewall installed, this one has too. A version
// that never gets here is rolled back by run-slot.
func commitTrial(ctx context.Context, s *slots.Slots, slot string, addr net.Addr, scheme string, firewallUp bool, log *slog.Logger) {
	st, err := s.State()
	if err != nil || slot == "" || st.Trial != slot {
		return
	}
	if st.RequireFirewall && !firewallUp {
		log.Error("update on trial: the firewall is not installed; not committing", "slot", slot)
		return
	}
	host := addr.(*net.TCPAddr)
	if host.IP.IsUnspecified() {
		host = &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: host.Port}
	}
	// The request goes to this very listener; its certificate may be
	// self-signed.
	client := &http.Client{Timeout: 2 * time.Second, Transport: &http.Transport{
		TLSClientConfig: &tls.Config{InsecureSkipVerify: true}}} // #nosec G402 -- own loopback listener
	url := scheme + "://" + host.String() + "/api/system/update"
	for {
		resp, err := client.Get(url)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusUnauthorized { // the API answers, and checks tokens
				break
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(200 * time.Millisecond):
		}
	}
	if err := s.Commit(slot); err != nil {
		log.Error("update on trial: commit", "slot", slot, "err", err)
		return
	}
	log.Info("update committed", "slot", slot, "version", version)
}

// runSlot is "edgeward run-slot": the launcher a supervisor (procd,
// systemd, an init) runs. It starts "SLOTBIN ARGS..." for the active or
// trial slot (see slots.Start), forwards SIGTERM/SIGINT, and ends a
// trial that has not committed by its deadline. It returns what the
// child returned, so the supervisor restarts it and the start counter
// rolls a crashing trial back; after a clean exit that put a new slot on
// trial (an update) it starts that slot itself.
func runSlot(ctx context.Context, args []string, stderr io.Writer) error {
	fs := flag.NewFlagSet("run-slot", flag.ContinueOnError)
	fs.SetOutput(stderr)
	dir := fs.String("update-dir", "", "directory of the update slots (a/, b/, state.json)")
	starts := fs.Int("trial-starts", 3, "starts a new version gets to commit before the old one comes back")
	window := fs.Duration("trial-window", 2*time.Minute, "how long a new version has to commit")
	if err := fs.Parse(args); err != nil {
		return err
	}
	rest := fs.Args()
	if *dir == "" || len(rest) == 0 || *starts < 1 || *window <= 0 {
		return errors.New("usage: edgeward run-slot --update-dir DIR [--trial-starts N] [--trial-window D] -- serve [flags]")
	}
	exe, err := os.Executable()
	if err != nil {
		return fmt.Errorf("find own binary: %w", err)
	}
	s, err := slots.New(slots.Config{Dir: *dir, Installed: exe})
	if err != nil {
		return err
	}
	log := slog.New(slog.NewJSONHandler(stderr, nil)).With("component", "run-slot")
	for {
		slot, trial, err := s.Start(*starts, *window)
		if err != nil {
			return err
		}
		log.Info("starting", "slot", slot, "trial", trial)
		err = runChild(ctx, s, slot, trial, *dir, rest, stderr, log)
		st, serr := s.State()
		if err != nil || serr != nil || ctx.Err() != nil || st.Trial == "" || st.Attempts > 0 {
			return err
		}
		// A clean exit with a fresh trial pending: an update was installed.
	}
}

// runChild runs one slot until it exits or ctx is done.
func runChild(ctx context.Context, s *slots.Slots, slot string, trial bool, dir string, args []string, stderr io.Writer, log *slog.Logger) error {
	cmd := exec.Command(s.Binary(slot), args...)
	cmd.Stdout, cmd.Stderr = os.Stdout, stderr
	cmd.Env = append(os.Environ(), slotEnv+"="+slot, "EDGEWARD_UPDATE_DIR="+dir)
	if err := cmd.Start(); err != nil {
		if trial {
			_ = s.Abandon(slot, "slot "+slot+" does not start: "+err.Error())
		}
		return fmt.Errorf("start slot %q: %w", slot, err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	tick := time.NewTicker(250 * time.Millisecond)
	defer tick.Stop()
	for {
		select {
		case err := <-done:
			if err != nil {
				return fmt.Errorf("slot %q: %w", slot, err)
			}
			return nil
		case <-ctx.Done():
			return stop(cmd, done)
		case <-tick.C:
			if !trial {
				continue
			}
			st, err := s.State()
			if err != nil || st.Trial != slot {
				trial = false // committed
				continue
			}
			if !st.Deadline.IsZero() && time.Now().After(st.Deadline) {
				log.Error("update on trial did not commit in time: rolling back", "slot", slot)
				_ = stop(cmd, done)
				_ = s.Abandon(slot, "slot "+slot+" did not commit before its deadline")
				return fmt.Errorf("slot %q rolled back", slot)
			}
		}
	}
}

// stop ends the child: SIGTERM, then SIGKILL after 10 s.
func stop(cmd *exec.Cmd, done <-chan error) error {
	_ = cmd.Process.Signal(syscall.SIGTERM)
	select {
	case err := <-done:
		return err
	case <-time.After(10 * time.Second):
		_ = cmd.Process.Kill()
		return <-done
	}
}
