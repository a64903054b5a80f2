package system

import (
	"io"
	"slices"
	"strings"

	"github.com/VictoriaMetrics/metrics"

	"github.com/edgeward/edgeward/core/events"
)

// writeState writes the series read from the services at each scrape, so
// they cost nothing between scrapes.
func (m *Metrics) writeState(w io.Writer) {
	if m.d.ACL != nil {
		n := m.d.ACL.Counts()
		gauge(w, `edgeward_acl_entries{list="ban",scope="address"}`, n.Bans)
		gauge(w, `edgeward_acl_entries{list="trust",scope="address"}`, n.Trusts)
		gauge(w, `edgeward_acl_entries{list="ban",scope="peer"}`, n.PeerBans)
		gauge(w, `edgeward_acl_entries{list="trust",scope="peer"}`, n.PeerTrusts)
		gauge(w, `edgeward_greylist_entries`, n.Greylisted)
		if m.d.GreySize > 0 {
			gauge(w, `edgeward_greylist_capacity`, m.d.GreySize)
			// The kernel set refuses new sources once full: this is the
			// series to alert on.
			metrics.WriteGaugeFloat64(w, `edgeward_kernel_set_fill_ratio{set="greylist"}`,
				float64(n.Greylisted)/float64(m.d.GreySize))
		}
	}
	if m.d.Peers != nil {
		peers, connected := m.d.Peers.Counts()
		gauge(w, `edgeward_peers`, peers)
		gauge(w, `edgeward_peers_connected`, connected)
	}
	if m.d.Plane != nil {
		s := m.d.Plane.Status()
		gauge(w, `edgeward_tunnel_running`, b2i(s.Running))
		gauge(w, `edgeward_tunnel_enforced`, b2i(s.Enforced))
		gauge(w, `edgeward_tunnel_peers`, s.Peers)
		gauge(w, `edgeward_tunnel_peers_connected`, s.Connected)
		// The device's counters: they restart with an embedded device.
		metrics.WriteCounterUint64(w, `edgeward_tunnel_bytes_total{direction="rx"}`, uint64(max(s.RxBytes, 0)))
		metrics.WriteCounterUint64(w, `edgeward_tunnel_bytes_total{direction="tx"}`, uint64(max(s.TxBytes, 0)))
	}
	if m.d.StoreSize != nil {
		metrics.WriteGaugeUint64(w, `edgeward_store_bytes`, uint64(max(m.d.StoreSize(), 0)))
	}
	if m.d.Journal != nil {
		for _, kv := range m.eventCounts() {
			metrics.WriteCounterUint64(w, `edgeward_events_total{kind="`+string(kv.kind)+`"}`, kv.n)
		}
	}
}

type kindCount struct {
	kind events.Kind
	n    uint64
}

// eventCounts counts the journal's events by kind, reconcile repairs
// (reconcile_repaired) among them. It reads what was published since the
// last scrape: the journal keeps the last 1024 events, so a burst larger
// than that between two scrapes is undercounted.
func (m *Metrics) eventCounts() []kindCount {
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, e := range m.d.Journal.Since(m.seq) {
		m.kinds[e.Kind]++
		m.seq = e.Seq
	}
	out := make([]kindCount, 0, len(m.kinds))
	for k, n := range m.kinds {
		out = append(out, kindCount{k, n})
	}
	slices.SortFunc(out, func(a, b kindCount) int { return strings.Compare(string(a.kind), string(b.kind)) })
	return out
}

func gauge(w io.Writer, name string, v int) { metrics.WriteGaugeUint64(w, name, uint64(max(v, 0))) }

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}
