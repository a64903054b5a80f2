package eventlog

import (
	"strings"

	"github.com/edgeward/edgeward/core/events"
)

// labels name the journal's event kinds (the constants of core/events,
// so that a kind is written once) in plain words; the raw kind stays on
// the item as data-kind for scripts and tests.
var labels = map[events.Kind]string{
	events.PeerCreated:          "Peer added",
	events.PeerUpdated:          "Peer changed",
	events.PeerDeleted:          "Peer deleted",
	events.PeerKeyForgotten:     "Peer key forgotten",
	events.PeerTemporaryAccess:  "Temporary access",
	events.PeerConnected:        "Connected",
	events.PeerDisconnected:     "Disconnected",
	events.PeerMoved:            "Peer moved",
	events.NewPoint:             "New address",
	events.GroupSaved:           "Group saved",
	events.GroupDeleted:         "Group deleted",
	events.PolicySaved:          "Policy saved",
	events.PolicyDeleted:        "Policy deleted",
	events.JobCreated:           "Debug bundle started",
	events.JobSucceeded:         "Debug bundle ready",
	events.JobFailed:            "Debug bundle failed",
	events.PeerBanned:           "Peer blocked",
	events.PeerTrusted:          "Peer trusted",
	events.PeerOpened:           "Peer unblocked",
	events.PointBanned:          "Address blocked",
	events.PointTrusted:         "Address trusted",
	events.PointOpened:          "Address unblocked",
	events.BulkBan:              "List blocked",
	events.BulkTrust:            "List trusted",
	events.ACLLifted:            "Entry removed",
	events.ConnectionsCut:       "Connections cut",
	events.Greylisted:           "Greylisted",
	events.GreylistFull:         "Greylist full",
	events.GreylistFilling:      "Greylist filling up",
	events.GreylistCleared:      "Greylist cleared",
	events.AuthenticationFailed: "Login failed",
	events.ReconcileRepaired:    "Kernel state repaired",
	events.LinkConfigChanged:    "Interface changed",
	events.LinkConfigConfirmed:  "Change confirmed",
	events.LinkConfigRolledBack: "Change rolled back",
	events.LinkApplyFailed:      "Interface change failed",
	events.LinkDiscovered:       "Interface found",
	events.LinkRenamed:          "Interface renamed",
	events.LinkGone:             "Interface gone",
	events.VLANUnavailable:      "VLAN unavailable",
}

// Label is kind in plain words. A kind without a label still reads as
// words: "ban_added" is "Ban added".
func Label(kind string) string {
	if l, ok := labels[events.Kind(kind)]; ok {
		return l
	}
	s := strings.ReplaceAll(kind, "_", " ")
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}
