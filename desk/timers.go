package desk

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"helpdeskd/cases"
	"helpdeskd/store"
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
		case exists && !ok && k != fired && k != cases.TimerReply && !cur.After(d.now()):
			// Due but not fired yet (another timer of the case fired
			// first in this wake, or a change came just before) and no
			// longer wanted (a warning whose time passed): keep it.
			// fire checks the case again, so a timer that no longer
			// applies does nothing and is then removed. A timer the
			// change moved is set to its new time below; the reply
			// timer always is: a staff reply moves the window.
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
				if err == nil {
					continue
				}
				d.log.Error("timer failed, retrying in 1m", "case", tm.Case, "kind", tm.Kind, "err", err)
				if perr := d.db.Tx(ctx, func(t *store.Txn) error {
					return t.SetTimer(cases.Timer{Case: tm.Case, Kind: tm.Kind, Due: now.Add(time.Minute)})
				}); perr != nil {
					// The timer stays due and is tried again at the next
					// wake; the caller backs off.
					return 0, fmt.Errorf("push back timer %s of case %d: %w", tm.Kind, tm.Case, perr)
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
// a case change committed in between may have moved or removed it. The
// timer is consumed here: carry replaces or removes it in this same
// transaction.
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
	if !slices.Contains(cases.TimerKinds, tm.Kind) {
		d.log.Warn("unknown timer kind dropped", "case", c.Number, "kind", tm.Kind)
		return t.DeleteTimers(tm.Case, tm.Kind)
	}
	return d.decide(t, ch, c, cases.TimerFired{Kind: tm.Kind}, &step{fired: tm.Kind, have: have})
}
