package store

import (
	"context"
	"path/filepath"
	"testing"
	"time"
)

func openTest(t *testing.T) *DB {
	t.Helper()
	db, err := Open(context.Background(), filepath.Join(t.TempDir(), "t.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// The first-sync state survives a reopen, a UIDVALIDITY reset keeps it,
// and ending it clears only the start.
func TestFirstSyncState(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "t.db")
	db, err := Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	start := time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)
	err = db.Tx(ctx, func(tx *Txn) error {
		if s, e, err := tx.FirstSync("INBOX"); err != nil || !s.IsZero() || e != 0 {
			t.Fatalf("no state yet: %v %d %v", s, e, err)
		}
		if err := tx.BeginFirstSync("INBOX", 7, start, 500); err != nil {
			return err
		}
		return tx.SetMailboxState("INBOX", 7, 120)
	})
	if err != nil {
		t.Fatal(err)
	}
	db.Close()
	db, err = Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	err = db.Tx(ctx, func(tx *Txn) error {
		s, e, err := tx.FirstSync("INBOX")
		if err != nil || !s.Equal(start) || e != 500 {
			t.Fatalf("after reopen: %v %d %v", s, e, err)
		}
		if v, last, err := tx.MailboxState("INBOX"); err != nil || v != 7 || last != 120 {
			t.Fatalf("mailbox state %d %d %v", v, last, err)
		}
		if err := tx.SetMailboxState("INBOX", 8, 0); err != nil {
			return err
		}
		if s, e, _ := tx.FirstSync("INBOX"); !s.Equal(start) || e != 500 {
			t.Fatalf("a reset lost the first sync: %v %d", s, e)
		}
		if err := tx.EndFirstSync("INBOX"); err != nil {
			return err
		}
		if s, _, _ := tx.FirstSync("INBOX"); !s.IsZero() {
			t.Fatalf("ended first sync still has start %v", s)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}
