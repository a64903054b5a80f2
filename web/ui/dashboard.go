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
	p.System = u.systemCard(c.UserContext())
	p.PeersPage, p.InterfacesPage = u.d.Overlay != nil, u.d.Links != nil
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
		p.Traffic = graph.Props{Slots: int(netstat.Span / netstat.Step), Step: netstat.Step, Samples: make([]graph.Sample, len(hist))}
		for i, pt := range hist {
			p.Traffic.Samples[i] = graph.Sample{Rx: pt.Rx, Tx: pt.Tx}
		}
	}
	if u.d.ACL != nil {
		e, n := u.d.ACL.Enforcement(), u.d.ACL.Counts()
		p.Firewall, p.Enforced, p.EnforcementReason = true, e.Applied, e.Reason
		p.EnforcementSince = e.Since
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

// systemCard reads the box now: a few small procfs files and, for the
// WAN address, one dump of the links (about what the interfaces poll
// costs). Nil when this process reads neither.
func (u *ui) systemCard(ctx context.Context) *pages.SystemCard {
	if u.d.System == nil && u.d.Links == nil {
		return nil
	}
	s := &pages.SystemCard{}
	if u.d.System != nil {
		f, err := u.d.System()
		if err != nil {
			// The numbers are diagnostics, not secrets: the admin can act on
			// "read loadavg: permission denied".
			s.Err = "Cannot read the box's load and memory: " + err.Error()
		} else {
			s.Load = strconv.FormatFloat(f.Load1, 'f', 2, 64) + ", " + strconv.FormatFloat(f.Load5, 'f', 2, 64) + ", " +
				strconv.FormatFloat(f.Load15, 'f', 2, 64)
			s.CPUs = strconv.Itoa(f.CPUs) + " cores"
			if f.CPUs == 1 {
				s.CPUs = "1 core"
			}
			s.MemPercent = strconv.Itoa(f.MemUsedPercent()) + " %"
			s.Memory = humanBytes(int64(f.MemTotal-min(f.MemAvailable, f.MemTotal))) + " of " + humanBytes(int64(f.MemTotal))
			s.RSS = humanBytes(int64(f.RSS))
			s.BoxUptime = Duration(f.Uptime)
		}
	} else {
		s.Err = "This process does not read the box's load and memory."
	}
	if u.d.StoreSize != nil {
		s.Store = humanBytes(u.d.StoreSize())
	}
	if u.d.Links != nil {
		if up, ok := u.d.Links.Uplink(ctx); ok {
			s.WAN, s.Gateway = up.String(), up.Gateway.String()
		}
	}
	return s
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
