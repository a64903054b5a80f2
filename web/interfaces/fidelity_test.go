package interfaces

import (
	"context"
	"io"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/edgeward/edgeward/core/admin"
)

// login signs in as the original's clients do and returns the answer.
func (e *env) login(t *testing.T, username, password string) resp {
	t.Helper()
	return e.send(t, "POST", "/v1/session/login", "", map[string]string{"username": username, "password": password}, nil)
}

// qErrorOf decodes an error answer and checks it is the dialect's shape.
func qErrorOf(t *testing.T, r resp) qError {
	t.Helper()
	var qe qError
	r.json(t, &qe)
	if qe.Module != "edgeward.links" || !qe.UserVisible || qe.Stack == nil || qe.ErrorClass == "" || qe.Description == "" {
		t.Errorf("not a qError: %s", r.body)
	}
	return qe
}

// TestSessionLogin: POST /v1/session/login {"username","password"} gives
// a {"bearer_token"} that works as "Authorization: Bearer" on /v2 until a
// logout or a password change; a wrong password is a 401 qError reported
// to the auth-failure path, and past five in a minute the address waits.
func TestSessionLogin(t *testing.T) {
	e := newEnv(t)
	r := e.login(t, admin.Username, adminPassword)
	var tok loginJSON
	r.json(t, &tok)
	if r.status != 200 || tok.BearerToken == "" {
		t.Fatalf("login: %d %s", r.status, r.body)
	}
	bearer := "Bearer " + tok.BearerToken
	if r := e.send(t, "GET", "/v2/network/interfaces/", bearer, nil, nil); r.status != 200 || !strings.Contains(string(r.body), `"name":"eth0"`) {
		t.Fatalf("bearer GET: %d %s", r.status, r.body)
	}
	if r := e.send(t, "PATCH", "/v2/network/interfaces/1", bearer, map[string]any{"mtu": 1400}, nil); r.status != 202 {
		t.Errorf("bearer PATCH: %d %s", r.status, r.body)
	}
	if r := e.send(t, "POST", "/v1/session/logout", bearer, nil, nil); r.status != 200 {
		t.Fatalf("logout: %d %s", r.status, r.body)
	}
	r = e.send(t, "GET", "/v2/network/interfaces/", bearer, nil, nil)
	if qe := qErrorOf(t, r); r.status != 401 || qe.ErrorClass != classUnauthorized {
		t.Errorf("after logout: %d %s", r.status, r.body)
	}

	tok = loginJSON{}
	e.login(t, admin.Username, adminPassword).json(t, &tok)
	if _, err := e.admin.ChangePassword(context.Background(), adminPassword, "another long password"); err != nil {
		t.Fatal(err)
	}
	if r := e.send(t, "GET", "/v2/network/interfaces/", "Bearer "+tok.BearerToken, nil, nil); r.status != 401 {
		t.Errorf("after a password change: %d %s", r.status, r.body)
	}
	if r := e.send(t, "GET", "/v2/network/interfaces/", "Token "+e.token, nil, nil); r.status != 200 {
		t.Errorf("API token next to sessions: %d %s", r.status, r.body)
	}

	before := e.failures()
	r = e.login(t, admin.Username, adminPassword) // the old password
	if qe := qErrorOf(t, r); r.status != 401 || qe.ErrorClass != classUnauthorized || qe.Description != "wrong user name or password" {
		t.Errorf("wrong password: %d %s", r.status, r.body)
	}
	if r := e.login(t, "root", "another long password"); r.status != 401 {
		t.Errorf("wrong user: %d %s", r.status, r.body)
	}
	if got := e.failures() - before; got != 2 {
		t.Errorf("%d refused logins reported to the auth-failure path, want 2", got)
	}
	if r := e.send(t, "POST", "/v1/session/login", "", map[string]string{"password": "x"}, nil); r.status != 400 ||
		!strings.Contains(string(r.body), "username: is required") {
		t.Errorf("no username: %d %s", r.status, r.body)
	}
	for range loginLimit - 2 {
		e.login(t, admin.Username, "guess")
	}
	r = e.login(t, admin.Username, "another long password")
	if qe := qErrorOf(t, r); r.status != 429 || qe.ErrorClass != classTooMany {
		t.Errorf("past %d refusals a minute: %d %s", loginLimit, r.status, r.body)
	}
}

// TestOriginalClientWrites: bonding_mode UNSPECIFIED and name "" in a PUT
// (what the original's clients send), and a POST of a network with an id
// of the client's choosing: free is taken, taken is a 409.
func TestOriginalClientWrites(t *testing.T) {
	e := newEnv(t)
	put := map[string]any{"name": "", "bonding_mode": "UNSPECIFIED", "default_gateway": "192.168.1.254",
		"default_gateway_ipv6": "", "mtu": 1500}
	if r := e.doV2(t, "PUT", "/v2/network/interfaces/1", put, nil); r.status != 202 {
		t.Fatalf("PUT with UNSPECIFIED and name \"\": %d %s", r.status, r.body)
	}
	var got ifaceJSON
	e.doV2(t, "GET", "/v2/network/interfaces/1", nil, nil).json(t, &got)
	if got.BondingMode != "UNSPECIFIED" || got.Name != "eth0" {
		t.Errorf("after the PUT: bonding_mode %q name %q", got.BondingMode, got.Name)
	}
	if r := e.doV2(t, "PATCH", "/v2/network/interfaces/1", map[string]any{"name": "eth9"}, nil); r.status != 400 ||
		!strings.Contains(string(r.body), "name: is the kernel's name") {
		t.Errorf("rename: %d %s", r.status, r.body)
	}
	vlan := map[string]any{"id": 7, "name": "v7", "assigned_by": "STATIC", "ip_ranges": []string{"10.7.0.1"},
		"netmask": "255.255.255.0", "vlan_id": 7}
	if r := e.doV2(t, "POST", "/v2/network/interfaces/1/networks/", vlan, nil); r.status != 202 {
		t.Fatalf("POST with id 7: %d %s", r.status, r.body)
	}
	var n networkJSON
	if r := e.doV2(t, "GET", "/v2/network/interfaces/1/networks/7", nil, nil); r.status != 200 {
		t.Fatalf("network 7: %d %s", r.status, r.body)
	} else if r.json(t, &n); n.ID != 7 || n.Name != "v7" || n.VLANID != 7 {
		t.Errorf("network 7: %+v", n)
	}
	vlan["vlan_id"], vlan["ip_ranges"] = 8, []string{"10.8.0.1"}
	r := e.doV2(t, "POST", "/v2/network/interfaces/1/networks/", vlan, nil)
	if qe := qErrorOf(t, r); r.status != 409 || qe.ErrorClass != classConflict || !strings.Contains(qe.Description, "network 7 exists") {
		t.Errorf("POST with a taken id: %d %s", r.status, r.body)
	}
}

// TestReadOnlyLinks: without --manage-links the GETs answer, every write
// is a 403 qError saying how to turn link management on, and the config
// stays as it was.
func TestReadOnlyLinks(t *testing.T) {
	e := newEnvWith(t, envOpts{readOnly: true})
	for _, path := range []string{"/v2/network/interfaces/", "/v2/network/interfaces/1", "/v2/network/interfaces/1/networks/",
		"/v2/network/interfaces/1/networks/1", "/v2/network/interfaces/1/status/", "/v2/network/interfaces/1/status/1"} {
		if r := e.doV2(t, "GET", path, nil, nil); r.status != 200 {
			t.Errorf("GET %s: %d %s", path, r.status, r.body)
		}
	}
	for _, w := range []struct {
		method, path string
		body         any
	}{
		{"PATCH", "/v2/network/interfaces/1", map[string]any{"mtu": 1400}},
		{"PUT", "/v2/network/interfaces/1", map[string]any{"bonding_mode": "UNSPECIFIED", "default_gateway": "",
			"default_gateway_ipv6": "", "mtu": 1400}},
		{"POST", "/v2/network/interfaces/1/networks/", map[string]any{"name": "x", "assigned_by": "DHCP"}},
		{"PATCH", "/v2/network/interfaces/1/networks/1", map[string]any{"dns_servers": []string{"9.9.9.9"}}},
		{"DELETE", "/v2/network/interfaces/1/networks/1", nil},
		{"POST", "/v2/network/interfaces/1/confirm", nil},
	} {
		r := e.doV2(t, w.method, w.path, w.body, nil)
		qe := qErrorOf(t, r)
		if r.status != 403 || qe.ErrorClass != classForbidden || !strings.Contains(qe.Description, "--manage-links") {
			t.Errorf("%s %s: %d %s", w.method, w.path, r.status, r.body)
		}
	}
	var i ifaceJSON
	if e.doV2(t, "GET", "/v2/network/interfaces/1", nil, nil).json(t, &i); i.MTU != 1500 {
		t.Errorf("MTU %d after refused writes, want 1500", i.MTU)
	}
}

// TestRefusalsInDialectShape: the token check's 401 and 403 and unknown
// /v2 paths answer qError bodies, which the original's clients parse.
func TestRefusalsInDialectShape(t *testing.T) {
	e := newEnv(t)
	tests := []struct {
		name, method, path, auth string
		wantStatus               int
		wantClass                string
	}{
		{"no token", "GET", "/v2/network/interfaces/", "", 401, classUnauthorized},
		{"unknown token", "GET", "/v2/network/interfaces/", "Bearer nope", 401, classUnauthorized},
		{"viewer writes", "PATCH", "/v2/network/interfaces/1", "Token " + e.viewer, 403, classForbidden},
		{"unknown path", "GET", "/v2/network/nodes/", "Token " + e.token, 404, classNotFound},
		{"unknown method", "DELETE", "/v2/network/interfaces/1", "Token " + e.token, 404, classNotFound},
		{"unknown path, no token", "GET", "/v2/cluster/nodes/", "", 401, classUnauthorized},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// Unknown paths are off the document, which apicheck reads as
			// the peers dialect's; the shape is checked here instead.
			req := httptest.NewRequest(tt.method, tt.path, strings.NewReader(`{"mtu":1400}`))
			req.Header.Set("Content-Type", "application/json")
			if tt.auth != "" {
				req.Header.Set("Authorization", tt.auth)
			}
			res, err := e.app.Test(req, 10_000)
			if err != nil {
				t.Fatal(err)
			}
			defer res.Body.Close()
			body, _ := io.ReadAll(res.Body)
			r := resp{status: res.StatusCode, header: res.Header, body: body}
			if qe := qErrorOf(t, r); r.status != tt.wantStatus || qe.ErrorClass != tt.wantClass {
				t.Errorf("%d %s, want %d %s", r.status, r.body, tt.wantStatus, tt.wantClass)
			}
		})
	}
}
