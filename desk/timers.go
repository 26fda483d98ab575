package desk

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"time"

	"helpdeskd/cases"
	"helpdeskd/store"
	"helpdeskd/templates"
)

// Timer kinds. Each case has at most one timer of each kind; schedule
// recomputes them all from the case's state after every change, so a
// timer is never stale.
const (
	tmReply       = "reply"        // next scheduled status reply (SPEC §1.3)
	tmRespond     = "respond"      // respond_by: escalate up the chain (§1.4)
	tmRespondWarn = "respond_warn" // warn the assignee before respond_by
	tmStuck       = "stuck"        // stuck_after assignment (§1.4)
	tmSolve       = "solve"        // solve_online_by: on-site required (§1.4)
	tmSolveWarn   = "solve_warn"
	tmOnsite      = "onsite" // onsite_by after dispatch
	tmDaily       = "daily"  // end of working day report (§1.3)
	tmAutoClose   = "autoclose"
)

var allTimers = []string{tmReply, tmRespond, tmRespondWarn, tmStuck, tmSolve, tmSolveWarn, tmOnsite, tmDaily, tmAutoClose}

// fullSchedule reports whether a case gets the second and Nth replies.
func (d *Desk) fullSchedule(c *cases.Case) bool {
	return slices.Contains(d.cfg.Replies.FullSchedule, c.Severity)
}

// updateInterval is the Nth-reply interval of a case's customer.
func (d *Desk) updateInterval(c *cases.Case) time.Duration {
	if cu := d.cfg.CustomerByCompany(c.Company); cu != nil && cu.UpdateInterval > 0 {
		return cu.UpdateInterval
	}
	return d.cfg.Replies.Every
}

// nextReplyDue is when the next scheduled reply is due: the first at
// opening+first (the acknowledgement normally is it), the second at
// opening+second, then every interval after the last reply, whoever sent
// it (a staff reply inside a window counts as that window's reply).
func (d *Desk) nextReplyDue(c *cases.Case) time.Time {
	switch {
	case c.RepliesSent == 0:
		return c.OpenedAt.Add(d.cfg.Replies.First)
	case c.RepliesSent == 1:
		due := c.OpenedAt.Add(d.cfg.Replies.Second)
		if c.LastReplyAt.After(c.OpenedAt.Add(d.cfg.Replies.First)) {
			// A staff reply after the first window answered the second.
			return c.LastReplyAt.Add(d.updateInterval(c))
		}
		return due
	}
	return c.LastReplyAt.Add(d.updateInterval(c))
}

// schedule sets the timers of a case from its state.
func (d *Desk) schedule(t *store.Txn, ch *change, c *cases.Case) error {
	return d.reschedule(t, ch, c, "")
}

// reschedule is schedule after timer fired has fired: that timer's row is
// replaced or removed, and never left due again.
func (d *Desk) reschedule(t *store.Txn, ch *change, c *cases.Case, fired string) error {
	ch.timers = true
	want := map[string]time.Time{}
	switch c.Status {
	case cases.StatusOpen:
		if c.RepliesSent == 0 || d.fullSchedule(c) {
			want[tmReply] = d.nextReplyDue(c)
		}
		if c.RespondedAt.IsZero() && !c.RespondBy.IsZero() {
			if c.NextRespondCheck.IsZero() {
				c.NextRespondCheck = c.RespondBy
			}
			want[tmRespond] = c.NextRespondCheck
			// A warning is set only while it lies ahead: once it fired
			// (or the case changed after its time) it is not set again.
			if w := d.cfg.Replies.Warning; w > 0 && c.EscalationLevel == 0 && c.RespondBy.Add(-w).After(d.now()) {
				want[tmRespondWarn] = c.RespondBy.Add(-w)
			}
		}
		if !c.StuckEscalated && !c.AssignedAt.IsZero() {
			want[tmStuck] = c.AssignedAt.Add(d.cfg.Escalation.StuckAfter)
		}
		if !c.OnsiteNeeded && !c.SolveOnlineBy.IsZero() {
			want[tmSolve] = c.SolveOnlineBy
			if w := d.cfg.Replies.Warning; w > 0 && c.SolveOnlineBy.Add(-w).After(d.now()) {
				want[tmSolveWarn] = c.SolveOnlineBy.Add(-w)
			}
		}
		if !c.OnsiteBy.IsZero() && c.OnsiteArrivedAt.IsZero() && !c.OnsiteEscalated {
			want[tmOnsite] = c.OnsiteBy
		}
		if p := d.plan(c); p.Calendar != nil {
			want[tmDaily] = p.Calendar.NextEndOfWorkingDay(d.now())
		}
	case cases.StatusResolved:
		if !c.ConfirmAskedAt.IsZero() {
			want[tmAutoClose] = c.ConfirmAskedAt.Add(d.cfg.Closing.AutoCloseAfter)
		}
	}
	// Write only what changed: a wake fires many timers, and each fire
	// reschedules its case.
	have, err := t.Timers(c.Number)
	if err != nil {
		return err
	}
	current := map[string]time.Time{}
	for _, tm := range have {
		current[tm.Kind] = tm.Due
	}
	if fired != "" {
		if due, ok := want[fired]; ok && !due.After(d.now()) {
			delete(want, fired) // would fire again at once: a bug, not a schedule
			d.log.Error("timer rescheduled into the past, dropped", "case", c.Number, "kind", fired)
		}
	}
	var drop []string
	for _, k := range allTimers {
		due, ok := want[k]
		cur, exists := current[k]
		switch {
		case exists && k != fired && k != tmReply && !cur.After(d.now()):
			// Due but not fired yet (another timer of the case fired
			// first in this wake, or a change came just before): keep it.
			// fire checks the case again, so a timer that no longer
			// applies does nothing and is then removed. The reply timer
			// is the exception: a staff reply moves the window.
		case ok && (!exists || k == fired || !cur.Equal(due.Truncate(time.Millisecond))):
			if err := t.SetTimer(cases.Timer{Case: c.Number, Kind: k, Due: due}); err != nil {
				return err
			}
		case !ok && exists:
			drop = append(drop, k)
		}
	}
	if len(drop) == 0 {
		return nil
	}
	return t.DeleteTimers(c.Number, drop...)
}

// FireDue fires up to limit due timers, each exactly once: a timer's
// effects and its removal or rescheduling commit in one transaction. It
// returns how long to sleep until the next timer (at most a minute).
func (d *Desk) FireDue(ctx context.Context, limit int) (time.Duration, error) {
	now := d.now()
	var due []cases.Timer
	if err := d.db.Read(ctx, func(t *store.Txn) error {
		var err error
		due, err = t.DueTimers(now, limit)
		return err
	}); err != nil {
		return 0, err
	}
	if len(due) > 0 {
		err := d.tx(ctx, func(t *store.Txn, ch *change) error {
			for _, tm := range due {
				if err := d.fire(t, ch, tm); err != nil {
					return fmt.Errorf("timer %s on case %d: %w", tm.Kind, tm.Case, err)
				}
			}
			return nil
		})
		if err != nil {
			// Fire them one by one, so one bad timer cannot hold up the
			// rest; a timer that still fails is pushed back a minute.
			d.log.Error("fire timers", "err", err)
			for _, tm := range due {
				err := d.tx(ctx, func(t *store.Txn, ch *change) error { return d.fire(t, ch, tm) })
				if err != nil {
					d.log.Error("timer failed, retrying in 1m", "case", tm.Case, "kind", tm.Kind, "err", err)
					d.db.Tx(ctx, func(t *store.Txn) error {
						return t.SetTimer(cases.Timer{Case: tm.Case, Kind: tm.Kind, Due: now.Add(time.Minute)})
					})
				}
			}
		}
		if len(due) == limit {
			return 0, nil // more may be due
		}
	}
	var next time.Time
	var ok bool
	if err := d.db.Read(ctx, func(t *store.Txn) error {
		var err error
		next, ok, err = t.NextTimer()
		return err
	}); err != nil {
		return 0, err
	}
	wait := time.Minute
	if ok {
		wait = min(wait, max(next.Sub(d.now()), 0))
	}
	return wait, nil
}

// fire runs one timer inside a transaction. The list of due timers was
// read before the transaction began, so the timer is checked again here:
// a case change committed in between may have moved or removed it.
func (d *Desk) fire(t *store.Txn, ch *change, tm cases.Timer) error {
	due, ok, err := t.Timer(tm.Case, tm.Kind)
	if err != nil {
		return err
	}
	if !ok || due.After(d.now()) {
		return nil
	}
	c, err := t.Case(tm.Case)
	if errors.Is(err, store.ErrNotFound) {
		return t.DeleteTimers(tm.Case, tm.Kind)
	}
	if err != nil {
		return err
	}
	before := *c
	before.ThreadIDs = slices.Clone(c.ThreadIDs)
	// The timer is consumed here: reschedule below replaces or removes it
	// in this same transaction.
	now := d.now()
	switch tm.Kind {
	case tmReply:
		if c.Status == cases.StatusOpen {
			nth := c.RepliesSent + 1
			if ok, err := d.mayAutoReply(t, c.ContactEmail); err != nil {
				return err
			} else if ok {
				if err := d.toCustomer(t, ch, c, "status", templates.Data{Nth: nth, Reply: d.lastStaffReply(t, c)}, autoGenerated); err != nil {
					return err
				}
			} else {
				// The window passes without a mail: the sender is over
				// the automatic reply limit (SPEC §2).
				c.LastReplyAt = now
				if err := d.event(t, ch, c, cases.EvNote, "", "status reply not sent: automatic reply limit for "+c.ContactEmail); err != nil {
					return err
				}
			}
			c.RepliesSent = nth
		}
	case tmRespond:
		if c.Status == cases.StatusOpen && c.RespondedAt.IsZero() {
			c.EscalationLevel++
			step := min(c.EscalationLevel, len(d.cfg.Escalation.Chain)-1)
			role := d.cfg.Escalation.Chain[max(step, 0)]
			reason := fmt.Sprintf("no staff response by respond_by (escalation %d, to %s)", c.EscalationLevel, role)
			if err := d.escalate(t, ch, c, reason, c.NextRespondCheck, d.roleAddrs(role)); err != nil {
				return err
			}
			// A further slip is one more respond interval from now.
			sev := d.cfg.Severities[c.Severity]
			p := d.plan(c)
			next := sev.Respond.After(p.Calendar, now)
			if p.RespondWithin > 0 && now.Add(p.RespondWithin).Before(next) {
				next = now.Add(p.RespondWithin)
			}
			c.NextRespondCheck = next
		}
	case tmRespondWarn:
		if c.Status == cases.StatusOpen && c.RespondedAt.IsZero() && c.Engineer != "" {
			if err := d.toStaff(t, ch, c, "warning", templates.Data{Reason: "respond", Deadline: d.fmtTime(c, c.RespondBy)}, []string{c.Engineer}); err != nil {
				return err
			}
		}
	case tmSolveWarn:
		if c.Status == cases.StatusOpen && c.Engineer != "" {
			if err := d.toStaff(t, ch, c, "warning", templates.Data{Reason: "solve online", Deadline: d.fmtTime(c, c.SolveOnlineBy)}, []string{c.Engineer}); err != nil {
				return err
			}
		}
	case tmStuck:
		if c.Status == cases.StatusOpen && !c.StuckEscalated {
			c.StuckEscalated = true
			reason := fmt.Sprintf("engineer stuck: not solved %s after assignment", d.cfg.Escalation.StuckAfter)
			if err := d.escalate(t, ch, c, reason, c.AssignedAt.Add(d.cfg.Escalation.StuckAfter),
				d.roleAddrs("customer_service_manager", "implementation_manager")); err != nil {
				return err
			}
		}
	case tmSolve:
		if c.Status == cases.StatusOpen && !c.OnsiteNeeded {
			c.OnsiteNeeded = true
			reason := "not solved online in time: on-site required, please dispatch (/onsite dispatch EMAIL)"
			if err := d.escalate(t, ch, c, reason, c.SolveOnlineBy,
				d.roleAddrs("customer_service_manager", "service_centre_manager")); err != nil {
				return err
			}
		}
	case tmOnsite:
		if c.Status == cases.StatusOpen && c.OnsiteArrivedAt.IsZero() && !c.OnsiteEscalated {
			c.OnsiteEscalated = true
			reason := fmt.Sprintf("engineer %s not on site by onsite_by", c.OnsiteEngineer)
			if err := d.escalate(t, ch, c, reason, c.OnsiteBy,
				d.roleAddrs("customer_service_manager", "service_centre_manager")); err != nil {
				return err
			}
		}
	case tmDaily:
		if c.Status == cases.StatusOpen {
			if err := d.toStaff(t, ch, c, "daily", templates.Data{}, d.roleAddrs("customer_service_manager")); err != nil {
				return err
			}
		}
	case tmAutoClose:
		if c.Status == cases.StatusResolved {
			c.Status, c.ClosedAt = cases.StatusClosed, now
			if err := d.event(t, ch, c, cases.EvClosed, "", fmt.Sprintf("no answer within %s of the confirmation request", d.cfg.Closing.AutoCloseAfter)); err != nil {
				return err
			}
			if err := d.toCustomer(t, ch, c, "closed", templates.Data{Reason: d.cfg.Closing.AutoCloseAfter.String()}, autoGenerated); err != nil {
				return err
			}
		}
	default:
		d.log.Warn("unknown timer kind dropped", "case", c.Number, "kind", tm.Kind)
	}
	if err := d.reschedule(t, ch, c, tm.Kind); err != nil {
		return err
	}
	if reflect.DeepEqual(before, *c) {
		return nil // e.g. a daily report: the case itself did not change
	}
	return t.UpdateCase(c)
}

// escalate raises the priority one step, records an escalated event with
// the reason and the deadline that slipped, and tells the given people
// (SPEC §1.4).
func (d *Desk) escalate(t *store.Txn, ch *change, c *cases.Case, reason string, deadline time.Time, to []string) error {
	old := c.Priority
	c.Priority = cases.StepPriority(c.Priority, +1)
	detail := fmt.Sprintf("%s; deadline %s; priority %s -> %s", reason, deadline.In(d.loc(c)).Format(time.RFC3339), old, c.Priority)
	if err := d.event(t, ch, c, cases.EvEscalated, "", detail); err != nil {
		return err
	}
	return d.toStaff(t, ch, c, "escalation", templates.Data{Reason: reason, Deadline: d.fmtTime(c, deadline)}, to)
}

// lastStaffReply is the text of the latest public staff reply on a case.
func (d *Desk) lastStaffReply(t *store.Txn, c *cases.Case) string {
	evs, err := t.Events(c.Number)
	if err != nil {
		return ""
	}
	for i := len(evs) - 1; i >= 0; i-- {
		if evs[i].Kind == cases.EvReplyOut && evs[i].Actor != "" {
			return evs[i].Detail
		}
	}
	return ""
}
