package cases

import (
	"fmt"
	"time"

	"helpdeskd/calendar"
	"helpdeskd/config"
)

// KindOrFault is the case's kind, fault when none was recorded.
func (c *Case) KindOrFault() string {
	if c.Kind == "" {
		return KindFault
	}
	return c.Kind
}

// timer decides what a due timer does (SPEC §1.3, §1.4, §1.5, §11.7,
// §11.8). A timer whose reason passed (the case changed since it was set)
// does nothing; the desk then sets the case's timers again from Timers.
func (d *decider) timer(kind string) {
	c, now := d.c, d.now
	open := c.Status == StatusOpen
	// A clock the case's kind does not have (Timers sets none for it) does
	// nothing, though a timer set before /scope or /kind still fires: a
	// consulting case has no SLA clock, a visit or an inspection is not a
	// fault to solve online.
	switch k := c.KindOrFault(); {
	case k == KindConsulting,
		k == KindInspection && kind != TimerReport && kind != TimerReportWarn,
		k != KindFault && (kind == TimerStuck || kind == TimerSolve || kind == TimerSolveWarn || kind == TimerDaily):
		return
	}
	switch kind {
	case TimerReply:
		if !open {
			return
		}
		if !c.BouncedAt.IsZero() {
			// The address bounced: the window passes without a mail.
			c.LastReplyAt, c.RepliesSent = now, c.RepliesSent+1
			d.changed()
			d.record(EvNote, "", "status reply not sent: mail to "+c.ContactEmail+" bounced; reach the customer by phone")
			return
		}
		// Scheduled status replies are never limited (SPEC §11.4).
		d.statusReply(d.f.LastStaffReply)
	case TimerRespond:
		if !open || !c.RespondedAt.IsZero() {
			return
		}
		c.EscalationLevel++
		role := ChainStep(d.cfg, c.EscalationLevel)
		d.escalate(Msg{Reason: ReasonRespond, Level: c.EscalationLevel, Who: role, Deadline: RespondCheck(c)},
			EscalationRespond, fmt.Sprintf("no staff response by respond_by (escalation %d, to %s)", c.EscalationLevel, role),
			holders(d.cfg, c, role))
		// A further slip is one more respond interval from now.
		c.NextRespondCheck = respondAfter(d.cfg, c, now)
	case TimerRespondWarn:
		if open && c.RespondedAt.IsZero() && c.Engineer != "" {
			d.staff("warning", Msg{Reason: ReasonWarnRespond, Deadline: c.RespondBy}, []string{c.Engineer})
		}
	case TimerSolveWarn:
		if open && c.Engineer != "" {
			d.staff("warning", Msg{Reason: ReasonWarnSolve, Deadline: c.SolveOnlineBy}, []string{c.Engineer})
		}
	case TimerOnsiteWarn:
		if open && c.OnsiteArrivedAt.IsZero() && c.OnsiteEngineer != "" {
			d.staff("warning", Msg{Reason: ReasonWarnOnsite, Deadline: c.OnsiteBy}, []string{c.OnsiteEngineer})
		}
	case TimerReportWarn:
		if open && c.Engineer != "" {
			d.staff("warning", Msg{Reason: ReasonWarnReport, Deadline: c.ReportDueBy}, []string{c.Engineer})
		}
	case TimerStuck:
		if !open || c.StuckEscalated {
			return
		}
		c.StuckEscalated = true
		d.escalate(Msg{Reason: ReasonStuck, Duration: d.cfg.Escalation.StuckAfter, Deadline: c.AssignedAt.Add(d.cfg.Escalation.StuckAfter)},
			EscalationStuck, fmt.Sprintf("engineer stuck: not solved %s after assignment", d.cfg.Escalation.StuckAfter),
			roleAddrs(d.cfg, "customer_service_manager", "implementation_manager"))
	case TimerSolve:
		if !open || c.OnsiteNeeded {
			return
		}
		c.OnsiteNeeded = true
		if c.OnsiteEngineer != "" {
			// Already dispatched: the on-site deadline runs, there is
			// nothing to ask the managers or offer the customer.
			d.changed()
			d.record(EvNote, "", "not solved online by solve_online_by; "+c.OnsiteEngineer+" is already dispatched")
			return
		}
		managers := roleAddrs(d.cfg, "customer_service_manager", "service_centre_manager")
		if OnsiteService(d.cfg, c) != "" {
			d.escalate(Msg{Reason: ReasonSolveOnsite, Deadline: c.SolveOnlineBy}, EscalationSolve,
				"not solved online in time: on-site required, please dispatch (/onsite dispatch EMAIL)", managers)
			return
		}
		// No on-site service bought (SPEC §11.6): the managers decide,
		// and the customer is offered a (billable) visit.
		d.escalate(Msg{Reason: ReasonSolveNoOnsite, Deadline: c.SolveOnlineBy}, EscalationSolve,
			"not solved online in time; the customer has no on-site service", managers)
		d.customer("visit_offer", AutoGenerate, Msg{})
	case TimerOnsite:
		if !open || !c.OnsiteArrivedAt.IsZero() || c.OnsiteEscalated {
			return
		}
		c.OnsiteEscalated = true
		d.escalate(Msg{Reason: ReasonOnsite, Who: c.OnsiteEngineer, Deadline: c.OnsiteBy}, EscalationOnsite,
			fmt.Sprintf("engineer %s not on site by onsite_by", c.OnsiteEngineer),
			roleAddrs(d.cfg, "customer_service_manager", "service_centre_manager"))
	case TimerReport:
		if !open || !c.ResolvedAt.IsZero() || c.OnsiteEscalated {
			return
		}
		// A late inspection report escalates like a solve slip (SPEC §11.7).
		c.OnsiteEscalated = true
		d.escalate(Msg{Reason: ReasonReport, Deadline: c.ReportDueBy}, EscalationReport, "inspection report not sent by its due time",
			roleAddrs(d.cfg, "customer_service_manager", "service_centre_manager"))
	case TimerRemind:
		if !open || !c.RemindedAt.IsZero() {
			return
		}
		c.RemindedAt = now
		d.changed()
		to := c.OnsiteEngineer
		if to == "" {
			to = c.Engineer
		}
		d.record(EvReminded, "", fmt.Sprintf("%s visit on %s: %s reminded", c.KindOrFault(), c.PlannedDate.Format(time.DateOnly), to))
		d.staff("staff_notice", Msg{Reason: ReasonVisitReminder, Date: c.PlannedDate, Who: c.KindOrFault()}, []string{to})
	case TimerDaily:
		if open && FullSchedule(d.cfg, c) {
			d.staff("daily", Msg{}, roleAddrs(d.cfg, "customer_service_manager"))
		}
	case TimerAutoClose:
		if c.Status != StatusResolved {
			return
		}
		c.Status, c.ClosedAt = StatusClosed, now
		d.changed()
		d.record(EvClosed, "", fmt.Sprintf("no answer within %s of the confirmation request", d.cfg.Closing.AutoCloseAfter))
		d.customer("closed", AutoGenerate, Msg{Reason: ReasonAutoClosed, Duration: d.cfg.Closing.AutoCloseAfter})
	}
}

// escalate raises the priority one step, records an escalated event with
// the escalation kind, the reason and the deadline that slipped, and tells
// the given people (SPEC §1.4). The detail starts with "KIND: " so that
// reports count escalations by kind.
func (d *decider) escalate(m Msg, kind, reason string, to []string) {
	c := d.c
	old := c.Priority
	c.Priority = StepPriority(c.Priority, +1)
	d.changed()
	d.record(EvEscalated, "", fmt.Sprintf("%s: %s; deadline %s; priority %s -> %s", kind, reason,
		m.Deadline.UTC().Format(time.RFC3339), old, c.Priority))
	d.staff("escalation", m, to)
}

// ChainStep is the role a case goes to at its level-th respond slip (SPEC
// §1.4): the next person up the chain from where the case sits. A case
// sits with its engineer, so when the chain starts with "engineer" the
// first slip goes to the second step; a chain that starts elsewhere
// starts there. Further slips climb one step each, and stay at the top.
func ChainStep(cfg *config.Config, level int) string {
	chain := cfg.Escalation.Chain
	if len(chain) == 0 {
		return "customer_service_manager"
	}
	start := 0
	if chain[0] == "engineer" && len(chain) > 1 {
		start = 1
	}
	return chain[min(start+max(level, 1)-1, len(chain)-1)]
}

// respondAfter is one respond interval of the case's severity after t,
// capped by the plan's respond_within.
func respondAfter(cfg *config.Config, c *Case, t time.Time) time.Time {
	sev := cfg.Severities[c.Severity]
	p := cfg.PlanOrDefault(c.Plan)
	next := sev.Respond.After(p.Calendar, t)
	if p.RespondWithin > 0 && t.Add(p.RespondWithin).Before(next) {
		next = t.Add(p.RespondWithin)
	}
	return next
}

// OnsiteService is the on-site service the case's customer bought
// ("onsite_7x24", "onsite_5x8" or "" for none, SPEC §11.6).
func OnsiteService(cfg *config.Config, c *Case) string {
	cu := cfg.CustomerByCompany(c.Company)
	if cu == nil {
		return ""
	}
	return cu.Onsite()
}

// onsiteCalendar is the calendar on-site deadlines count on: always open
// for a 7×24 on-site service, the 5x8 plan's calendar for a 5×8 one
// (whatever plan the customer's hotline and email support is on), the
// case's plan calendar otherwise (SPEC §11.6).
func onsiteCalendar(cfg *config.Config, c *Case) *calendar.Calendar {
	switch OnsiteService(cfg, c) {
	case "onsite_7x24":
		return calendar.Always()
	case "onsite_5x8":
		if p, ok := cfg.Plans["5x8"]; ok && p.Calendar != nil {
			return p.Calendar
		}
	}
	return cfg.PlanOrDefault(c.Plan).Calendar
}

// OnsiteDeadlineFor is when an engineer dispatched at t to case c must be
// on site: the severity's on-site allowance on the calendar of the
// customer's on-site service.
func OnsiteDeadlineFor(cfg *config.Config, c *Case, t time.Time) time.Time {
	sev, ok := cfg.Severities[c.Severity]
	if !ok {
		return time.Time{}
	}
	return sev.Onsite.After(onsiteCalendar(cfg, c), t)
}

// VisitReminder is when the engineer of a visit is reminded: the first
// working minute of the working day before the planned day (SPEC §11.8);
// zero if there is none.
func VisitReminder(cfg *config.Config, c *Case) time.Time {
	cal := cfg.PlanOrDefault(c.Plan).Calendar
	if cal == nil || c.PlannedDate.IsZero() {
		return time.Time{}
	}
	prev, ok := cal.PrevWorkingDay(calendar.DateOf(c.PlannedDate))
	if !ok {
		return time.Time{}
	}
	t, _ := cal.FirstWorkingMinute(prev)
	return t
}

// visitDeadline is when the engineer of a dispatched visit must be on
// site: the end of the planned day's working time, or the severity's
// on-site allowance when there is no planned day.
func visitDeadline(cfg *config.Config, c *Case) time.Time {
	cal := cfg.PlanOrDefault(c.Plan).Calendar
	if c.PlannedDate.IsZero() || cal == nil {
		return OnsiteDeadlineFor(cfg, c, c.DispatchedAt)
	}
	return cal.EndOf(calendar.DateOf(c.PlannedDate))
}

// kindChanged acts on /kind and /scope (SPEC §11.8, scope note of §1).
func (d *decider) kindChanged(actor config.Staff) {
	c := d.c
	dropKindDeadlines(c)
	switch c.Kind {
	case KindConsulting:
		// Out of scope: the consulting team takes over, the SLA clocks
		// stop (Timers sets none), the customer is told.
		d.staff("notify_new", Msg{Reason: ReasonConsulting, Sender: actor}, roleAddrs(d.cfg, "consulting"))
		if !d.staffReply { // else the staff member's own words tell them
			d.customer("consulting", AutoGenerate, Msg{})
		}
	case KindFault:
		// A hand-over or a visit undone: the fault's deadlines count again
		// from when its clocks started.
		c.RespondBy, c.SolveOnlineBy = Deadlines(d.cfg, d.cfg.PlanOrDefault(c.Plan), c.Severity, c.ClockStart)
	case KindInstallation, KindTraining:
		if c.Engineer != "" {
			d.staff("notify_assigned", Msg{Date: c.PlannedDate}, []string{c.Engineer})
		}
	}
}
