package links

import (
	"strconv"
	"time"

	"github.com/edgeward/edgeward/core/events"
)

// Confirmation states: where an interface's last change with a rollback
// deadline stands.
const (
	ConfirmNone       = ""            // none was asked for (or the journal forgot it)
	ConfirmPending    = "pending"     // awaits Confirm until Deadline
	ConfirmExpired    = "expired"     // Deadline passed; rolled back at the next check
	ConfirmConfirmed  = "confirmed"   // kept by Confirm at At
	ConfirmRolledBack = "rolled_back" // restored at At
)

// Confirmation is where interface id's last unconfirmed change stands.
type Confirmation struct {
	State    string    // one of the Confirm constants
	Deadline time.Time // pending and expired: when the change is rolled back
	At       time.Time // confirmed and rolled back: when that happened
}

// ConfirmState tells whether interface id has a change awaiting
// confirmation at now, from the stored deadline (kept across restarts).
// When none waits, the journal's newest confirmation or rollback of it
// tells what became of the last one. An unknown id has ConfirmNone.
func (s *Service) ConfirmState(id int, now time.Time) Confirmation {
	if deadline, ok := s.Pending(id); ok {
		if now.Before(deadline) {
			return Confirmation{State: ConfirmPending, Deadline: deadline}
		}
		return Confirmation{State: ConfirmExpired, Deadline: deadline}
	}
	if s.journal == nil {
		return Confirmation{}
	}
	subject := strconv.Itoa(id)
	es := s.journal.Recent(1, func(e events.Event) bool {
		return e.Subject == subject && (e.Kind == events.LinkConfigConfirmed || e.Kind == events.LinkConfigRolledBack)
	})
	if len(es) == 0 {
		return Confirmation{}
	}
	if es[0].Kind == events.LinkConfigRolledBack {
		return Confirmation{State: ConfirmRolledBack, At: es[0].Time}
	}
	return Confirmation{State: ConfirmConfirmed, At: es[0].Time}
}
