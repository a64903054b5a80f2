package peers

import (
	"reflect"
	"testing"

	"github.com/edgeward/edgeward/web/internal/apispec/apicheck"
)

// TestSchemasMatchGoTypes compares each of the dialect's schemas in the
// OpenAPI document with the Go type the handlers write or read: the same
// JSON field names, compatible JSON types, and for responses a field is
// required exactly when it is not omitempty.
func TestSchemasMatchGoTypes(t *testing.T) {
	var job jobReq
	workload := reflect.TypeOf(job.Workload).Elem()
	params := workload.Field(1).Type.Elem()
	for _, tc := range []struct {
		schema   string
		typ      reflect.Type
		response bool
		without  []string // fields of typ this schema leaves out
		required []string // omitempty fields this schema still requires
	}{
		{"apiError", reflect.TypeFor[Error](), true, nil, nil},
		{"PeerMinimum", reflect.TypeFor[peerMinJSON](), true, nil, nil},
		{"GroupMinimum", reflect.TypeFor[groupMinJSON](), true, nil, nil},
		{"LocalFlags", reflect.TypeFor[localFlagsJSON](), true, nil, nil},
		{"Peer", reflect.TypeFor[peerJSON](), true, []string{"accessible_peers_count", "wg_private_key", "client_config"}, nil},
		{"PeerBatch", reflect.TypeFor[peerJSON](), true, []string{"wg_private_key", "client_config"}, []string{"accessible_peers_count"}},
		{"PeerCreated", reflect.TypeFor[peerJSON](), true, []string{"accessible_peers_count"}, nil},
		{"AccessiblePeer", reflect.TypeFor[accessiblePeerJSON](), true, nil, nil},
		{"PeerTemporaryAccessResponse", reflect.TypeFor[tempAccessJSON](), true, nil, nil},
		{"Group", reflect.TypeFor[groupJSON](), true, nil, nil},
		{"Resource", reflect.TypeFor[resourceJSON](), true, nil, nil},
		{"PortRange", reflect.TypeFor[portRangeJSON](), true, nil, nil},
		{"PolicyRule", reflect.TypeFor[ruleJSON](), true, nil, nil},
		{"Policy", reflect.TypeFor[policyJSON](), true, nil, nil},
		{"Token", reflect.TypeFor[tokenJSON](), true, nil, nil},
		{"BundleParameters", reflect.TypeFor[paramsJSON](), true, nil, nil},
		{"JobResult", reflect.TypeFor[resultJSON](), true, nil, nil},
		{"Workload", reflect.TypeFor[workloadJSON](), true, nil, nil},
		{"JobResponse", reflect.TypeFor[jobJSON](), true, nil, nil},
		{"PeerCreateRequest", reflect.TypeFor[createPeerReq](), false, nil, nil},
		{"PeerRequest", reflect.TypeFor[updatePeerReq](), false, nil, nil},
		{"PeerTemporaryAccessRequest", reflect.TypeFor[tempAccessReq](), false, nil, nil},
		{"GroupRequest", reflect.TypeFor[groupReq](), false, nil, nil},
		{"PolicyRequest", reflect.TypeFor[policyReq](), false, nil, nil},
		{"PolicyRuleUpdate", reflect.TypeFor[ruleReq](), false, nil, nil},
		{"TokenRequest", reflect.TypeFor[tokenReq](), false, nil, nil},
		{"JobRequest", reflect.TypeFor[jobReq](), false, nil, nil},
		{"WorkloadRequest", workload, false, nil, nil},
		{"BundleParametersRequest", params, false, nil, nil},
	} {
		apicheck.Schema(t, tc.schema, tc.typ, tc.response, tc.without, tc.required)
	}
}
