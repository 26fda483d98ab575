package cases

import (
	"slices"
	"strings"
)

// Escalation kinds: an escalated event's detail starts with one (see
// escalate), and reports count escalations by them (EscalationKind).
const (
	EscRespond = "respond" // no staff response by respond_by
	EscStuck   = "stuck"   // engineer stuck after assignment
	EscSolve   = "solve"   // not solved online in time
	EscOnsite  = "onsite"  // engineer not on site in time
	EscReport  = "report"  // inspection report overdue
	EscOther   = "other"
)

// EscalationKinds lists every escalation kind, EscOther last.
var EscalationKinds = []string{EscRespond, EscStuck, EscSolve, EscOnsite, EscReport, EscOther}

// EscalationKind classifies an escalated event. Its detail starts with the
// kind ("KIND: REASON; deadline T; priority A -> B", decider.escalate);
// events recorded before that start with the reason, classified by its
// words. The order matters: a stuck reason says "not solved", a solve
// reason names "/onsite dispatch". Addresses in the reason (the on-site
// engineer's) are left out, so that no mailbox name reads as a reason.
func EscalationKind(detail string) string {
	reason, _, _ := strings.Cut(strings.ToLower(detail), ";")
	if kind, _, ok := strings.Cut(reason, ":"); ok && slices.Contains(EscalationKinds, kind) {
		return kind
	}
	reason = strings.Join(slices.DeleteFunc(strings.Fields(reason), func(w string) bool { return strings.Contains(w, "@") }), " ")
	has := func(words ...string) bool {
		for _, w := range words {
			if strings.Contains(reason, w) {
				return true
			}
		}
		return false
	}
	switch {
	case has("no staff response", "respond"):
		return EscRespond
	case has("stuck"):
		return EscStuck
	case has("report"):
		return EscReport
	case has("not solved online", "solve"):
		return EscSolve
	case has("on site", "onsite", "on-site"):
		return EscOnsite
	}
	return EscOther
}
