package store

import (
	"fmt"
	"strings"
)

// Rows that a write transaction adds often, many at a time (a new case
// records about eight events and sets seven timers), are held in the Txn
// and inserted with multi-row statements: one statement for up to
// batchRows rows costs about what two single-row ones do. They are
// written before any statement that names their table runs in the same
// transaction (so every read sees them, in order) and before the commit;
// an error inserting them is the error of that statement or of the
// commit. Nothing outside the transaction ever sees the difference.
type batch struct {
	table string // the table the statements name
	cols  int    // values per row
	head  string // INSERT INTO table (cols) VALUES
	tail  string // after the VALUES lists: an upsert clause, or ""
	args  []any  // the rows held, cols values each
}

// batchRows is the most rows one statement inserts. Flushes use
// statements of batchRows, then batchRows/8, then single rows, so each
// batch has three statement texts to prepare and cache, not one per
// count.
const batchRows = 64

// statement is the INSERT for n rows.
func (b *batch) statement(n int) string {
	row := "(" + strings.Repeat("?, ", b.cols-1) + "?)"
	return b.head + " " + strings.Repeat(row+", ", n-1) + row + b.tail
}

// flush inserts the held rows with t, oldest first, and forgets them.
func (b *batch) flush(t *Txn) error {
	args := b.args
	b.args = nil // a statement below must not flush again
	for len(args) > 0 {
		n := len(args) / b.cols
		switch {
		case n >= batchRows:
			n = batchRows
		case n >= batchRows/8:
			n = batchRows / 8
		default:
			n = 1
		}
		if _, err := t.run(b.statement(n), args[:n*b.cols]...); err != nil {
			return fmt.Errorf("insert %s: %w", b.table, err)
		}
		args = args[n*b.cols:]
	}
	return nil
}

// The batches of a write transaction.
func newBatches() []*batch {
	return []*batch{
		{table: "events", cols: 5, head: "INSERT INTO events (case_number, at, kind, actor, detail) VALUES"},
		{table: "timers", cols: 3, head: "INSERT INTO timers (case_number, kind, due_at) VALUES",
			tail: " ON CONFLICT (case_number, kind) DO UPDATE SET due_at = excluded.due_at"},
	}
}

const (
	eventBatch = iota
	timerBatch
)

// hold adds one row to batch i.
func (t *Txn) hold(i int, row ...any) {
	if t.batches == nil {
		t.batches = newBatches()
	}
	b := t.batches[i]
	b.args = append(b.args, row...)
}

// flushFor writes the held rows of every table q names. An error also
// fails the transaction (Txn.failed): the rows are gone from the batch,
// so a caller that went on after the error must not commit without them.
func (t *Txn) flushFor(q string) error {
	fail := func(err error) error {
		if t.failed == nil {
			t.failed = err
		}
		return err
	}
	if len(t.heldBodies) > 0 && strings.Contains(q, "bodies") {
		if err := t.writeBodies(); err != nil {
			return fail(err)
		}
	}
	for _, b := range t.batches {
		if len(b.args) > 0 && strings.Contains(q, b.table) {
			if err := b.flush(t); err != nil {
				return fail(err)
			}
		}
	}
	return nil
}

// held reports whether rows are held.
func (t *Txn) held() bool {
	if len(t.heldBodies) > 0 {
		return true
	}
	for _, b := range t.batches {
		if len(b.args) > 0 {
			return true
		}
	}
	return false
}

// flushAll writes every held row; DB.Tx calls it before the commit.
func (t *Txn) flushAll() error {
	if err := t.writeBodies(); err != nil {
		return err
	}
	for _, b := range t.batches {
		if len(b.args) > 0 {
			if err := b.flush(t); err != nil {
				return err
			}
		}
	}
	return nil
}
