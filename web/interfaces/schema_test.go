package interfaces

import (
	"reflect"
	"testing"

	"github.com/edgeward/edgeward/web/internal/apispec/apicheck"
)

// TestSchemasMatchGoTypes compares each schema of the dialect with the Go
// type the handlers write or read: the same JSON field names, compatible
// JSON types, and for responses a field is required exactly when it is
// not omitempty.
func TestSchemasMatchGoTypes(t *testing.T) {
	for _, tc := range []struct {
		schema   string
		typ      reflect.Type
		response bool
	}{
		{"qError", reflect.TypeFor[qError](), true},
		{"MonitorURI", reflect.TypeFor[monitorJSON](), true},
		{"InterfaceConfig", reflect.TypeFor[ifaceJSON](), true},
		{"InterfaceConfigRequest", reflect.TypeFor[ifaceReq](), false},
		{"NetworkConfig", reflect.TypeFor[networkJSON](), true},
		{"NetworkConfigRequest", reflect.TypeFor[networkReq](), false},
		{"NodeNetworkStatus", reflect.TypeFor[nodeStatusJSON](), true},
		{"InterfaceDetails", reflect.TypeFor[detailsJSON](), true},
		{"InterfaceStatus", reflect.TypeFor[ifaceStatusJSON](), true},
		{"NetworkStatus", reflect.TypeFor[networkStatusJSON](), true},
		{"SessionLoginRequest", reflect.TypeFor[loginReq](), false},
		{"SessionLogin", reflect.TypeFor[loginJSON](), true},
	} {
		apicheck.Schema(t, tc.schema, tc.typ, tc.response, nil, nil)
	}
}
