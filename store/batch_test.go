package store

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"helpdeskd/cases"
)

// batchDB is openTest's database, with the context and time of the
// batch tests.
func batchDB(t *testing.T) (context.Context, *DB, time.Time) {
	t.Helper()
	return context.Background(), openTest(t), time.Date(2026, 11, 26, 1, 0, 0, 0, time.UTC)
}

// Events and timers held for multi-row statements are seen by every read
// in their transaction, in the order they were added, and are committed
// with it: counts that cross the statement sizes (64, 8, 1 rows), a read
// between additions, an upsert of a timer held twice.
func TestHeldRowsAreReadAndCommitted(t *testing.T) {
	ctx, db, now := batchDB(t)
	for _, n := range []int{1, 7, 8, 9, 63, 64, 65, 64 + 8 + 3, 200} {
		t.Run(fmt.Sprint(n), func(t *testing.T) {
			c := &cases.Case{Subject: "s", Status: cases.StatusOpen, Severity: 2, Priority: "high", OpenedAt: now}
			err := db.Tx(ctx, func(tx *Txn) error {
				if err := tx.InsertCase(c); err != nil {
					return err
				}
				for i := range n {
					if err := tx.AddEvent(cases.Event{Case: c.Number, At: now, Kind: "note", Detail: fmt.Sprint(i)}); err != nil {
						return err
					}
					if i == n/2 {
						// A read in the middle sees what was added so far.
						evs, err := tx.Events(c.Number)
						if err != nil || len(evs) != i+1 {
							return fmt.Errorf("read in the middle: %d events (%v), want %d", len(evs), err, i+1)
						}
					}
				}
				for _, k := range []string{cases.TimerReply, cases.TimerSolve, cases.TimerReply} {
					if err := tx.SetTimer(cases.Timer{Case: c.Number, Kind: k, Due: now.Add(time.Duration(n) * time.Minute)}); err != nil {
						return err
					}
				}
				return tx.SetTimer(cases.Timer{Case: c.Number, Kind: cases.TimerSolve, Due: now.Add(time.Hour)})
			})
			if err != nil {
				t.Fatal(err)
			}
			err = db.Read(ctx, func(tx *Txn) error {
				evs, err := tx.Events(c.Number)
				if err != nil {
					return err
				}
				if len(evs) != n {
					return fmt.Errorf("%d events committed, want %d", len(evs), n)
				}
				for i, e := range evs {
					if e.Detail != fmt.Sprint(i) {
						return fmt.Errorf("event %d is %q: out of order", i, e.Detail)
					}
				}
				tms, err := tx.Timers(c.Number)
				if err != nil {
					return err
				}
				want := map[string]time.Time{cases.TimerReply: now.Add(time.Duration(n) * time.Minute), cases.TimerSolve: now.Add(time.Hour)}
				if len(tms) != len(want) {
					return fmt.Errorf("timers %v, want %v", tms, want)
				}
				for _, tm := range tms {
					if !tm.Due.Equal(want[tm.Kind]) {
						return fmt.Errorf("timer %s due %v, want %v", tm.Kind, tm.Due, want[tm.Kind])
					}
				}
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
		})
	}
}

// A held row that cannot be written fails the transaction at its commit,
// and nothing of the transaction is kept.
func TestHeldRowThatFailsFailsTheTransaction(t *testing.T) {
	ctx, db, now := batchDB(t)
	c := &cases.Case{Subject: "s", Status: cases.StatusOpen, Severity: 2, Priority: "high", OpenedAt: now}
	err := db.Tx(ctx, func(tx *Txn) error {
		if err := tx.InsertCase(c); err != nil {
			return err
		}
		tx.AddEvent(cases.Event{Case: c.Number, At: now, Kind: "note"})
		return tx.AddEvent(cases.Event{Case: c.Number + 100, At: now, Kind: "note"}) // no such case
	})
	if err == nil {
		t.Fatal("an event of a case that does not exist was committed")
	}
	err = db.Read(ctx, func(tx *Txn) error {
		cs, err := tx.Cases("")
		if err != nil || len(cs) != 0 {
			return fmt.Errorf("%d cases kept after the failed transaction (%v)", len(cs), err)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// Events or timers added in a read transaction are an error, not rows
// that silently vanish.
func TestHeldRowsInAReadTransaction(t *testing.T) {
	ctx, db, now := batchDB(t)
	err := db.Read(ctx, func(tx *Txn) error {
		return tx.AddEvent(cases.Event{Case: 1, At: now, Kind: "note"})
	})
	if err == nil {
		t.Fatal("an event added in a read transaction was accepted")
	}
}

// The suppression index of migration 13 is written out; its condition must
// stay the one the query repeats, or SQLite cannot use it.
func TestSuppressionToldIndex(t *testing.T) {
	if !strings.Contains(migrations[12], "WHERE "+suppressionTold+";") {
		t.Fatalf("migration 13 %q does not have the condition %q", migrations[12], suppressionTold)
	}
}
