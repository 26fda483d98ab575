package store

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"helpdeskd/cases"
)

// The checkpointer copies each commit into the database on its own
// connection, so the log restarts from its beginning instead of growing
// until the writer's own threshold (4,000 pages) makes the writer copy
// it. The 200 commits below write a page each at least; if the log did
// not restart, it would hold them all.
func TestCheckpointerCopiesEachCommit(t *testing.T) {
	type result struct{ log, copied int }
	results := make(chan result, 1000)
	checkpointHook = func(log, copied int, err error) {
		if err == nil {
			results <- result{log, copied}
		}
	}
	t.Cleanup(func() { checkpointHook = nil })
	path := filepath.Join(t.TempDir(), "t.db")
	db, err := Open(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	waitCopied := func(i int) int {
		t.Helper()
		timeout := time.After(10 * time.Second)
		for {
			select {
			case r := <-results:
				if r.log > 0 && r.copied == r.log {
					return r.log
				}
			case <-timeout:
				t.Fatalf("commit %d: no checkpoint copied the whole log", i)
				return 0
			}
		}
	}
	var log int
	var first int64 // the log file's size after the first commit
	for i := 1; i <= 200; i++ {
		c := &cases.Case{Subject: "printer down", Status: cases.StatusOpen, Severity: 3, Priority: "normal",
			ContactEmail: "alice@acme.test", OpenedAt: time.Date(2026, 11, 26, 9, 0, 0, 0, time.UTC)}
		if err := db.Tx(context.Background(), func(tx *Txn) error { return tx.InsertCase(c) }); err != nil {
			t.Fatal(err)
		}
		log = waitCopied(i)
		if i == 1 {
			first = walSize(t, path)
		}
	}
	// The migrations alone wrote more than 16 pages, and each commit
	// adds at least one.
	if log > 16 {
		t.Errorf("log holds %d pages after 200 commits, each copied: want the last commit's few (it restarts)", log)
	}
	// SQLite writes a restarted log from the start of its file, so the
	// file grows only if the log does not restart: by a page a commit.
	if last := walSize(t, path); last > first+64<<10 {
		t.Errorf("log file grew from %d to %d bytes over 200 commits, each copied (it restarts)", first, last)
	}
}

func walSize(t *testing.T, path string) int64 {
	t.Helper()
	st, err := os.Stat(path + "-wal")
	if err != nil {
		t.Fatal(err)
	}
	return st.Size()
}
