package ui

import (
	"github.com/edgeward/edgeward/core/dataplane"
	"github.com/edgeward/edgeward/views/components/sparkline"
)

// peerSparks returns the Peers page's traffic sparklines, one per public
// key given (received plus sent over the last five minutes, in 10 s
// steps), from a single call to the data plane whatever the page's size.
// A peer without traffic in that window gets a flat line. The map is nil
// when this process runs no data plane: leave the column out then. Use:
//
//	sparks := u.peerSparks(keys)
//	... @sparkline.Sparkline(sparks[p.PublicKey]) in the row's cell
func (u *ui) peerSparks(publicKeys []string) map[string]sparkline.Props {
	if u.d.Plane == nil {
		return nil
	}
	rates := u.d.Plane.PeerTraffic(publicKeys)
	out := make(map[string]sparkline.Props, len(publicKeys))
	for _, k := range publicKeys {
		out[k] = sparkline.Props{Samples: rates[k], Step: dataplane.SparkStep, Slots: dataplane.SparkSamples,
			TestID: "peer-spark"}
	}
	return out
}
