package main

import (
	"context"
	"encoding/json"
	"runtime"
	"time"

	"github.com/edgeward/edgeward/core/events"
	"github.com/edgeward/edgeward/core/jobs"
	"github.com/edgeward/edgeward/core/overlay"
	"github.com/edgeward/edgeward/hw/nft"
	"github.com/edgeward/edgeward/hw/nic"
)

// bundleSections lists what a debug bundle holds: the peer and the
// policies that concern it, its events, the gateway's own state, and the
// configuration (which holds no secrets: tokens and keys live in the store).
// k and netnsFD are the NIC layer and the namespace of --netns (0: here).
func bundleSections(cfg config, ov *overlay.Service, journal *events.Journal, k *nic.NIC, netnsFD int) []jobs.Section {
	started := time.Now()
	asJSON := func(v any) ([]byte, error) { return json.MarshalIndent(v, "", "  ") }
	return []jobs.Section{
		{Name: "peer.json", Collect: func(_ context.Context, id string) ([]byte, error) {
			p, err := ov.Peer(id)
			if err != nil {
				return nil, err
			}
			acc, _ := ov.Accessible(id)
			return asJSON(map[string]any{"peer": p, "accessible_peers": acc})
		}},
		{Name: "policies.json", Collect: func(_ context.Context, id string) ([]byte, error) {
			return asJSON(map[string]any{"policies": ov.Policies(), "groups": ov.Groups("")})
		}},
		{Name: "events.json", Collect: func(_ context.Context, id string) ([]byte, error) {
			return asJSON(map[string]any{
				"peer":    journal.Recent(500, func(e events.Event) bool { return e.Subject == id }),
				"gateway": journal.Recent(200, nil),
			})
		}},
		{Name: "interfaces.json", AtStart: true, Collect: func(ctx context.Context, _ string) ([]byte, error) {
			// The links of --netns, like the rest of what edgeward manages.
			links, err := k.Snapshot(ctx)
			if err != nil {
				return asJSON(map[string]string{"error": err.Error()})
			}
			return asJSON(links)
		}},
		{Name: "firewall.txt", Collect: func(ctx context.Context, _ string) ([]byte, error) {
			return nft.Ruleset(ctx, netnsFD)
		}},
		{Name: "gateway.json", Collect: func(context.Context, string) ([]byte, error) {
			var m runtime.MemStats
			runtime.ReadMemStats(&m)
			return asJSON(map[string]any{
				"version": version, "go": runtime.Version(), "arch": runtime.GOARCH,
				"uptime_seconds": int(time.Since(started).Seconds()), "config": cfg,
				"heap_alloc_bytes": m.HeapAlloc, "sys_bytes": m.Sys, "goroutines": runtime.NumGoroutine(),
			})
		}},
	}
}
