package desk

import (
	"context"
	"log/slog"
	"runtime/debug"
	"time"
)

// Scheduler fires due case timers. It sleeps until the earliest stored
// timer is due, or until Wake is called after a case change; it never
// loops over all cases (SPEC §1.3, §1.4).
type Scheduler struct {
	d    *Desk
	now  func() time.Time
	log  *slog.Logger
	wake chan struct{}
	// inspected is when inspection schedules were last looked at.
	inspected time.Time
}

// NewScheduler returns a scheduler for d. now nil means time.Now.
func NewScheduler(d *Desk, now func() time.Time, log *slog.Logger) *Scheduler {
	if now == nil {
		now = time.Now
	}
	if log == nil {
		log = slog.Default()
	}
	return &Scheduler{d: d, now: now, log: log, wake: make(chan struct{}, 1)}
}

// Wake tells the scheduler that timers changed. It never blocks.
func (s *Scheduler) Wake() {
	select {
	case s.wake <- struct{}{}:
	default:
	}
}

// safeFire fires due timers; a panic is logged and the loop goes on.
func (s *Scheduler) safeFire(ctx context.Context) (wait time.Duration, err error) {
	defer func() {
		if r := recover(); r != nil {
			s.log.Error("timer panic", "panic", r, "stack", string(debug.Stack()))
			wait, err = 5*time.Second, nil
		}
	}()
	wait, err = s.d.FireDue(ctx, 100)
	if now := s.now(); s.inspected.IsZero() || now.Sub(s.inspected) >= time.Minute {
		// Inspection schedules are looked at once a minute, and at
		// start, so an inspection due today opens at start.
		s.inspected = now
		if ierr := s.d.Inspections(ctx); ierr != nil {
			s.log.Error("inspections", "err", ierr)
		}
	}
	return wait, err
}

// Run fires timers until ctx is done.
func (s *Scheduler) Run(ctx context.Context) error {
	for {
		wait, err := s.safeFire(ctx)
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			s.log.Error("fire timers", "err", err)
			wait = 5 * time.Second
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return nil
		case <-s.wake:
		case <-t.C:
		}
		t.Stop()
	}
}
