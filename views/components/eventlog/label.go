package eventlog

import "strings"

// labels name the journal's event kinds (core/events/kinds.go) in plain
// words; the raw kind stays on the item as data-kind for scripts and tests.
var labels = map[string]string{
	"peer_created":            "Peer added",
	"peer_updated":            "Peer changed",
	"peer_deleted":            "Peer deleted",
	"peer_key_forgotten":      "Peer key forgotten",
	"peer_temporary_access":   "Temporary access",
	"peer_connected":          "Connected",
	"peer_disconnected":       "Disconnected",
	"peer_moved":              "Peer moved",
	"new_point":               "New address",
	"group_saved":             "Group saved",
	"group_deleted":           "Group deleted",
	"policy_saved":            "Policy saved",
	"policy_deleted":          "Policy deleted",
	"job_created":             "Debug bundle started",
	"job_succeeded":           "Debug bundle ready",
	"job_failed":              "Debug bundle failed",
	"peer_banned":             "Peer blocked",
	"peer_trusted":            "Peer trusted",
	"peer_opened":             "Peer unblocked",
	"point_banned":            "Address blocked",
	"point_trusted":           "Address trusted",
	"point_opened":            "Address unblocked",
	"bulk_ban":                "List blocked",
	"bulk_trust":              "List trusted",
	"acl_lifted":              "Entry removed",
	"connections_cut":         "Connections cut",
	"greylisted":              "Greylisted",
	"greylist_full":           "Greylist full",
	"greylist_filling":        "Greylist filling up",
	"greylist_cleared":        "Greylist cleared",
	"authentication_failed":   "Login failed",
	"reconcile_repaired":      "Kernel state repaired",
	"link_config_changed":     "Interface changed",
	"link_config_confirmed":   "Change confirmed",
	"link_config_rolled_back": "Change rolled back",
	"link_apply_failed":       "Interface change failed",
	"link_discovered":         "Interface found",
	"link_renamed":            "Interface renamed",
	"link_gone":               "Interface gone",
	"vlan_unavailable":        "VLAN unavailable",
}

// Label is kind in plain words. A kind without a label still reads as
// words: "ban_added" is "Ban added".
func Label(kind string) string {
	if l, ok := labels[kind]; ok {
		return l
	}
	s := strings.ReplaceAll(kind, "_", " ")
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}
