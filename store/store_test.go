package store

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"helpdeskd/cases"
)

func TestMigrationsAndReopen(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "t.db")
	db, err := Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Date(2026, 11, 26, 1, 0, 0, 0, time.UTC)
	c := &cases.Case{Subject: "s", Status: cases.StatusOpen, Severity: 2, Priority: "high", OpenedAt: now,
		ClockStart: now, ThreadIDs: []string{"a@b"}, RespondBy: now.Add(time.Hour)}
	if err := db.Tx(ctx, func(tx *Txn) error { return tx.InsertCase(c) }); err != nil {
		t.Fatal(err)
	}
	db.Close()
	// Opening again applies nothing new and keeps the data.
	db, err = Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var v int
	if err := db.w.QueryRow("PRAGMA user_version").Scan(&v); err != nil || v != len(migrations) {
		t.Fatalf("user_version = %d (%v), want %d", v, err, len(migrations))
	}
	err = db.Read(ctx, func(tx *Txn) error {
		got, err := tx.Case(c.Number)
		if err != nil {
			return err
		}
		if !got.ClockStart.Equal(now) || !got.RespondBy.Equal(now.Add(time.Hour)) || got.ThreadIDs[0] != "a@b" || got.Priority != "high" {
			t.Errorf("round trip: %+v", got)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

func TestPanicInTransactionReleasesTheWriter(t *testing.T) {
	ctx := context.Background()
	db, err := Open(ctx, filepath.Join(t.TempDir(), "t.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	func() {
		defer func() { recover() }()
		db.Tx(ctx, func(tx *Txn) error { panic("boom") })
	}()
	done := make(chan error, 1)
	go func() { done <- db.Tx(ctx, func(tx *Txn) error { return tx.SetMailboxState("INBOX", 1, 1) }) }()
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the writer connection is still held after a panic")
	}
}
