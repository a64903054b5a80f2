package ui

import (
	"context"
	"io"
	"strconv"
	"time"

	"github.com/a-h/templ"
	"github.com/gofiber/fiber/v2"

	"github.com/edgeward/edgeward/core/netstat"
	"github.com/edgeward/edgeward/views/components/graph"
	"github.com/edgeward/edgeward/views/pages"
)

// dashboard shows what the node is, how its firewall and its WireGuard
// data plane stand. An htmx request aimed at the stats section gets only
// that section.
func (u *ui) dashboard(c *fiber.Ctx) error {
	p := pages.DashboardProps{
		Page:     u.navPage(c, "Dashboard", "/"),
		NodeName: u.d.NodeName,
		NodeID:   u.d.NodeID,
		Version:  u.d.Version,
		Uptime:   Duration(time.Since(u.started)),
	}
	if p.NodeName == "" {
		p.NodeName = "edgeward"
	}
	if p.Version == "" {
		p.Version = "dev"
	}
	if u.d.Overlay != nil {
		// Connected is what the data plane last observed of each peer.
		p.Peers, p.Connected = u.d.Overlay.Counts()
	}
	p.WireGuard = wireGuardCard(u.d.Plane)
	if u.d.Stats != nil {
		p.HasTraffic = true
		for _, l := range u.d.Stats.Links() {
			if l.Loopback {
				continue
			}
			p.Links = append(p.Links, pages.LinkRow{Name: l.Name, Up: l.Up, Speed: linkSpeed(l.SpeedMbps),
				Rx: graph.Rate(l.RxRate), Tx: graph.Rate(l.TxRate)})
		}
		hist := u.d.Stats.History()
		p.Traffic = graph.Props{Slots: int(netstat.Span / netstat.Step), Span: "60 min ago", Samples: make([]graph.Sample, len(hist))}
		for i, pt := range hist {
			p.Traffic.Samples[i] = graph.Sample{Rx: pt.Rx, Tx: pt.Tx}
		}
	}
	if u.d.ACL != nil {
		e, n := u.d.ACL.Enforcement(), u.d.ACL.Counts()
		p.Firewall, p.Enforced, p.EnforcementReason = true, e.Applied, e.Reason
		p.EnforcementSince = PageTime(e.Since)
		p.Bans, p.Greylisted = n.Bans, n.Greylisted
	}
	if c.Get("HX-Request") == "true" && c.Get("HX-Target") == pages.StatsFragment {
		// The poll every 5 s: the events stay out, the stream brings them.
		return render(c, fiber.StatusOK, fragment(pages.Dashboard(p), pages.StatsFragment))
	}
	p.Events = u.liveEvents("Latest events")
	p.Page.Live = p.Events.Stream != ""
	return render(c, fiber.StatusOK, pages.Dashboard(p))
}

// linkSpeed is ethtool's speed as a link's rate ("1 Gbit/s").
func linkSpeed(mbps int) string {
	switch {
	case mbps <= 0:
		return "unknown"
	case mbps%1000 == 0:
		return strconv.Itoa(mbps/1000) + " Gbit/s"
	}
	return strconv.Itoa(mbps) + " Mbit/s"
}

// fragment renders only the named templ.Fragment of comp.
func fragment(comp templ.Component, id string) templ.Component {
	return templ.ComponentFunc(func(ctx context.Context, w io.Writer) error {
		return templ.RenderFragments(ctx, w, comp, id)
	})
}
