package cases

import "time"

// Deadline is one SLA deadline of a case as shown to people.
type Deadline struct {
	Name    string    // respond, solve online, on site, report
	Due     time.Time // zero: not set (e.g. on site before a dispatch)
	Met     time.Time // when it was met; zero if not
	Pending bool      // still to be met: the case is open and it was not met
	Missed  bool      // superseded without being met (solve online, dispatched on site after it passed)
	// Superseded is a deadline that no longer applies: solving online,
	// once an engineer was dispatched on site before it passed.
	Superseded bool
}

// How a fault's solve-online deadline stands (SPEC §1.1 "solved online
// within …, else on-site dispatch"; §1.4): the one rule behind `case
// show` and the deadline report.
const (
	// OnlinePending: not solved, no engineer dispatched (overdue or not).
	OnlinePending = "pending"
	// OnlineSolved: resolved, without an on-site dispatch.
	OnlineSolved = "solved"
	// OnlineOnsiteInTime: an engineer was dispatched on site before the
	// deadline passed; the deadline no longer applies, it is not missed.
	OnlineOnsiteInTime = "onsite_in_time"
	// OnlineOnsiteLate: on site was needed because the deadline passed
	// unsolved; it is missed, whenever the case was resolved.
	OnlineOnsiteLate = "onsite_late"
)

// SolveOnlineOf is how c's solve-online deadline stands (one of Online*).
// The dispatch counts by DispatchedAt; for a case stored before that was
// kept, a dispatch made before the solve timer flagged on site as needed
// counts as in time.
func SolveOnlineOf(c *Case) string {
	dispatched := !c.OnsiteBy.IsZero()
	switch {
	case dispatched && !c.DispatchedAt.IsZero() && !c.DispatchedAt.After(c.SolveOnlineBy):
		return OnlineOnsiteInTime
	case dispatched && c.DispatchedAt.IsZero() && !c.OnsiteNeeded:
		return OnlineOnsiteInTime
	case dispatched || c.OnsiteNeeded && !c.ResolvedAt.IsZero():
		return OnlineOnsiteLate
	case c.OnsiteNeeded:
		return OnlinePending // needed, not dispatched yet: still to be met
	case !c.ResolvedAt.IsZero():
		return OnlineSolved
	}
	return OnlinePending
}

// CaseDeadlines lists the deadlines that the clocks of a case's kind keep
// (as Timers sets them), in the order they come (SPEC §1.1, §11.7,
// §11.8): respond, solve online (faults), on site, and an inspection's
// report. A consulting case has none: its SLA stopped.
func CaseDeadlines(c *Case) []Deadline {
	open := c.Status == StatusOpen
	kind := c.KindOrFault()
	if kind == KindConsulting {
		return nil
	}
	var out []Deadline
	if !c.RespondBy.IsZero() && kind != KindInspection {
		out = append(out, Deadline{Name: "respond", Due: c.RespondBy, Met: c.RespondedAt, Pending: open && c.RespondedAt.IsZero()})
	}
	if !c.SolveOnlineBy.IsZero() && kind == KindFault {
		d := Deadline{Name: "solve online", Due: c.SolveOnlineBy}
		switch SolveOnlineOf(c) {
		case OnlineSolved:
			d.Met = c.ResolvedAt
		case OnlineOnsiteInTime:
			d.Superseded = true
		case OnlineOnsiteLate:
			d.Missed = !c.OnsiteBy.IsZero() // once dispatched, on site is what counts
		case OnlinePending:
			d.Pending = open
		}
		out = append(out, d)
	}
	if !c.OnsiteBy.IsZero() {
		out = append(out, Deadline{Name: "on site", Due: c.OnsiteBy, Met: c.OnsiteArrivedAt, Pending: open && c.OnsiteArrivedAt.IsZero()})
	}
	if !c.ReportDueBy.IsZero() {
		out = append(out, Deadline{Name: "report", Due: c.ReportDueBy, Met: c.ResolvedAt, Pending: open && c.ResolvedAt.IsZero()})
	}
	return out
}

// NextDeadline is the earliest deadline of c still to be met, if any.
func NextDeadline(c *Case) (Deadline, bool) {
	var next Deadline
	found := false
	for _, d := range CaseDeadlines(c) {
		if d.Pending && (!found || d.Due.Before(next.Due)) {
			next, found = d, true
		}
	}
	return next, found
}

// Overdue reports whether a deadline of c has passed at at without being
// met.
func Overdue(c *Case, at time.Time) bool {
	d, ok := NextDeadline(c)
	return ok && d.Due.Before(at)
}

// Kept is how one deadline of a case stands for the deadline report (SPEC
// §10): Met, in time; Decided, met or passed without being met. A
// deadline still ahead and not met is not decided yet.
type Kept struct{ Met, Decided bool }

// How an inspection's report came (SPEC §11.7), for the deadline report.
const (
	InspectionOnTime  = "on_time"
	InspectionLate    = "late"    // report after its due time, or the inspection opened late
	InspectionMissed  = "missed"  // no report and its due time passed
	InspectionPending = "pending" // no report yet, its due time ahead
)

// Compliance is how the deadlines of a case stand at a time. A nil field
// is a deadline the case does not have: not set, or not kept by its kind.
type Compliance struct {
	Respond, SolveOnline, Onsite *Kept
	// OnsiteInTime: an engineer was dispatched on site before the
	// solve-online deadline passed; SolveOnline is nil, the deadline no
	// longer applies.
	OnsiteInTime bool
	Inspection   string // one of Inspection*; "" for other kinds
}

// ComplianceAt is how the deadlines of c stand at now, for the deadline
// report. It counts the deadlines the clocks of the kind keep (Timers): no
// response deadline for an inspection, solving online for faults only,
// none for a consulting case (its SLA stopped). Solving online stands as
// SolveOnlineOf says: missed once on site was needed, whenever the case
// was resolved; not counted once dispatched on site before it passed.
func ComplianceAt(c *Case, now time.Time) Compliance {
	var out Compliance
	kind := c.KindOrFault()
	if kind == KindConsulting {
		return out
	}
	if !c.RespondBy.IsZero() && kind != KindInspection {
		out.Respond = &Kept{Met: !c.RespondedAt.IsZero() && !c.RespondedAt.After(c.RespondBy),
			Decided: !c.RespondedAt.IsZero() || now.After(c.RespondBy)}
	}
	if !c.SolveOnlineBy.IsZero() && kind == KindFault {
		switch SolveOnlineOf(c) {
		case OnlineOnsiteInTime:
			out.OnsiteInTime = true // no longer applies: not counted
		case OnlineSolved:
			out.SolveOnline = &Kept{Met: !c.ResolvedAt.After(c.SolveOnlineBy), Decided: true}
		case OnlineOnsiteLate:
			out.SolveOnline = &Kept{Decided: true}
		default:
			out.SolveOnline = &Kept{Decided: c.OnsiteNeeded || now.After(c.SolveOnlineBy)}
		}
	}
	if !c.OnsiteBy.IsZero() {
		arrived := !c.OnsiteArrivedAt.IsZero()
		out.Onsite = &Kept{Met: arrived && !c.OnsiteArrivedAt.After(c.OnsiteBy), Decided: arrived || now.After(c.OnsiteBy)}
	}
	if kind == KindInspection {
		done := !c.ResolvedAt.IsZero()
		switch {
		case done && !c.Late && (c.ReportDueBy.IsZero() || !c.ResolvedAt.After(c.ReportDueBy)):
			out.Inspection = InspectionOnTime
		case done:
			out.Inspection = InspectionLate
		case !c.ReportDueBy.IsZero() && now.After(c.ReportDueBy):
			out.Inspection = InspectionMissed
		default:
			out.Inspection = InspectionPending
		}
	}
	return out
}
