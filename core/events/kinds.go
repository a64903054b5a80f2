package events

// Kind names what an event is about. Every kind edgeward publishes is one
// of the constants below, so a reader (a dialect mapping kinds onto its
// own, a page choosing a badge) matches constants, not strings.
type Kind string

// Peers of the overlay.
const (
	PeerCreated         Kind = "peer_created"
	PeerUpdated         Kind = "peer_updated"
	PeerDeleted         Kind = "peer_deleted"
	PeerKeyForgotten    Kind = "peer_key_forgotten"
	PeerTemporaryAccess Kind = "peer_temporary_access"
	PeerConnected       Kind = "peer_connected"
	PeerDisconnected    Kind = "peer_disconnected"
	// PeerMoved is a connected peer seen at a new endpoint (roaming).
	PeerMoved Kind = "peer_moved"
	// NewPoint is a peer connecting from an address it was not seen at
	// before; its subject is the address.
	NewPoint Kind = "new_point"
)

// Groups and policies.
const (
	GroupSaved    Kind = "group_saved"
	GroupDeleted  Kind = "group_deleted"
	PolicySaved   Kind = "policy_saved"
	PolicyDeleted Kind = "policy_deleted"
)

// Debug-bundle jobs.
const (
	JobCreated   Kind = "job_created"
	JobSucceeded Kind = "job_succeeded"
	JobFailed    Kind = "job_failed"
)

// The firewall: bans, trusts, greylist.
const (
	PeerBanned           Kind = "peer_banned"
	PeerTrusted          Kind = "peer_trusted"
	PeerOpened           Kind = "peer_opened"
	PointBanned          Kind = "point_banned"
	PointTrusted         Kind = "point_trusted"
	PointOpened          Kind = "point_opened"
	BulkBan              Kind = "bulk_ban"
	BulkTrust            Kind = "bulk_trust"
	ACLLifted            Kind = "acl_lifted"
	ConnectionsCut       Kind = "connections_cut"
	Greylisted           Kind = "greylisted"
	GreylistFull         Kind = "greylist_full"
	GreylistFilling      Kind = "greylist_filling"
	GreylistCleared      Kind = "greylist_cleared"
	AuthenticationFailed Kind = "authentication_failed"
	// ReconcileRepaired is kernel state (firewall table, WireGuard peers)
	// rebuilt from the store after it drifted.
	ReconcileRepaired Kind = "reconcile_repaired"
)

// Network interfaces.
const (
	LinkConfigChanged    Kind = "link_config_changed"
	LinkConfigConfirmed  Kind = "link_config_confirmed"
	LinkConfigRolledBack Kind = "link_config_rolled_back"
	LinkApplyFailed      Kind = "link_apply_failed"
	LinkDiscovered       Kind = "link_discovered"
	LinkRenamed          Kind = "link_renamed"
	LinkGone             Kind = "link_gone"
	VLANUnavailable      Kind = "vlan_unavailable"
)
