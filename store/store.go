// Package store is helpdeskd's SQLite database: the only package that
// speaks SQL. It owns the schema and its migrations, and the transactions
// in which a case change, its timeline events, its timers and the mail it
// causes are committed together (SPEC §7).
//
// One connection writes (transactions begin IMMEDIATE); a separate
// query-only pool serves reads such as `case show`.
package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"time"

	_ "modernc.org/sqlite" // registers the "sqlite" driver
)

// ErrNotFound is returned when a case, message or row does not exist.
var ErrNotFound = errors.New("not found")

// DB is an open helpdeskd database.
type DB struct {
	w *sql.DB // single writer
	r *sql.DB // readers

}

const pragmas = "_pragma=busy_timeout(10000)&_pragma=journal_mode(WAL)&_pragma=foreign_keys(1)&_pragma=synchronous(NORMAL)"

// Open opens (creating if needed) the database at path and applies any
// pending migrations.
func Open(ctx context.Context, path string) (*DB, error) {
	base := "file:" + (&url.URL{Path: path}).EscapedPath() + "?" + pragmas
	w, err := sql.Open("sqlite", base+"&_txlock=immediate")
	if err != nil {
		return nil, fmt.Errorf("open database %s: %w", path, err)
	}
	w.SetMaxOpenConns(1)
	db := &DB{w: w}
	if err := db.migrate(ctx); err != nil {
		w.Close()
		return nil, fmt.Errorf("migrate database %s: %w", path, err)
	}
	r, err := sql.Open("sqlite", base+"&_pragma=query_only(1)")
	if err != nil {
		w.Close()
		return nil, fmt.Errorf("open database %s: %w", path, err)
	}
	r.SetMaxOpenConns(4)
	db.r = r
	return db, nil
}

// Close closes the database.
func (db *DB) Close() error {
	return errors.Join(db.r.Close(), db.w.Close())
}

// Tx runs fn in one write transaction; it commits when fn returns nil.
func (db *DB) Tx(ctx context.Context, fn func(*Txn) error) error {
	tx, err := db.w.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("begin: %w", err)
	}
	// Roll back on any way out but a commit, a panic included: the
	// single writer connection must never stay inside a transaction.
	defer tx.Rollback()
	if err := fn(&Txn{tx: tx, ctx: ctx}); err != nil {
		return err
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("commit: %w", err)
	}
	return nil
}

// Read runs fn in a read-only transaction on a consistent snapshot.
func (db *DB) Read(ctx context.Context, fn func(*Txn) error) error {
	tx, err := db.r.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return fmt.Errorf("begin read: %w", err)
	}
	defer tx.Rollback()
	return fn(&Txn{tx: tx, ctx: ctx})
}

// Txn is an open transaction.
type Txn struct {
	tx    *sql.Tx
	ctx   context.Context
	stmts map[string]*sql.Stmt
}

// prepared returns q prepared in this transaction, once: a scheduler wake
// runs the same few statements for every timer, and parsing SQL was half
// its cost. The statements close with the transaction.
func (t *Txn) prepared(q string) (*sql.Stmt, error) {
	if st, ok := t.stmts[q]; ok {
		return st, nil
	}
	st, err := t.tx.PrepareContext(t.ctx, q)
	if err != nil {
		return nil, err
	}
	if t.stmts == nil {
		t.stmts = map[string]*sql.Stmt{}
	}
	t.stmts[q] = st
	return st, nil
}

func (t *Txn) exec(q string, args ...any) (sql.Result, error) {
	st, err := t.prepared(q)
	if err != nil {
		return nil, err
	}
	return st.ExecContext(t.ctx, args...)
}

func (t *Txn) query(q string, args ...any) (*sql.Rows, error) {
	st, err := t.prepared(q)
	if err != nil {
		return nil, err
	}
	return st.QueryContext(t.ctx, args...)
}

func (t *Txn) row(q string, args ...any) *sql.Row {
	st, err := t.prepared(q)
	if err != nil {
		// Let Scan report the error.
		return t.tx.QueryRowContext(t.ctx, q, args...)
	}
	return st.QueryRowContext(t.ctx, args...)
}

// ms stores a time as Unix milliseconds; the zero time is NULL.
func ms(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return t.UnixMilli()
}

func fromMS(v sql.NullInt64) time.Time {
	if !v.Valid {
		return time.Time{}
	}
	return time.UnixMilli(v.Int64).UTC()
}

// migrations is the ordered schema history, tracked by PRAGMA user_version.
// Append only; never edit an entry that has shipped.
var migrations = []string{
	// 1: the core schema.
	`
CREATE TABLE cases (
	number INTEGER PRIMARY KEY AUTOINCREMENT,
	subject TEXT NOT NULL,
	status TEXT NOT NULL,
	severity INTEGER NOT NULL,
	priority TEXT NOT NULL,
	company TEXT NOT NULL DEFAULT '',
	contact_name TEXT NOT NULL DEFAULT '',
	contact_phone TEXT NOT NULL DEFAULT '',
	contact_email TEXT NOT NULL DEFAULT '',
	region TEXT NOT NULL DEFAULT '',
	language TEXT NOT NULL DEFAULT 'zh',
	foreign_flag INTEGER NOT NULL DEFAULT 0,
	plan TEXT NOT NULL DEFAULT '',
	engineer TEXT NOT NULL DEFAULT '',
	description TEXT NOT NULL DEFAULT '',
	opened_at INTEGER NOT NULL,
	assigned_at INTEGER,
	respond_by INTEGER,
	solve_online_by INTEGER,
	onsite_by INTEGER,
	responded_at INTEGER,
	resolved_at INTEGER,
	closed_at INTEGER,
	onsite_needed INTEGER NOT NULL DEFAULT 0,
	onsite_engineer TEXT NOT NULL DEFAULT '',
	escalation_level INTEGER NOT NULL DEFAULT 0,
	last_reply_at INTEGER,
	replies_sent INTEGER NOT NULL DEFAULT 0,
	linked_case INTEGER,
	approved INTEGER NOT NULL DEFAULT 0,
	last_customer_msgid TEXT NOT NULL DEFAULT '',
	thread_ids TEXT NOT NULL DEFAULT '[]',
	next_respond_check INTEGER,
	stuck_escalated INTEGER NOT NULL DEFAULT 0,
	onsite_escalated INTEGER NOT NULL DEFAULT 0,
	onsite_arrived_at INTEGER,
	confirm_asked_at INTEGER
);
CREATE INDEX cases_status ON cases(status);
CREATE TABLE events (
	id INTEGER PRIMARY KEY,
	case_number INTEGER NOT NULL REFERENCES cases(number),
	at INTEGER NOT NULL,
	kind TEXT NOT NULL,
	actor TEXT NOT NULL DEFAULT '',
	detail TEXT NOT NULL DEFAULT ''
);
CREATE INDEX events_case ON events(case_number, id);
CREATE TABLE messages (
	id INTEGER PRIMARY KEY,
	case_number INTEGER REFERENCES cases(number),
	mailbox TEXT NOT NULL,
	uidvalidity INTEGER NOT NULL,
	uid INTEGER NOT NULL,
	message_id TEXT NOT NULL DEFAULT '',
	hash TEXT NOT NULL,
	from_addr TEXT NOT NULL DEFAULT '',
	subject TEXT NOT NULL DEFAULT '',
	matched TEXT NOT NULL DEFAULT '',
	third_party INTEGER NOT NULL DEFAULT 0,
	auto TEXT NOT NULL DEFAULT '',
	problems TEXT NOT NULL DEFAULT '',
	received_at INTEGER NOT NULL,
	raw BLOB NOT NULL,
	UNIQUE (mailbox, uidvalidity, uid)
);
CREATE INDEX messages_msgid ON messages(message_id);
CREATE INDEX messages_hash ON messages(hash);
CREATE TABLE attachments (
	id INTEGER PRIMARY KEY,
	message INTEGER NOT NULL REFERENCES messages(id),
	filename TEXT NOT NULL,
	content_type TEXT NOT NULL,
	size INTEGER NOT NULL,
	truncated INTEGER NOT NULL DEFAULT 0,
	data BLOB NOT NULL
);
CREATE TABLE outbox (
	id INTEGER PRIMARY KEY,
	case_number INTEGER REFERENCES cases(number),
	kind TEXT NOT NULL,
	message_id TEXT NOT NULL UNIQUE,
	mail TEXT NOT NULL,
	state TEXT NOT NULL DEFAULT 'queued',
	attempts INTEGER NOT NULL DEFAULT 0,
	next_attempt_at INTEGER NOT NULL,
	last_error TEXT NOT NULL DEFAULT '',
	created_at INTEGER NOT NULL,
	sent_at INTEGER,
	rcpt_key TEXT NOT NULL DEFAULT ''
);
CREATE INDEX outbox_due ON outbox(state, next_attempt_at);
CREATE INDEX outbox_rcpt ON outbox(rcpt_key, created_at);
CREATE TABLE mailbox_state (
	mailbox TEXT PRIMARY KEY,
	uidvalidity INTEGER NOT NULL,
	last_uid INTEGER NOT NULL
);
CREATE TABLE timers (
	case_number INTEGER NOT NULL REFERENCES cases(number),
	kind TEXT NOT NULL,
	due_at INTEGER NOT NULL,
	PRIMARY KEY (case_number, kind)
);
CREATE INDEX timers_due ON timers(due_at);
`,
	// 2: when a case's clocks last (re)started, for deadlines after a reopen.
	`ALTER TABLE cases ADD COLUMN clock_start INTEGER;`,
	// 3: case kinds, visits and inspections, bounces (SPEC §11).
	`
ALTER TABLE cases ADD COLUMN kind TEXT NOT NULL DEFAULT 'fault';
ALTER TABLE cases ADD COLUMN planned_date INTEGER;
ALTER TABLE cases ADD COLUMN report_due_by INTEGER;
ALTER TABLE cases ADD COLUMN late INTEGER NOT NULL DEFAULT 0;
ALTER TABLE cases ADD COLUMN billable INTEGER NOT NULL DEFAULT 0;
ALTER TABLE cases ADD COLUMN reminded_at INTEGER;
ALTER TABLE cases ADD COLUMN bounced_at INTEGER;
ALTER TABLE cases ADD COLUMN dispatched_at INTEGER;
ALTER TABLE cases ADD COLUMN resolution_note TEXT NOT NULL DEFAULT '';
CREATE UNIQUE INDEX cases_inspection ON cases(company, planned_date) WHERE kind = 'inspection';
CREATE INDEX events_kind ON events(kind, at);
`,
	// 4: how far each customer's inspection schedule was handled (SPEC §11.7).
	`
CREATE TABLE inspection_cursor (
	company TEXT PRIMARY KEY,
	next_day INTEGER NOT NULL,
	reminded_day INTEGER,
	since INTEGER NOT NULL DEFAULT 0
);
`,
	// 5: the report and case list read cases by opening and closing time
	// and by engineer (events by kind and time use events_kind).
	`
CREATE INDEX cases_opened ON cases(opened_at);
CREATE INDEX cases_closed ON cases(closed_at);
CREATE INDEX cases_engineer ON cases(engineer, status);
`,
}

func (db *DB) migrate(ctx context.Context) error {
	var v int
	if err := db.w.QueryRowContext(ctx, "PRAGMA user_version").Scan(&v); err != nil {
		return err
	}
	if v > len(migrations) {
		return fmt.Errorf("database schema version %d is newer than this helpdeskd (%d)", v, len(migrations))
	}
	for i := v; i < len(migrations); i++ {
		tx, err := db.w.BeginTx(ctx, nil)
		if err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, migrations[i]); err != nil {
			tx.Rollback()
			return fmt.Errorf("migration %d: %w", i+1, err)
		}
		if _, err := tx.ExecContext(ctx, fmt.Sprintf("PRAGMA user_version = %d", i+1)); err != nil {
			tx.Rollback()
			return fmt.Errorf("migration %d: %w", i+1, err)
		}
		if err := tx.Commit(); err != nil {
			return fmt.Errorf("migration %d: %w", i+1, err)
		}
	}
	return nil
}
