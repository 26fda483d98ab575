package store

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"helpdeskd/cases"
)

// TestConcurrentOpenOfNewDatabase opens one database that does not exist
// yet from several goroutines at once, each with its own connection pool
// (issue 13.3): none may fail, and each finds the schema current and the
// file in WAL mode.
func TestConcurrentOpenOfNewDatabase(t *testing.T) {
	for round := range 10 {
		path := filepath.Join(t.TempDir(), "new.db")
		const n = 8
		var wg sync.WaitGroup
		start := make(chan struct{})
		errs := make([]error, n)
		dbs := make([]*DB, n)
		for i := range n {
			wg.Add(1)
			go func() {
				defer wg.Done()
				<-start
				dbs[i], errs[i] = Open(context.Background(), path)
			}()
		}
		close(start)
		wg.Wait()
		for i, err := range errs {
			if err != nil {
				t.Fatalf("round %d, opener %d: %v", round, i, err)
			}
			if err := schemaCurrent(dbs[i]); err != nil {
				t.Fatalf("round %d, opener %d: %v", round, i, err)
			}
			dbs[i].Close()
		}
	}
}

func schemaCurrent(db *DB) error {
	var v int
	var mode string
	if err := db.w.QueryRow("PRAGMA user_version").Scan(&v); err != nil || v != len(migrations) {
		return fmt.Errorf("user_version %d (%v), want %d", v, err, len(migrations))
	}
	if err := db.r.QueryRow("PRAGMA journal_mode").Scan(&mode); err != nil || mode != "wal" {
		return fmt.Errorf("journal_mode %q (%v), want wal", mode, err)
	}
	return nil
}

// TestConcurrentOpenAcrossProcesses is the same with separate processes
// (this test binary run again as an opener), as a `serve` and a
// `case list` started together are.
func TestConcurrentOpenAcrossProcesses(t *testing.T) {
	if path := os.Getenv("HELPDESKD_TEST_OPEN"); path != "" {
		db, err := Open(context.Background(), path)
		if err == nil {
			err = schemaCurrent(db)
			db.Close()
		}
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		return
	}
	for round := range 3 {
		path := filepath.Join(t.TempDir(), "new.db")
		var cmds []*exec.Cmd
		for range 4 {
			cmd := exec.Command(os.Args[0], "-test.run=^TestConcurrentOpenAcrossProcesses$")
			cmd.Env = append(os.Environ(), "HELPDESKD_TEST_OPEN="+path)
			cmds = append(cmds, cmd)
		}
		outs := make([][]byte, len(cmds))
		errs := make([]error, len(cmds))
		var wg sync.WaitGroup
		for i, cmd := range cmds {
			wg.Add(1)
			go func() { defer wg.Done(); outs[i], errs[i] = cmd.CombinedOutput() }()
		}
		wg.Wait()
		for i := range cmds {
			if errs[i] != nil {
				t.Errorf("round %d, process %d: %v\n%s", round, i, errs[i], outs[i])
			}
		}
	}
}

// Migration 14 rebuilds timers without a rowid and replaces outbox_due
// by a partial index on the failed mail: a database of the release
// before keeps every timer of its cases and every outbox row, the scheduler and the
// stats read them as before, and the new layout is what SQLite has.
func TestMigrationKeyedTimersKeepsRows(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "old.db")
	const mig = 13 // the release before migration 14
	old := oldDatabase(t, path, mig)
	t0 := time.Date(2026, 11, 30, 9, 0, 0, 0, time.UTC)
	want := map[int64][]cases.Timer{}
	for n := int64(1); n <= 3; n++ {
		if _, err := old.Exec("INSERT INTO cases (number, subject, status, severity, priority, opened_at) VALUES (?, 's', 'open', 3, 'normal', ?)",
			n, t0.UnixMilli()); err != nil {
			t.Fatal(err)
		}
		for i, kind := range []string{cases.TimerReply, cases.TimerRespond, cases.TimerDaily} {
			tm := cases.Timer{Case: n, Kind: kind, Due: t0.Add(time.Duration(int(n)*10+i) * time.Minute)}
			if _, err := old.Exec("INSERT INTO timers (case_number, kind, due_at) VALUES (?, ?, ?)", tm.Case, tm.Kind, tm.Due.UnixMilli()); err != nil {
				t.Fatal(err)
			}
			want[n] = append(want[n], tm)
		}
		for i, state := range []string{"queued", "failed", "sent"} {
			if _, err := old.Exec(`INSERT INTO outbox (case_number, kind, message_id, mail, state, next_attempt_at, created_at)
				VALUES (?, 'ack', ?, '{}', ?, ?, ?)`, n, fmt.Sprintf("<%d.%d@example.test>", n, i), state, t0.UnixMilli(), t0.UnixMilli()); err != nil {
				t.Fatal(err)
			}
		}
	}
	// A timer of no case, as a database edited with foreign keys off can
	// have: it must not stop the upgrade.
	if _, err := old.Exec("INSERT INTO timers (case_number, kind, due_at) VALUES (99, ?, ?)", cases.TimerReply, t0.UnixMilli()); err != nil {
		t.Fatal(err)
	}
	db := migrated(t, old, path)
	if err := schemaCurrent(db); err != nil {
		t.Fatal(err)
	}
	err := db.Read(ctx, func(tx *Txn) error {
		for n, w := range want {
			got, err := tx.Timers(n)
			if err != nil {
				return err
			}
			if !slices.EqualFunc(got, w, func(a, b cases.Timer) bool { return a.Case == b.Case && a.Kind == b.Kind && a.Due.Equal(b.Due) }) {
				t.Errorf("case %d: timers %v, want %v", n, got, w)
			}
		}
		if orphan, err := tx.Timers(99); err != nil || len(orphan) > 0 {
			t.Errorf("timers of no case: %v (%v), want none", orphan, err)
		}
		due, err := tx.DueTimers(t0.Add(21*time.Minute), 100)
		if err != nil {
			return err
		}
		if len(due) != 5 || due[0].Case != 1 || due[4].Case != 2 || due[4].Kind != cases.TimerRespond {
			t.Errorf("due at +21m: %v, want case 1's three and case 2's first two", due)
		}
		st, err := tx.OutboxStats()
		if err != nil {
			return err
		}
		if st.Queued != 3 || st.Failed != 3 {
			t.Errorf("outbox stats %+v, want 3 queued and 3 failed", st)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	var ddl string
	if err := db.r.QueryRow("SELECT sql FROM sqlite_master WHERE name = 'timers'").Scan(&ddl); err != nil {
		t.Fatal(err)
	}
	if !strings.HasSuffix(strings.TrimSpace(ddl), "WITHOUT ROWID") {
		t.Errorf("timers is %s, want a table without rowid", ddl)
	}
	var indexes []string
	rows, err := db.r.Query("SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name IN ('outbox', 'timers') ORDER BY name")
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var s string
		rows.Scan(&s)
		indexes = append(indexes, s)
	}
	rows.Close()
	if slices.Contains(indexes, "outbox_due") || !slices.Contains(indexes, "outbox_failed") || !slices.Contains(indexes, "timers_due") {
		t.Errorf("indexes %v: want outbox_failed and timers_due, and no outbox_due", indexes)
	}
}

// oldDatabase creates at path the database of the release whose schema
// ends with the first mig migrations, for a test to fill before Open
// migrates it; the caller closes it.
func oldDatabase(t *testing.T, path string, mig int) *sql.DB {
	t.Helper()
	old, err := sql.Open("sqlite", "file:"+path)
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range migrations[:mig] {
		if _, err := old.Exec(m); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := old.Exec(fmt.Sprintf("PRAGMA user_version = %d", mig)); err != nil {
		t.Fatal(err)
	}
	return old
}

// migrated closes old, the database at path, and opens it, migrating it
// to the current schema; the test closes it at its end.
func migrated(t *testing.T, old *sql.DB, path string) *DB {
	t.Helper()
	if err := old.Close(); err != nil {
		t.Fatal(err)
	}
	db, err := Open(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}
