package cases

import (
	"slices"
	"strings"
	"time"

	"helpdeskd/config"
)

// Timer kinds. Each case has at most one timer of each kind; Timers
// computes all of them from the case's state, so a timer is never stale.
const (
	TimerReply       = "reply"        // next scheduled status reply (SPEC §1.3)
	TimerRespond     = "respond"      // respond_by: escalate up the chain (§1.4)
	TimerRespondWarn = "respond_warn" // warn the assignee before respond_by
	TimerStuck       = "stuck"        // stuck_after assignment (§1.4)
	TimerSolve       = "solve"        // solve_online_by: on-site required (§1.4)
	TimerSolveWarn   = "solve_warn"
	TimerOnsite      = "onsite" // onsite_by after dispatch
	TimerOnsiteWarn  = "onsite_warn"
	TimerDaily       = "daily" // end of working day report (§1.3)
	TimerAutoClose   = "autoclose"
	TimerReport      = "report"      // inspection report due (SPEC §11.7)
	TimerReportWarn  = "report_warn" // warn before the report is due
	TimerRemind      = "remind"      // a visit is the next working day (SPEC §11.8)
)

// TimerKinds lists every timer kind.
var TimerKinds = []string{TimerReply, TimerRespond, TimerRespondWarn, TimerStuck, TimerSolve, TimerSolveWarn,
	TimerOnsite, TimerOnsiteWarn, TimerDaily, TimerAutoClose, TimerReport, TimerReportWarn, TimerRemind}

// FullSchedule reports whether a case gets the second and Nth replies
// (SPEC §1.3: the other severities get the first and the last only).
func FullSchedule(cfg *config.Config, c *Case) bool {
	return slices.Contains(cfg.Replies.FullSchedule, c.Severity)
}

// UpdateInterval is the Nth-reply interval of a case: its customer's own
// update_interval, else [replies] every.
func UpdateInterval(cfg *config.Config, c *Case) time.Duration {
	if cu := cfg.CustomerByCompany(c.Company); cu != nil && cu.UpdateInterval > 0 {
		return cu.UpdateInterval
	}
	return cfg.Replies.Every
}

// NextReplyDue is when the next scheduled reply is due: the first at
// opening+first (the acknowledgement normally is it), the second at
// opening+second, then every interval after the last reply, whoever sent
// it (a staff reply inside a window counts as that window's reply).
func NextReplyDue(cfg *config.Config, c *Case) time.Time {
	return inWorkingTime(cfg, c, nextReplyDue(cfg, c))
}

func nextReplyDue(cfg *config.Config, c *Case) time.Time {
	switch {
	case c.RepliesSent == 0:
		return c.OpenedAt.Add(cfg.Replies.First)
	case c.RepliesSent == 1:
		if c.LastReplyAt.After(c.OpenedAt.Add(cfg.Replies.First)) {
			// A staff reply after the first window answered the second.
			return c.LastReplyAt.Add(UpdateInterval(cfg, c))
		}
		return c.OpenedAt.Add(cfg.Replies.Second)
	}
	return c.LastReplyAt.Add(UpdateInterval(cfg, c))
}

// inWorkingTime moves a scheduled status reply that falls outside the
// working time of the case's plan calendar to the next working minute: a
// 5×8 customer is not written to at night or on a holiday (the seed
// rules' reply mechanism runs "在5*8正常工作时间范围内"); on the always-open
// 7×24 calendar nothing moves. The acknowledgement is not scheduled and
// always goes at once.
func inWorkingTime(cfg *config.Config, c *Case, t time.Time) time.Time {
	cal := cfg.PlanOrDefault(c.Plan).Calendar
	if cal == nil || cal.IsWorking(t) {
		return t
	}
	return cal.AddWorking(t, time.Nanosecond).Add(-time.Nanosecond)
}

// RespondCheck is when the respond escalation is checked next: respond_by,
// then one respond interval after each slip.
func RespondCheck(c *Case) time.Time {
	if c.NextRespondCheck.IsZero() {
		return c.RespondBy
	}
	return c.NextRespondCheck
}

// Timers returns the timers a case should have at now, by kind (SPEC
// §1.3-§1.5, §11.7, §11.8). Warnings are only set while they lie ahead, so
// a warning that fired (or whose time passed while the case changed) is
// not set again. A consulting case has no clock (its SLA stopped); a
// visit (installation, training) keeps the respond deadline and the
// on-site tracking but is not a fault to solve online; an inspection has
// its report deadline only.
func Timers(cfg *config.Config, c *Case, now time.Time) map[string]time.Time {
	want := map[string]time.Time{}
	warn := cfg.Replies.Warning
	setWarn := func(kind string, deadline time.Time) {
		if w := deadline.Add(-warn); warn > 0 && w.After(now) {
			want[kind] = w
		}
	}
	switch c.Status {
	case StatusOpen:
		kind := c.KindOrFault()
		if kind == KindConsulting {
			return want
		}
		if kind == KindInspection {
			if !c.ReportDueBy.IsZero() && c.ResolvedAt.IsZero() && !c.OnsiteEscalated {
				want[TimerReport] = c.ReportDueBy
				setWarn(TimerReportWarn, c.ReportDueBy)
			}
			return want
		}
		if c.ContactEmail != "" && c.BouncedAt.IsZero() && (c.RepliesSent == 0 || (kind == KindFault && FullSchedule(cfg, c))) {
			want[TimerReply] = NextReplyDue(cfg, c)
		}
		if c.RespondedAt.IsZero() && !c.RespondBy.IsZero() {
			want[TimerRespond] = RespondCheck(c)
			if c.EscalationLevel == 0 {
				setWarn(TimerRespondWarn, c.RespondBy)
			}
		}
		if kind == KindFault {
			if !c.StuckEscalated && !c.AssignedAt.IsZero() {
				want[TimerStuck] = c.AssignedAt.Add(cfg.Escalation.StuckAfter)
			}
			// Dispatched on site in time, solving online no longer
			// applies: no warning, no slip (SolveOnlineOf).
			if !c.OnsiteNeeded && !c.SolveOnlineBy.IsZero() && SolveOnlineOf(c) != OnlineOnsiteInTime {
				want[TimerSolve] = c.SolveOnlineBy
				setWarn(TimerSolveWarn, c.SolveOnlineBy)
			}
			// The end-of-day report to the superior is part of the full
			// schedule (the seed rules' ⑶, severities 1-3 by default).
			if p := cfg.PlanOrDefault(c.Plan); p.Calendar != nil && FullSchedule(cfg, c) {
				want[TimerDaily] = p.Calendar.NextEndOfWorkingDay(now)
			}
		} else if !c.PlannedDate.IsZero() && c.RemindedAt.IsZero() {
			if r := VisitReminder(cfg, c); !r.IsZero() {
				want[TimerRemind] = r
			}
		}
		if !c.OnsiteBy.IsZero() && c.OnsiteArrivedAt.IsZero() && !c.OnsiteEscalated {
			want[TimerOnsite] = c.OnsiteBy
			setWarn(TimerOnsiteWarn, c.OnsiteBy)
		}
	case StatusResolved:
		if !c.ConfirmAskedAt.IsZero() {
			want[TimerAutoClose] = c.ConfirmAskedAt.Add(cfg.Closing.AutoCloseAfter)
		}
	}
	return want
}

// InReopenWindow reports whether a customer's mail at now reopens a closed
// case; later mail opens a new case that links to it (SPEC §1.5).
func InReopenWindow(cfg *config.Config, c *Case, now time.Time) bool {
	return cfg.Closing.ReopenWindow > 0 && now.Sub(c.ClosedAt) <= cfg.Closing.ReopenWindow
}

// Authenticated reports whether the receiving server vouched for the
// sender's domain: an Authentication-Results header (RFC 8601) with
// dkim=pass or dmarc=pass for it (SPEC §4, [security]).
func Authenticated(from string, authResults []string) bool {
	_, dom, _ := strings.Cut(strings.ToLower(from), "@")
	for _, ar := range authResults {
		for _, part := range strings.Split(strings.ToLower(ar), ";") {
			part = strings.TrimSpace(part)
			if (strings.HasPrefix(part, "dkim=pass") && (strings.Contains(part, "header.d="+dom) || strings.Contains(part, "header.i=@"+dom))) ||
				(strings.HasPrefix(part, "dmarc=pass") && strings.Contains(part, "header.from="+dom)) {
				return true
			}
		}
	}
	return false
}
