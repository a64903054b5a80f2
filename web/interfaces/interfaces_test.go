package interfaces

import (
	"io"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/edgeward/edgeward/web/internal/apispec/apicheck"
)

func TestInterfaceRoutes(t *testing.T) {
	e := newEnv(t)
	const monitor = `{"monitor_uri":"/v2/network/interfaces/1/status/"}`
	tests := []struct {
		name       string
		method     string
		path       string
		body       any
		wantStatus int
		wantBody   string // a substring of the body
		wantETag   bool
	}{
		{"list", "GET", "/v2/network/interfaces/", nil, 200, `"name":"eth0"`, true},
		{"get", "GET", "/v2/network/interfaces/1", nil, 200, `"default_gateway":"192.168.1.254"`, true},
		{"list networks", "GET", "/v2/network/interfaces/1/networks/", nil, 200, `"ip_ranges":["192.168.1.1"]`, true},
		{"get network", "GET", "/v2/network/interfaces/2/networks/1", nil, 200, `"assigned_by":"DHCP"`, true},
		{"statuses", "GET", "/v2/network/interfaces/1/status/", nil, 200, `"bytes_received":"1099511627776"`, true},
		{"status", "GET", "/v2/network/interfaces/1/status/1", nil, 200, `"node_name":"edge-1"`, true},
		{"patch interface", "PATCH", "/v2/network/interfaces/1", map[string]any{"mtu": 9000}, 202, monitor, false},
		{"put interface", "PUT", "/v2/network/interfaces/1", map[string]any{"default_gateway": "192.168.1.254",
			"default_gateway_ipv6": "", "bonding_mode": "ACTIVE_BACKUP", "mtu": 9000}, 202, monitor, false},
		{"post network", "POST", "/v2/network/interfaces/1/networks/", map[string]any{"name": "v9", "assigned_by": "STATIC",
			"ip_ranges": []string{"10.9.0.10-12"}, "netmask": "10.9.0.0/24", "vlan_id": 9, "mtu": 1500}, 202, monitor, false},
		{"patch network", "PATCH", "/v2/network/interfaces/1/networks/2", map[string]any{"dns_servers": []string{"9.9.9.9"}}, 202, monitor, false},
		{"put network", "PUT", "/v2/network/interfaces/1/networks/2", map[string]any{"name": "v9", "assigned_by": "STATIC",
			"ip_ranges": []string{"10.9.0.10"}, "netmask": "255.255.255.0", "vlan_id": 9}, 202, monitor, false},
		{"delete network", "DELETE", "/v2/network/interfaces/1/networks/2", nil, 202, monitor, false},
		// 404s
		{"unknown interface", "GET", "/v2/network/interfaces/42", nil, 404, `"error_class":"http_not_found_error"`, false},
		{"unknown network", "GET", "/v2/network/interfaces/1/networks/42", nil, 404, `network 42 not found`, false},
		{"unknown node", "GET", "/v2/network/interfaces/1/status/2", nil, 404, `node 2 not found`, false},
		{"patch unknown interface", "PATCH", "/v2/network/interfaces/42", map[string]any{"mtu": 1500}, 404, `interface 42 not found`, false},
		{"delete unknown network", "DELETE", "/v2/network/interfaces/1/networks/42", nil, 404, `network 42 not found`, false},
		// 400s naming the field
		{"bad id", "GET", "/v2/network/interfaces/eth0", nil, 400, `interface_id: \"eth0\" is not a number`, false},
		{"mtu out of range", "PATCH", "/v2/network/interfaces/1", map[string]any{"mtu": 9001}, 400, `"description":"mtu: 9001 is out of range`, false},
		{"mtu not a number", "PATCH", "/v2/network/interfaces/1", map[string]any{"mtu": "big"}, 400, `mtu: must be an integer`, false},
		{"bad json", "PATCH", "/v2/network/interfaces/1", "{", 400, `"error_class":"http_bad_request_error"`, false},
		{"bad bonding mode", "PATCH", "/v2/network/interfaces/1", map[string]any{"bonding_mode": "RR"}, 400, `bonding_mode: \"RR\" is not one of`, false},
		{"put without every field", "PUT", "/v2/network/interfaces/1", map[string]any{"mtu": 1500}, 400, `bonding_mode: is required`, false},
		{"bad address", "POST", "/v2/network/interfaces/1/networks/", map[string]any{"name": "x", "assigned_by": "STATIC",
			"ip_ranges": []string{"10.9.0.999"}, "netmask": "255.255.255.0", "vlan_id": 9}, 400, `ip_ranges[0]`, false},
		{"address outside netmask", "POST", "/v2/network/interfaces/1/networks/", map[string]any{"name": "x", "assigned_by": "STATIC",
			"ip_ranges": []string{"10.9.1.1"}, "netmask": "10.9.0.0/24", "vlan_id": 9}, 400, `is not in the network 10.9.0.0/24`, false},
		{"non-contiguous netmask", "POST", "/v2/network/interfaces/1/networks/", map[string]any{"name": "x", "assigned_by": "STATIC",
			"ip_ranges": []string{"10.9.0.1"}, "netmask": "255.0.255.0", "vlan_id": 9}, 400, `netmask: \"255.0.255.0\" is not a contiguous netmask`, false},
		{"vlan out of range", "POST", "/v2/network/interfaces/1/networks/", map[string]any{"name": "x", "assigned_by": "STATIC",
			"ip_ranges": []string{"10.9.0.1"}, "netmask": "255.255.255.0", "vlan_id": 5000}, 400, `vlan_id: 5000 is out of range`, false},
		{"unknown assigned_by", "POST", "/v2/network/interfaces/1/networks/", map[string]any{"name": "x", "assigned_by": "BOOTP"}, 400, `assigned_by: \"BOOTP\" is not one of`, false},
		{"untagged mtu", "PATCH", "/v2/network/interfaces/1/networks/1", map[string]any{"mtu": 1400}, 400, `modify the interface config instead`, false},
		{"bad confirm_within", "PATCH", "/v2/network/interfaces/1?confirm_within=soon", map[string]any{"mtu": 1500}, 400, `confirm_within`, false},
		{"confirm with nothing pending", "POST", "/v2/network/interfaces/1/confirm", nil, 409, `"error_class":"http_conflict_error"`, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := e.doV2(t, tt.method, tt.path, tt.body, nil)
			if r.status != tt.wantStatus || !strings.Contains(string(r.body), tt.wantBody) {
				t.Fatalf("got %d %s; want %d with %s", r.status, r.body, tt.wantStatus, tt.wantBody)
			}
			if got := r.header.Get("ETag") != ""; got != tt.wantETag {
				t.Errorf("ETag present %v, want %v", got, tt.wantETag)
			}
			if r.status >= 400 {
				var qe qError
				r.json(t, &qe)
				if qe.Module != "edgeward.links" || !qe.UserVisible || qe.Stack == nil {
					t.Errorf("error body %+v", qe)
				}
			}
		})
	}
}

func TestInterfaceIfMatchAndConfirm(t *testing.T) {
	e := newEnv(t)
	tag := e.doV2(t, "GET", "/v2/network/interfaces/1", nil, nil).header.Get("ETag")
	if r := e.doV2(t, "PATCH", "/v2/network/interfaces/1?confirm_within=60", map[string]any{"mtu": 1400}, map[string]string{"If-Match": tag}); r.status != 202 {
		t.Fatalf("fresh If-Match: %d %s", r.status, r.body)
	}
	for _, tc := range []struct{ method, path string }{
		{"PATCH", "/v2/network/interfaces/1"},
		{"PUT", "/v2/network/interfaces/1/networks/1"},
		{"DELETE", "/v2/network/interfaces/1/networks/1"},
	} {
		r := e.doV2(t, tc.method, tc.path, map[string]any{"mtu": 1300}, map[string]string{"If-Match": tag})
		if r.status != 412 || !strings.Contains(string(r.body), "precondition_failed_error") {
			t.Errorf("%s %s with a stale If-Match: %d %s", tc.method, tc.path, r.status, r.body)
		}
	}
	if r := e.doV2(t, "POST", "/v2/network/interfaces/1/confirm", nil, nil); r.status != 202 {
		t.Fatalf("confirm: %d %s", r.status, r.body)
	}
	var st []nodeStatusJSON
	e.doV2(t, "GET", "/v2/network/interfaces/1/status/", nil, nil).json(t, &st)
	want := nodeStatusJSON{NodeID: 1, NodeName: "edge-1", UpdateStatus: "CHANGES_APPLIED",
		InterfaceDetails: detailsJSON{Speed: 1000, BytesSent: "12345", BytesReceived: "1099511627776", CableStatus: "CONNECTED",
			InterfaceStatus: "UP", MACAddress: "02:00:00:00:00:01", Timestamp: "1700000000", OperState: "UP"},
		InterfaceStatus: ifaceStatusJSON{InterfaceID: 1, Name: "eth0", DefaultGateway: "192.168.1.254", BondingMode: "ACTIVE_BACKUP", MTU: 1400},
		NetworkStatuses: []networkStatusJSON{{Name: "Default", AssignedBy: "STATIC", Address: "192.168.1.1", FloatingAddresses: []string{},
			DNSServers: []string{}, DNSSearchDomains: []string{}, Netmask: "255.255.255.0", MTU: 1400}}}
	if diff := cmp.Diff([]nodeStatusJSON{want}, st); diff != "" {
		t.Errorf("status (-want +got):\n%s", diff)
	}
	e.kernel.Remove("eth0")
	var one nodeStatusJSON
	e.doV2(t, "GET", "/v2/network/interfaces/1/status/1", nil, nil).json(t, &one)
	if one.UpdateStatus != "UNAVAILABLE" || one.InterfaceDetails.InterfaceStatus != "MISSING" {
		t.Errorf("vanished link: %s %s", one.UpdateStatus, one.InterfaceDetails.InterfaceStatus)
	}
}

func TestInterfaceWritesNeedAdmin(t *testing.T) {
	e := newEnv(t)
	req := httptest.NewRequest("PATCH", "/v2/network/interfaces/1", strings.NewReader(`{"mtu":1400}`))
	req.Header.Set("Authorization", "Token "+e.viewer)
	res, err := e.app.Test(req, 10_000)
	if err != nil {
		t.Fatal(err)
	}
	raw, _ := io.ReadAll(res.Body)
	apicheck.Response(t, "PATCH", "/v2/network/interfaces/1", req.Header, res.StatusCode, res.Header, raw)
	if res.StatusCode != 403 {
		t.Errorf("viewer PATCH: %d %s", res.StatusCode, raw)
	}
}
