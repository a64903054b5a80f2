package ui

import (
	"fmt"
	"time"

	"github.com/edgeward/edgeward/core/dataplane"
	"github.com/edgeward/edgeward/core/overlay"
	"github.com/edgeward/edgeward/views/pages"
)

// The pages show the WireGuard data plane's view of each peer as the
// overlay records it (overlay.Status) and of itself (dataplane.Status).

// peerConn formats st as the pages show a peer's connection at now.
func peerConn(st overlay.Status, now time.Time) pages.PeerConn {
	c := pages.PeerConn{Connected: st.Connected, Handshake: ago(st.LastHandshake, now),
		HandshakeAt: st.LastHandshake, LastSeen: st.LastSeen, Rx: humanBytes(st.RxBytes), Tx: humanBytes(st.TxBytes)}
	if st.Endpoint.IsValid() {
		c.Endpoint = st.Endpoint.String()
	}
	if st.Connected && !st.Since.IsZero() {
		c.Since, c.SinceAgo = st.Since, ago(st.Since, now)
	}
	return c
}

// ago is how long before now t was, as Duration says it ("2 min ago"),
// or "never" for the zero time. A t in the future (clocks that disagree
// by a little) is "just now".
func ago(t, now time.Time) string {
	if t.IsZero() {
		return "never"
	}
	d := now.Sub(t)
	if d < time.Second {
		return "just now"
	}
	return Duration(d) + " ago"
}

// humanBytes is n bytes in binary units: "0 B", "512 B", "1.5 KiB",
// "20.0 MiB". Counters never go negative; a negative n is shown as 0.
func humanBytes(n int64) string {
	if n < 1024 {
		return fmt.Sprintf("%d B", max(n, 0))
	}
	const units = "KMGTPE"
	v := float64(n) / 1024
	i := 0
	for v >= 1024 && i < len(units)-1 {
		v /= 1024
		i++
	}
	return fmt.Sprintf("%.1f %ciB", v, units[i])
}

// wireGuardCard is the dashboard's card of the data plane; nil when this
// process runs none.
func wireGuardCard(p *dataplane.Plane) *pages.WireGuardCard {
	if p == nil {
		return nil
	}
	st := p.Status()
	return &pages.WireGuardCard{Interface: st.Interface, Running: st.Running, Why: st.Why, Peers: st.Peers,
		Connected: st.Connected, Rx: humanBytes(st.RxBytes), Tx: humanBytes(st.TxBytes), LastPoll: st.LastPoll}
}
