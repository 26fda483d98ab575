package store

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"
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
