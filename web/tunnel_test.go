package web

import "testing"

// TestTunnelWithoutDataPlane: without a WireGuard data plane in the
// process, the tunnel status says so rather than failing.
func TestTunnelWithoutDataPlane(t *testing.T) {
	e := newEnv(t)
	r := e.do(t, "GET", "/network/tunnel", e.viewer, nil)
	if r.status != 200 {
		t.Fatalf("tunnel: %d %s", r.status, r.body)
	}
	var st tunnelJSON
	r.json(t, &st)
	if st.Running || st.Why == "" {
		t.Fatalf("tunnel status without a data plane = %+v", st)
	}
}
