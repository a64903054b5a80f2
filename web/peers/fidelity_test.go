package peers

import (
	"fmt"
	"log/slog"
	"strings"
	"testing"

	"github.com/gofiber/fiber/v2"
	"github.com/google/go-cmp/cmp"

	"github.com/edgeward/edgeward/web/internal/httpx"
)

// netbirdBundleParameters and netbirdJobRequest are the job request as
// NetBird's Go REST client declares it: plain fields, so every one of them
// is always sent, bundle_for_time 0 included when bundle_for is false.
type netbirdBundleParameters struct {
	BundleFor     bool `json:"bundle_for"`
	BundleForTime int  `json:"bundle_for_time"`
	LogFileCount  int  `json:"log_file_count"`
	Anonymize     bool `json:"anonymize"`
}

type netbirdJobRequest struct {
	Workload struct {
		Type       string                   `json:"type"`
		Parameters *netbirdBundleParameters `json:"parameters,omitempty"`
	} `json:"workload"`
}

// TestJobFromNetBirdClient: what NetBird's client posts gets its job, and
// every job answer carries bundle_for_time, which the original's schema
// requires (e.do checks each answer against the OpenAPI document too).
func TestJobFromNetBirdClient(t *testing.T) {
	e := newEnv(t)
	req := func(pp netbirdBundleParameters) netbirdJobRequest {
		var r netbirdJobRequest
		r.Workload.Type, r.Workload.Parameters = "bundle", &pp
		return r
	}
	tests := []struct {
		name   string
		params netbirdBundleParameters
		status int
		field  string // refused field, for a 400
	}{
		{"no window, time 0", netbirdBundleParameters{LogFileCount: 10}, 200, ""},
		{"no window, time out of range is unused", netbirdBundleParameters{BundleForTime: 9, LogFileCount: 10, Anonymize: true}, 200, ""},
		{"window of 2 minutes", netbirdBundleParameters{BundleFor: true, BundleForTime: 2, LogFileCount: 1}, 200, ""},
		{"window with time 0", netbirdBundleParameters{BundleFor: true, LogFileCount: 10}, 400, "workload.parameters.bundle_for_time"},
		{"window too long", netbirdBundleParameters{BundleFor: true, BundleForTime: 6, LogFileCount: 10}, 400, "workload.parameters.bundle_for_time"},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// A peer of its own: a peer holds one pending job at a time.
			var p peerJSON
			e.do(t, "POST", "/api/peers", e.admin, map[string]any{"name": fmt.Sprintf("peer-%d", i), "wg_pub_key": newKey(t)}).json(t, &p)
			jobsPath := "/api/peers/" + p.ID + "/jobs"
			r := e.do(t, "POST", jobsPath, e.admin, req(tt.params))
			if r.status != tt.status {
				t.Fatalf("status %d (%s), want %d", r.status, r.body, tt.status)
			}
			if tt.status == 200 {
				// The original refuses a second pending job with a 400 too.
				again := e.do(t, "POST", jobsPath, e.admin, req(tt.params))
				if again.status != 400 || !strings.Contains(string(again.body), "pending job") {
					t.Errorf("second job: status %d (%s), want 400 naming the pending job", again.status, again.body)
				}
			}
			if tt.status != 200 {
				var got Error
				if r.json(t, &got); got.Field != tt.field {
					t.Fatalf("refused field %q (%s), want %q", got.Field, got.Message, tt.field)
				}
				return
			}
			var raw struct {
				ID       string
				Status   string
				Workload struct{ Parameters map[string]any }
			}
			r.json(t, &raw)
			want := map[string]any{"bundle_for": tt.params.BundleFor, "bundle_for_time": float64(tt.params.BundleForTime),
				"log_file_count": float64(tt.params.LogFileCount), "anonymize": tt.params.Anonymize}
			if diff := cmp.Diff(want, raw.Workload.Parameters); diff != "" || raw.Status != "pending" {
				t.Fatalf("job %s status %q, parameters (-want +got):\n%s", raw.ID, raw.Status, diff)
			}
			// Read back, the job still carries every parameter.
			var again struct {
				Workload struct{ Parameters map[string]any }
			}
			e.do(t, "GET", jobsPath+"/"+raw.ID, e.admin, nil).json(t, &again)
			if diff := cmp.Diff(want, again.Workload.Parameters); diff != "" {
				t.Fatalf("GET job parameters (-want +got):\n%s", diff)
			}
		})
	}
}

// TestUpdatePeerRefusesWhatItCannotHonour: a PUT field the gateway cannot
// honour is answered as the original answers it (412 and its message, in
// lower case as it writes them) and changes nothing; the fields it can
// honour are honoured.
func TestUpdatePeerRefusesWhatItCannotHonour(t *testing.T) {
	e := newEnv(t)
	var p peerJSON
	e.do(t, "POST", "/api/peers", e.admin, map[string]any{"name": "laptop", "wg_pub_key": newKey(t)}).json(t, &p)
	path := "/api/peers/" + p.ID
	put := func(over map[string]any) map[string]any {
		b := map[string]any{"name": "laptop", "ssh_enabled": false, "login_expiration_enabled": false,
			"inactivity_expiration_enabled": false}
		for k, v := range over {
			b[k] = v
		}
		return b
	}
	var before map[string]any
	e.do(t, "GET", path, e.admin, nil).json(t, &before)
	tests := []struct {
		name string
		body map[string]any
		want Error
	}{
		{"ipv6", put(map[string]any{"ipv6": "fd00::15"}),
			Error{Message: "ipv6 is not configured for this account", Code: 412, Field: "ipv6"}},
		{"login expiration", put(map[string]any{"login_expiration_enabled": true, "name": "renamed"}),
			Error{Message: "this peer hasn't been added with the sso login, therefore the login expiration can't be updated",
				Code: 412, Field: "login_expiration_enabled"}},
		{"inactivity expiration", put(map[string]any{"inactivity_expiration_enabled": true, "ssh_enabled": true}),
			Error{Message: "this peer hasn't been added with the sso login, therefore the inactivity expiration can't be updated",
				Code: 412, Field: "inactivity_expiration_enabled"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := e.do(t, "PUT", path, e.admin, tt.body)
			var got Error
			r.json(t, &got)
			if r.status != tt.want.Code {
				t.Fatalf("status %d, want %d", r.status, tt.want.Code)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Fatalf("error (-want +got):\n%s", diff)
			}
			var after map[string]any
			e.do(t, "GET", path, e.admin, nil).json(t, &after)
			if diff := cmp.Diff(before, after); diff != "" {
				t.Fatalf("refused PUT changed the peer (-before +after):\n%s", diff)
			}
		})
	}

	// Everything the gateway can do, in one PUT: an empty ipv6 asks for
	// nothing, expiration stays off.
	r := e.do(t, "PUT", path, e.admin, put(map[string]any{"name": "work laptop", "ssh_enabled": true,
		"approval_required": true, "ip": "100.64.3.4", "ipv6": ""}))
	if r.status != 200 {
		t.Fatalf("PUT: %d %s", r.status, r.body)
	}
	var got peerJSON
	e.do(t, "GET", path, e.admin, nil).json(t, &got)
	if got.Name != "work laptop" || !got.SSHEnabled || !got.ApprovalRequired || got.IP != "100.64.3.4" ||
		got.DNSLabel != "work-laptop.ew.test" || got.LoginExpirationEnabled || got.InactivityExpirationEnabled {
		t.Fatalf("peer after PUT = %+v", got)
	}
}

// TestJobsOff: a gateway running without jobs refuses every job route as
// the original refuses a job its peer cannot run (412), not with a 500.
func TestJobsOff(t *testing.T) {
	e := newEnv(t)
	var p peerJSON
	e.do(t, "POST", "/api/peers", e.admin, map[string]any{"name": "laptop", "wg_pub_key": newKey(t)}).json(t, &p)
	e.app = fiber.New(fiber.Config{JSONEncoder: httpx.EncodeJSON})
	Mount(e.app.Group("/api", httpx.Guard{Log: slog.New(slog.DiscardHandler), Tokens: e.toks}.Authenticate(Deny)),
		Deps{Peers: e.ov, Access: e.ov, Groups: e.ov, Policies: e.ov, Tokens: e.toks})
	for _, tc := range []struct{ method, path string }{
		{"GET", "/api/peers/" + p.ID + "/jobs"},
		{"POST", "/api/peers/" + p.ID + "/jobs"},
		{"GET", "/api/peers/" + p.ID + "/jobs/x"},
		{"GET", "/api/bundles/" + strings.Repeat("a", 64) + "/x"},
	} {
		r := e.do(t, tc.method, tc.path, e.admin, map[string]any{"workload": map[string]any{"type": "bundle"}})
		var got Error
		if r.json(t, &got); r.status != 412 || got != (Error{Message: "debug-bundle jobs are not enabled on this gateway", Code: 412}) {
			t.Errorf("%s %s: %d %s", tc.method, tc.path, r.status, r.body)
		}
	}
}
