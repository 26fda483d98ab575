package store

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"helpdeskd/cases"
)

func TestCreateMakesPrivateFiles(t *testing.T) {
	old := syscall.Umask(0o022) // a typical login shell's umask
	defer syscall.Umask(old)
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "new.db")
	db, err := Create(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	now := time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)
	if err := db.Tx(ctx, func(tx *Txn) error {
		return tx.InsertCase(&cases.Case{Subject: "s", Status: cases.StatusOpen, Severity: 2, Priority: "high", OpenedAt: now})
	}); err != nil {
		t.Fatal(err)
	}
	// Reading through the reader pool opens the -shm file too.
	if err := db.Read(ctx, func(tx *Txn) error { _, err := tx.Case(1); return err }); err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{path, path + "-wal", path + "-shm"} {
		st, err := os.Stat(f)
		if err != nil {
			t.Fatal(err)
		}
		if st.Mode().Perm() != 0o600 {
			t.Errorf("%s: mode %v, want 0600", filepath.Base(f), st.Mode().Perm())
		}
	}
}

func TestOpenExistingDoesNotCreate(t *testing.T) {
	path := filepath.Join(t.TempDir(), "missing.db")
	_, err := OpenExisting(context.Background(), path)
	if !errors.Is(err, ErrNoDatabase) || !strings.Contains(err.Error(), path) || !strings.Contains(err.Error(), "run serve first") {
		t.Fatalf("err = %v", err)
	}
	if _, err := os.Stat(path); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("OpenExisting created %s", path)
	}
}

func TestBackupIsAConsistentCopy(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	db, err := Create(ctx, filepath.Join(dir, "live.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	now := time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)
	for _, subj := range []string{"printer on fire", "database down"} {
		if err := db.Tx(ctx, func(tx *Txn) error {
			return tx.InsertCase(&cases.Case{Subject: subj, Status: cases.StatusOpen, Severity: 2, Priority: "high", OpenedAt: now})
		}); err != nil {
			t.Fatal(err)
		}
	}
	bak := filepath.Join(dir, "copy.db")
	if err := db.Backup(ctx, bak); err != nil {
		t.Fatal(err)
	}
	if st, err := os.Stat(bak); err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("backup file: %v %v", st, err)
	}
	// A second backup to the same file is refused, and keeps the first.
	if err := db.Backup(ctx, bak); err == nil {
		t.Error("backup overwrote an existing file")
	}
	copyDB, err := OpenExisting(ctx, bak)
	if err != nil {
		t.Fatal(err)
	}
	defer copyDB.Close()
	err = copyDB.Read(ctx, func(tx *Txn) error {
		list, err := tx.Cases("all")
		if err != nil {
			return err
		}
		if len(list) != 2 || list[0].Subject != "printer on fire" && list[1].Subject != "printer on fire" {
			t.Errorf("backup has %d cases: %+v", len(list), list)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

func TestStats(t *testing.T) {
	ctx := context.Background()
	db, err := Create(ctx, filepath.Join(t.TempDir(), "t.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	t0 := time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)
	err = db.Tx(ctx, func(tx *Txn) error {
		for _, c := range []*cases.Case{
			// respond and solve deadlines passed, no response yet
			{Subject: "a", Status: cases.StatusOpen, Severity: 1, Priority: "high", OpenedAt: t0,
				RespondBy: t0.Add(time.Hour), SolveOnlineBy: t0.Add(2 * time.Hour)},
			// responded in time; on-site deadline passed, nobody arrived
			{Subject: "b", Status: cases.StatusOpen, Severity: 2, Priority: "high", OpenedAt: t0, RespondBy: t0.Add(time.Hour),
				RespondedAt: t0.Add(time.Minute), SolveOnlineBy: t0.Add(10 * time.Hour), OnsiteBy: t0.Add(2 * time.Hour)},
			// closed cases are never overdue
			{Subject: "c", Status: cases.StatusClosed, Severity: 1, Priority: "high", OpenedAt: t0, RespondBy: t0.Add(time.Hour)},
			{Subject: "d", Status: cases.StatusResolved, Severity: 1, Priority: "high", OpenedAt: t0},
		} {
			if err := tx.InsertCase(c); err != nil {
				return err
			}
			if err := tx.AddEvent(cases.Event{Case: c.Number, At: t0, Kind: cases.EvOpened}); err != nil {
				return err
			}
		}
		for i, kind := range []string{"ack", "staff_notice", "staff_notice"} {
			o := &cases.Outgoing{Case: 1, Kind: kind, MessageID: "m" + string(rune('0'+i)) + "@example.com", To: []string{"x@acme.test"}}
			if err := tx.Enqueue(o, t0.Add(time.Duration(i)*time.Minute)); err != nil {
				return err
			}
			switch i {
			case 0:
				if err := tx.MarkRetry(o.ID, Attempt{N: 1, At: t0, Code: 451, Error: "451 try later"}, t0.Add(30*time.Second)); err != nil {
					return err
				}
			case 1:
				if err := tx.MarkFailed(o.ID, Attempt{N: 1, At: t0, Code: 550, Error: "550 no such user"}); err != nil {
					return err
				}
			}
		}
		return tx.AddEvent(cases.Event{Case: 1, At: t0, Kind: cases.EvEscalated, Detail: "x"})
	})
	if err != nil {
		t.Fatal(err)
	}
	err = db.Read(ctx, func(tx *Txn) error {
		cc, err := tx.CaseCounts()
		if err != nil {
			return err
		}
		if cc["open"] != 2 || cc["closed"] != 1 || cc["resolved"] != 1 {
			t.Errorf("case counts %v", cc)
		}
		o, err := tx.OverdueCounts(t0.Add(3 * time.Hour))
		if err != nil {
			return err
		}
		if o != (Overdue{Respond: 1, SolveOnline: 1, Onsite: 1}) {
			t.Errorf("overdue at +3h: %+v", o)
		}
		if o, _ := tx.OverdueCounts(t0.Add(30 * time.Minute)); o != (Overdue{}) {
			t.Errorf("overdue at +30m: %+v", o)
		}
		os, err := tx.OutboxStats()
		if err != nil {
			return err
		}
		if os.Queued != 2 || !os.Oldest.Equal(t0) || os.Failed != 1 {
			t.Errorf("outbox stats %+v", os)
		}
		// The deferred ack (queued at t0, failed once) is stuck once its
		// first retry (t0+30s) has passed, not before.
		if s, _ := tx.StuckMail(t0.Add(-time.Second)); s.Count != 0 {
			t.Errorf("stuck before the first retry: %+v", s)
		}
		s, err := tx.StuckMail(t0.Add(time.Hour))
		if err != nil {
			return err
		}
		if s.Count != 1 || !s.Oldest.Equal(t0) || s.Case != 1 || s.LastError != "451 try later" {
			t.Errorf("stuck %+v", s)
		}
		counts, top, err := tx.EventCountsAfter(0)
		if err != nil {
			return err
		}
		if counts["opened"] != 4 || counts["escalated"] != 1 || top != 5 {
			t.Errorf("event counts %v top %d", counts, top)
		}
		if more, top2, _ := tx.EventCountsAfter(top); len(more) != 0 || top2 != top {
			t.Errorf("nothing new after %d, got %v %d", top, more, top2)
		}
		d, err := tx.EventDetails("escalated", 0, top)
		if err != nil || len(d) != 1 || d[0] != "x" {
			t.Errorf("details %v %v", d, err)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// TestStatsQueriesUseIndexes: a scrape must not scan the big tables.
func TestStatsQueriesUseIndexes(t *testing.T) {
	ctx := context.Background()
	db, err := Create(ctx, filepath.Join(t.TempDir(), "t.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	for q, want := range map[string]string{
		"SELECT status, COUNT(*) FROM cases GROUP BY status":                                                "cases_status",
		"SELECT COUNT(*) FROM cases WHERE status = 'open' AND respond_by < 1":                               "cases_status",
		"SELECT COUNT(*), MIN(created_at) FROM outbox WHERE " + pending:                                     "outbox_pending",
		"SELECT COUNT(*) FROM outbox WHERE state = 'failed'":                                                "outbox_failed",
		"SELECT kind, COUNT(*), MAX(id) FROM events NOT INDEXED WHERE id > 5 GROUP BY kind":                 "INTEGER PRIMARY KEY",
		"SELECT detail FROM events NOT INDEXED WHERE id > 1 AND id <= 9 AND kind = 'escalated' ORDER BY id": "INTEGER PRIMARY KEY",
	} {
		plan := explain(t, db, q)
		if p := strings.Join(plan, "; "); !strings.Contains(p, want) {
			t.Errorf("%s\n  plan %q, want %s", q, p, want)
		}
	}
}
