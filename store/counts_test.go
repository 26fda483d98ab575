package store

import (
	"context"
	"fmt"
	"maps"
	"math/rand/v2"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"helpdeskd/cases"
)

// countedStatuses counts the cases by status the slow way, the query
// case_counts replaces.
func countedStatuses(tx *Txn) (map[string]int, error) {
	return tx.counts("SELECT status, COUNT(*) FROM cases GROUP BY status")
}

// nonZero drops the statuses no case has any more (case_counts keeps
// their rows at 0).
func nonZero(m map[string]int) map[string]int {
	maps.DeleteFunc(m, func(_ string, n int) bool { return n == 0 })
	return m
}

// The case_counts triggers keep the same counts as a GROUP BY over the
// cases, through insertions, status changes, other updates and deletions.
func TestCaseCountsTriggers(t *testing.T) {
	db := openTest(t)
	ctx := context.Background()
	r := rand.New(rand.NewPCG(5, 6))
	statuses := []string{cases.StatusOpen, cases.StatusResolved, cases.StatusClosed}
	var nums []int64
	err := db.Tx(ctx, func(tx *Txn) error {
		for i := range 400 {
			switch op := r.IntN(5); {
			case op == 0 || len(nums) == 0:
				c := &cases.Case{Subject: "s", Status: statuses[r.IntN(3)], Severity: 3, Priority: "normal", OpenedAt: time.Now()}
				if err := tx.InsertCase(c); err != nil {
					return err
				}
				nums = append(nums, c.Number)
			case op == 4 && i%3 == 0:
				k := r.IntN(len(nums))
				if _, err := tx.exec("DELETE FROM cases WHERE number = ?", nums[k]); err != nil {
					return err
				}
				nums = slices.Delete(nums, k, k+1)
			default:
				c, err := tx.Case(nums[r.IntN(len(nums))])
				if err != nil {
					return err
				}
				if op == 1 || op == 2 {
					c.Status = statuses[r.IntN(3)]
				} else {
					c.Priority = "high" // an update that keeps the status
				}
				if err := tx.UpdateCase(c); err != nil {
					return err
				}
			}
			got, err := tx.CaseCounts()
			if err != nil {
				return err
			}
			want, err := countedStatuses(tx)
			if err != nil {
				return err
			}
			if !maps.Equal(nonZero(got), want) {
				t.Fatalf("step %d: case_counts %v, counted %v", i, got, want)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// The migration that adds case_counts fills it from the cases already
// stored.
func TestCaseCountsBackfilled(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "old.db")
	mig := slices.IndexFunc(migrations, func(m string) bool { return strings.Contains(m, "CREATE TABLE case_counts") })
	if mig < 0 {
		t.Fatal("no migration creates case_counts")
	}
	// A database of the release before that migration, with cases.
	old := oldDatabase(t, path, mig)
	for i, st := range []string{"open", "open", "open", "resolved", "closed", "closed"} {
		if _, err := old.Exec("INSERT INTO cases (subject, status, severity, priority, opened_at) VALUES (?, ?, 3, 'normal', ?)",
			fmt.Sprint("case ", i), st, time.Now().UnixMilli()); err != nil {
			t.Fatal(err)
		}
	}
	db := migrated(t, old, path)
	err := db.Read(ctx, func(tx *Txn) error {
		got, err := tx.CaseCounts()
		if err != nil {
			return err
		}
		if want := map[string]int{"open": 3, "resolved": 1, "closed": 2}; !maps.Equal(got, want) {
			t.Errorf("after the migration: %v, want %v", got, want)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// Solving online is overdue for /metrics as `case show` has it pending:
// passed, and no engineer dispatched; once dispatched (before the
// deadline or after), the on-site deadline is what counts.
func TestOverdueSolveOnlineOnceDispatched(t *testing.T) {
	db := openTest(t)
	ctx := context.Background()
	t0 := time.Date(2026, 11, 26, 9, 0, 0, 0, time.UTC)
	err := db.Tx(ctx, func(tx *Txn) error {
		for _, c := range []*cases.Case{
			{SolveOnlineBy: t0}, // not dispatched: overdue
			{SolveOnlineBy: t0, DispatchedAt: t0.Add(-time.Hour), OnsiteBy: t0.Add(48 * time.Hour)},                   // in time
			{SolveOnlineBy: t0, DispatchedAt: t0.Add(time.Hour), OnsiteBy: t0.Add(2 * time.Hour), OnsiteNeeded: true}, // late, on site late too
		} {
			c.Subject, c.Status, c.Severity, c.Priority, c.OpenedAt = "s", cases.StatusOpen, 2, "normal", t0.Add(-4*time.Hour)
			if err := tx.InsertCase(c); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	err = db.Read(ctx, func(tx *Txn) error {
		o, err := tx.OverdueCounts(t0.Add(3 * time.Hour))
		if err != nil {
			return err
		}
		if o.SolveOnline != 1 || o.Onsite != 1 {
			t.Errorf("overdue %+v, want solve online 1 (the one not dispatched), on site 1", o)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}
