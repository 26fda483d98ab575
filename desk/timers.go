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

// schedule sets the timers of a case from its state.
func (d *Desk) schedule(t *store.Txn, ch *change, c *cases.Case) error {
	have, err := t.Timers(c.Number)
	if err != nil {
		return err
	}
	return d.reschedule(t, ch, c, "", have)
}

// reschedule is schedule after timer fired has fired: that timer's row is
// replaced or removed, and never left due again. have is the case's
// stored timers; only what differs from them is written, since a wake
// fires many timers and each fire reschedules its case.
func (d *Desk) reschedule(t *store.Txn, ch *change, c *cases.Case, fired string, have []cases.Timer) error {
	ch.timers = true
	want := cases.Timers(d.cfg, c, d.now())
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
	for _, k := range cases.TimerKinds {
		due, ok := want[k]
		cur, exists := current[k]
		switch {
		case exists && k != fired && k != cases.TimerReply && !cur.After(d.now()):
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
	have, err := t.Timers(tm.Case)
	if err != nil {
		return err
	}
	i := slices.IndexFunc(have, func(h cases.Timer) bool { return h.Kind == tm.Kind })
	if i < 0 || have[i].Due.After(d.now()) {
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
	case cases.TimerReply:
		if c.Status == cases.StatusOpen {
			ok, err := d.mayAutoReply(t, c.ContactEmail)
			if err != nil {
				return err
			}
			if ok {
				reply, err := t.LastStaffReply(c.Number)
				if err != nil {
					return err
				}
				if err := d.statusReply(t, ch, c, reply); err != nil {
					return err
				}
				break
			}
			// The window passes without a mail: the sender is over the
			// automatic reply limit (SPEC §2).
			c.LastReplyAt = now
			c.RepliesSent++
			if err := d.event(t, ch, c, cases.EvNote, "", "status reply not sent: automatic reply limit for "+c.ContactEmail); err != nil {
				return err
			}
		}
	case cases.TimerRespond:
		if c.Status == cases.StatusOpen && c.RespondedAt.IsZero() {
			c.EscalationLevel++
			step := min(c.EscalationLevel, len(d.cfg.Escalation.Chain)-1)
			role := d.cfg.Escalation.Chain[max(step, 0)]
			reason := fmt.Sprintf("no staff response by respond_by (escalation %d, to %s)", c.EscalationLevel, role)
			if err := d.escalate(t, ch, c, reason, cases.RespondCheck(c), d.roleAddrs(role)); err != nil {
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
	case cases.TimerRespondWarn:
		if c.Status == cases.StatusOpen && c.RespondedAt.IsZero() && c.Engineer != "" {
			if err := d.toStaff(t, ch, c, "warning", templates.Data{Reason: "respond", Deadline: d.fmtTime(c, c.RespondBy)}, []string{c.Engineer}); err != nil {
				return err
			}
		}
	case cases.TimerSolveWarn:
		if c.Status == cases.StatusOpen && c.Engineer != "" {
			if err := d.toStaff(t, ch, c, "warning", templates.Data{Reason: "solve online", Deadline: d.fmtTime(c, c.SolveOnlineBy)}, []string{c.Engineer}); err != nil {
				return err
			}
		}
	case cases.TimerStuck:
		if c.Status == cases.StatusOpen && !c.StuckEscalated {
			c.StuckEscalated = true
			reason := fmt.Sprintf("engineer stuck: not solved %s after assignment", d.cfg.Escalation.StuckAfter)
			if err := d.escalate(t, ch, c, reason, c.AssignedAt.Add(d.cfg.Escalation.StuckAfter),
				d.roleAddrs("customer_service_manager", "implementation_manager")); err != nil {
				return err
			}
		}
	case cases.TimerSolve:
		if c.Status == cases.StatusOpen && !c.OnsiteNeeded {
			c.OnsiteNeeded = true
			reason := "not solved online in time: on-site required, please dispatch (/onsite dispatch EMAIL)"
			if err := d.escalate(t, ch, c, reason, c.SolveOnlineBy,
				d.roleAddrs("customer_service_manager", "service_centre_manager")); err != nil {
				return err
			}
		}
	case cases.TimerOnsite:
		if c.Status == cases.StatusOpen && c.OnsiteArrivedAt.IsZero() && !c.OnsiteEscalated {
			c.OnsiteEscalated = true
			reason := fmt.Sprintf("engineer %s not on site by onsite_by", c.OnsiteEngineer)
			if err := d.escalate(t, ch, c, reason, c.OnsiteBy,
				d.roleAddrs("customer_service_manager", "service_centre_manager")); err != nil {
				return err
			}
		}
	case cases.TimerDaily:
		if c.Status == cases.StatusOpen {
			if err := d.toStaff(t, ch, c, "daily", templates.Data{}, d.roleAddrs("customer_service_manager")); err != nil {
				return err
			}
		}
	case cases.TimerAutoClose:
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
	if err := d.reschedule(t, ch, c, tm.Kind, have); err != nil {
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
