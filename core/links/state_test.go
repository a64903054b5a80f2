package links

import "testing"

// TestState maps every kernel operstate, with and without carrier, onto
// the API's published interface_status enum (UP, DOWN, MISSING).
func TestState(t *testing.T) {
	yes, no := true, false
	tests := []struct {
		name    string
		oper    string
		carrier *bool
		want    string
	}{
		{"up", OperUp, &yes, StateUp},
		{"up without a carrier flag", OperUp, nil, StateUp},
		{"wireguard or tun with carrier", OperUnknown, &yes, StateUp},
		{"tun without a reader", OperUnknown, &no, StateDown},
		{"unknown, carrier not said", OperUnknown, nil, StateDown},
		{"empty operstate with carrier", "", &yes, StateUp},
		{"down", OperDown, &no, StateDown},
		{"veth whose peer is down", OperLowerLayerDown, &no, StateDown},
		{"dormant", OperDormant, &yes, StateDown},
		{"not present", OperNotPresent, nil, StateDown},
		{"testing", OperTesting, &yes, StateDown},
		{"gone", OperMissing, nil, StateMissing},
		{"a state the kernel may add later", "FLAPPING", &yes, StateDown},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := State(tt.oper, tt.carrier); got != tt.want {
				t.Errorf("State(%q, %v) = %q, want %q", tt.oper, tt.carrier, got, tt.want)
			}
		})
	}
}
