package cases

import (
	"slices"
	"strings"
)

// Escalation kinds: what slipped, as the detail of an escalated event
// starts with it (see escalate).
const (
	EscalationRespond = "respond" // no staff response by respond_by
	EscalationStuck   = "stuck"   // engineer stuck after assignment
	EscalationSolve   = "solve"   // not solved online in time
	EscalationOnsite  = "onsite"  // engineer not on site in time
	EscalationReport  = "report"  // inspection report overdue
	EscalationOther   = "other"
)

// EscalationKinds lists every kind EscalationKind returns.
var EscalationKinds = []string{EscalationRespond, EscalationStuck, EscalationSolve, EscalationOnsite, EscalationReport, EscalationOther}

// EscalationKind classifies an escalated event. Its detail starts with the
// kind ("KIND: REASON; deadline T; priority A -> B", see escalate);
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
		return EscalationRespond
	case has("stuck"):
		return EscalationStuck
	case has("report"):
		return EscalationReport
	case has("not solved online", "solve"):
		return EscalationSolve
	case has("on site", "onsite", "on-site"):
		return EscalationOnsite
	}
	return EscalationOther
}
