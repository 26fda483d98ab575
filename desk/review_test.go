package desk

import (
	"slices"
	"testing"
	"time"

	"helpdeskd/cases"
	"helpdeskd/store"
)

// Probes from a review of the interpreter against SPEC §1, §4 and §11:
// each one failed before its fix.

// storedTimers lists the kinds of case n's stored timers.
func (f *fixture) storedTimers(n int64) []string {
	f.t.Helper()
	var out []string
	err := f.db.Read(f.ctx, func(t *store.Txn) error {
		tms, err := t.Timers(n)
		for _, tm := range tms {
			out = append(out, tm.Kind)
		}
		return err
	})
	if err != nil {
		f.t.Fatal(err)
	}
	slices.Sort(out)
	return out
}

// SPEC §1 scope note, issue 12.4: /scope consulting stops the SLA clocks.
// The case's stored timers are the ones cases.Timers wants after every
// event, not only after a timer fired: none are left to fire.
func TestReviewScopeConsultingDropsTimers(t *testing.T) {
	f := newFixture(t, false)
	f.mail("alice@acme.test", "Printer down", "It broke.")
	if len(f.storedTimers(1)) == 0 {
		t.Fatal("no timers after opening")
	}
	f.clk.Set(thu9.Add(5 * time.Minute))
	f.mail("eng1@example.com", "Re: [Case#1] Printer down", "/scope consulting")
	if got := f.storedTimers(1); len(got) != 0 {
		t.Errorf("timers left on a consulting case: %v", got)
	}
	// After /resolve only the auto-close timer is wanted.
	f.mail("alice@acme.test", "Scanner down", "It broke too.")
	f.mail("eng1@example.com", "Re: [Case#2] Scanner down", "/resolve")
	if got := f.storedTimers(2); !slices.Equal(got, []string{cases.TimerAutoClose}) {
		t.Errorf("timers of a resolved case: %v", got)
	}
}

// SPEC §11.4, issue 9.5: staff are told of suppressed acknowledgements
// once per sender and hour: an hour after they were last told, the next
// suppression tells them again, however many suppressions came between.
func TestReviewSuppressionToldOncePerHour(t *testing.T) {
	f := newFixture(t, false)
	f.cfg.Policy.AutoReplyLimit, f.cfg.Policy.AutoReplyWindow = 1, 24*time.Hour
	told := func(n int64) int { return count(f.outbox(n), "staff_notice>csm@example.com") }
	for i, at := range []time.Duration{0, 10 * time.Minute, 50 * time.Minute, 90 * time.Minute} {
		f.clk.Set(thu9.Add(at))
		f.mail("alice@acme.test", "Loop", "auto text")
		n := int64(i + 1)
		want := 0
		if n == 2 || n == 4 { // first suppression; more than an hour after staff were told
			want = 1
		}
		if got := told(n); got != want {
			t.Errorf("case %d (+%s): staff told %d times, want %d", n, at, got, want)
		}
	}
}

// A stored timer of a kind this version does not know (left by an older
// one) is dropped once, as the log says, not fired again at every wake.
func TestReviewUnknownTimerKindIsDropped(t *testing.T) {
	f := newFixture(t, false)
	f.mail("alice@acme.test", "Printer down", "It broke.")
	if err := f.db.Tx(f.ctx, func(t *store.Txn) error {
		return t.SetTimer(cases.Timer{Case: 1, Kind: "retired_kind", Due: thu9})
	}); err != nil {
		t.Fatal(err)
	}
	f.clk.Set(thu9.Add(time.Minute))
	for i := 0; i < 3; i++ {
		if _, err := f.d.FireDue(f.ctx, 100); err != nil {
			t.Fatal(err)
		}
	}
	if got := f.storedTimers(1); slices.Contains(got, "retired_kind") {
		t.Errorf("unknown timer kept: %v", got)
	}
}

// A timer that is due but not fired yet when a change moves it (here
// /assign restarts the stuck clock) is set to its new time, not fired at
// the old one; one that the change made unwanted stays for fire to check.
func TestReviewChangeMovesADueTimer(t *testing.T) {
	f := newFixture(t, false)
	f.mail("alice@acme.test", "Printer down", "It broke.")
	now := thu9.Add(40 * time.Minute) // stuck (+30m) is due, the scheduler has not run
	f.clk.Set(now)
	f.mail("csm@example.com", "Re: [Case#1] Printer down", "/assign eng2@example.com")
	var stuck time.Time
	f.db.Read(f.ctx, func(t *store.Txn) error {
		tms, err := t.Timers(1)
		for _, tm := range tms {
			if tm.Kind == cases.TimerStuck {
				stuck = tm.Due
			}
		}
		return err
	})
	if want := now.Add(30 * time.Minute); !stuck.Equal(want) {
		t.Errorf("stuck timer at %v, want %v", stuck.In(thu9.Location()), want)
	}
	f.advance(now)
	if n := count(f.outbox(1), "escalation>impl@example.com"); n != 0 {
		t.Errorf("stuck escalation right after the reassignment: %v", f.outbox(1))
	}
}
