package p2p

import (
	"reflect"
	"testing"

	"github.com/edgeward/edgeward/web/internal/apispec/apicheck"
)

// TestSchemasMatchGoTypes compares each /network schema of openapi.json
// with the Go type the handlers write or read: the same JSON field names,
// compatible JSON types, and for responses a field is required exactly when
// it is not omitempty.
func TestSchemasMatchGoTypes(t *testing.T) {
	for _, tc := range []struct {
		schema   string
		typ      reflect.Type
		response bool
	}{
		{"networkError", reflect.TypeFor[netError](), true},
		{"ConnectionId", reflect.TypeFor[idPointJSON](), true},
		{"NetworkStat", reflect.TypeFor[statJSON](), true},
		{"NetworkVersion", reflect.TypeFor[versionJSON](), true},
		{"ConnectionMetadata", reflect.TypeFor[metadataJSON](), true},
		{"ConnectionInfo", reflect.TypeFor[connectionJSON](), true},
		{"PointState", reflect.TypeFor[pointStateJSON](), true},
		{"PointInfo", reflect.TypeFor[pointInfoJSON](), true},
		{"PeerInfo", reflect.TypeFor[peerInfoJSON](), true},
		{"PeerMetadata", reflect.TypeFor[peerMetadataJSON](), true},
		{"PeerMetadataMessages", reflect.TypeFor[messagesJSON](), true},
		{"PeerPoolEvent", reflect.TypeFor[peerEventJSON](), true},
		{"PointPoolEventKind", reflect.TypeFor[pointEventJSON](), true},
		{"FullStat", reflect.TypeFor[fullStatJSON](), true},
		{"GreylistIPs", reflect.TypeFor[greylistIPsJSON](), true},
		{"ACLBulkResult", reflect.TypeFor[bulkJSON](), true},
		{"ACLStatus", reflect.TypeFor[aclStatusJSON](), true},
		{"TunnelStatus", reflect.TypeFor[tunnelJSON](), true},
		{"PointACLRequest", reflect.TypeFor[pointPatch](), false},
		{"PeerACLRequest", reflect.TypeFor[peerPatch](), false},
		{"ACLBulkRequest", reflect.TypeFor[bulkReq](), false},
	} {
		apicheck.Schema(t, tc.schema, tc.typ, tc.response, nil, nil)
	}
}
