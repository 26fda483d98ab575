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
	"sync"
	"time"

	"helpdeskd/cases"

	"modernc.org/sqlite" // registers the "sqlite" driver
	sqlite3 "modernc.org/sqlite/lib"
)

// ErrNotFound is returned when a case, message or row does not exist.
var ErrNotFound = errors.New("not found")

// DB is an open helpdeskd database.
type DB struct {
	w *sql.DB // single writer
	r *sql.DB // readers

	ws, rs stmtCache // statements prepared once for w and r
	ck     *checkpointer
}

// stmtCache holds statements prepared on a pool, by SQL text. A
// transaction uses them through Tx.Stmt, which reuses a statement
// already prepared on the transaction's connection instead of parsing
// the SQL again.
type stmtCache struct {
	mu sync.Mutex
	m  map[string]*sql.Stmt
}

// maxCached bounds the statements a pool keeps prepared. The daemon's
// statements are a few hundred texts; the bound only keeps a statement
// built from data (UpdateCase's columns) from growing the cache forever.
const maxCached = 1024

func (c *stmtCache) size() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.m)
}

func (c *stmtCache) lookup(q string) *sql.Stmt {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.m[q]
}

// learn prepares on db the statements a finished transaction had to
// prepare itself. It runs after the transaction, when the connection it
// held is free again (the writer pool has one).
func (c *stmtCache) learn(ctx context.Context, db *sql.DB, qs []string) {
	for _, q := range qs {
		if c.lookup(q) != nil {
			continue
		}
		if c.size() >= maxCached {
			return // prepared per transaction from here on
		}
		st, err := db.PrepareContext(ctx, q)
		if err != nil {
			continue // the statement failed in its transaction too
		}
		c.mu.Lock()
		if c.m == nil {
			c.m = map[string]*sql.Stmt{}
		}
		if c.m[q] == nil {
			c.m[q] = st
		} else {
			st.Close()
		}
		c.mu.Unlock()
	}
}

func (c *stmtCache) close() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	var errs []error
	for _, st := range c.m {
		errs = append(errs, st.Close())
	}
	c.m = nil
	return errors.Join(errs...)
}

// pragmas run on every new connection. The journal mode is not among
// them: WAL is a property of the file, set once by setWAL.
const pragmas = "_pragma=busy_timeout(10000)&_pragma=foreign_keys(1)&_pragma=synchronous(NORMAL)"

// writerPragmas are the writer's own. The checkpointer (checkpoint.go)
// copies the log into the database after every commit on its own
// connection; the writer's automatic checkpoint every 4,000 pages
// (16 MiB) then copies only what that has not copied yet, and lets the
// log restart from its beginning, which bounds it (while the writer
// commits back to back, the checkpointer never finds it wholly copied
// at the start of a transaction, which a restart needs).
const writerPragmas = "&_pragma=wal_autocheckpoint(4000)"

// Open opens (creating if needed) the database at path and applies any
// pending migrations.
func Open(ctx context.Context, path string) (*DB, error) {
	base := "file:" + (&url.URL{Path: path}).EscapedPath() + "?" + pragmas
	w, err := sql.Open("sqlite", base+writerPragmas+"&_txlock=immediate")
	if err != nil {
		return nil, fmt.Errorf("open database %s: %w", path, err)
	}
	w.SetMaxOpenConns(1)
	db := &DB{w: w}
	if err := db.setWAL(ctx); err != nil {
		w.Close()
		return nil, fmt.Errorf("open database %s: %w", path, err)
	}
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
	ck, err := sql.Open("sqlite", base)
	if err != nil {
		r.Close()
		w.Close()
		return nil, fmt.Errorf("open database %s: %w", path, err)
	}
	db.ck = startCheckpointer(ck)
	return db, nil
}

// Close closes the database.
func (db *DB) Close() error {
	return errors.Join(db.ck.close(), db.rs.close(), db.ws.close(), db.r.Close(), db.w.Close())
}

// Tx runs fn in one write transaction; it commits when fn returns nil.
func (db *DB) Tx(ctx context.Context, fn func(*Txn) error) error {
	tx, err := db.w.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("begin: %w", err)
	}
	// The statements run without ctx's cancellation: the SQLite driver
	// starts a goroutine for every statement run with a context that can
	// end, to interrupt it, and a write transaction runs some forty
	// statements a mail. A write transaction's statements are short (the
	// longest deletes one case's timers); if ctx ends meanwhile,
	// database/sql rolls the transaction back (BeginTx above) once the
	// statement running has finished, instead of interrupting it, and the
	// statements after it and the commit fail (sql.ErrTxDone): nothing of
	// the transaction is kept, as before.
	t := &Txn{tx: tx, ctx: context.WithoutCancel(ctx), cache: &db.ws}
	defer func() { db.ws.learn(ctx, db.w, t.missed) }() // after the rollback below
	// Roll back on any way out but a commit, a panic included: the
	// single writer connection must never stay inside a transaction.
	defer tx.Rollback()
	if err := fn(t); err != nil {
		return err
	}
	if err := t.flushAll(); err != nil {
		return err
	}
	if t.failed != nil {
		return t.failed // a flush before a read failed: the read may have missed rows
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("commit: %w", err)
	}
	db.ck.committed()
	return nil
}

// Read runs fn in a read-only transaction on a consistent snapshot.
func (db *DB) Read(ctx context.Context, fn func(*Txn) error) error {
	tx, err := db.r.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return fmt.Errorf("begin read: %w", err)
	}
	t := &Txn{tx: tx, ctx: ctx, cache: &db.rs, readOnly: true}
	defer func() { db.rs.learn(ctx, db.r, t.missed) }() // after the rollback below
	defer tx.Rollback()
	if err := fn(t); err != nil {
		return err
	}
	if t.held() {
		return errors.New("events or timers added in a read transaction")
	}
	return nil
}

// Txn is an open transaction.
type Txn struct {
	tx     *sql.Tx
	ctx    context.Context
	cache  *stmtCache // the prepared statements of tx's pool
	missed []string   // statements not in cache yet
	stmts  map[string]*sql.Stmt
	// batches hold rows inserted many at a time (batch.go); failed is
	// the first error writing them before a read, which fails the
	// transaction.
	batches []*batch
	failed  error
	// seenCases are the stored values of the cases this transaction read
	// or wrote, by number (UpdateCase sets only what changed).
	seenCases map[int64][]any
	// heldBodies are the texts of new bodies being deflated (outbox.go).
	heldBodies []*heldBody
	readOnly   bool // a Read transaction
}

// prepared returns q prepared in this transaction, once: a scheduler wake
// runs the same few statements for every timer, and parsing SQL was half
// its cost. The SQL is parsed once per connection (see stmtCache); the
// transaction's statements close with it.
func (t *Txn) prepared(q string) (*sql.Stmt, error) {
	if prepareHook != nil {
		prepareHook(q)
	}
	if st, ok := t.stmts[q]; ok {
		return st, nil
	}
	var st *sql.Stmt
	if shared := t.cache.lookup(q); shared != nil {
		st = t.tx.StmtContext(t.ctx, shared)
	} else {
		var err error
		if st, err = t.tx.PrepareContext(t.ctx, q); err != nil {
			return nil, err
		}
		t.missed = append(t.missed, q)
	}
	if t.stmts == nil {
		t.stmts = map[string]*sql.Stmt{}
	}
	t.stmts[q] = st
	return st, nil
}

func (t *Txn) exec(q string, args ...any) (sql.Result, error) {
	if err := t.flushFor(q); err != nil {
		return nil, err
	}
	return t.run(q, args...)
}

// run is exec without the flush of held rows.
func (t *Txn) run(q string, args ...any) (sql.Result, error) {
	st, err := t.prepared(q)
	if err != nil {
		return nil, err
	}
	return st.ExecContext(t.ctx, args...)
}

func (t *Txn) query(q string, args ...any) (*sql.Rows, error) {
	if err := t.flushFor(q); err != nil {
		return nil, err
	}
	st, err := t.prepared(q)
	if err != nil {
		return nil, err
	}
	return st.QueryContext(t.ctx, args...)
}

func (t *Txn) row(q string, args ...any) *sql.Row {
	_ = t.flushFor(q) // an error fails the transaction (t.failed); Scan may then read without the rows
	return t.rowHeld(q, args...)
}

// rowHeld is row without the flush of held rows, for a statement whose
// caller accounts for them itself.
func (t *Txn) rowHeld(q string, args ...any) *sql.Row {
	st, err := t.prepared(q)
	if err != nil {
		// Let Scan report the error.
		return t.tx.QueryRowContext(t.ctx, q, args...)
	}
	return st.QueryRowContext(t.ctx, args...)
}

// prepareHook, if set (by tests), sees every statement a transaction runs.
var prepareHook func(q string)

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
	// 6: the outbox records each delivery attempt before it is made, and
	// keeps the SMTP reply of each; a rendered body is stored once per
	// distinct text, shared by the copies of one notice to several staff
	// (deflated when that is smaller).
	`
CREATE TABLE bodies (
	id INTEGER PRIMARY KEY,
	hash BLOB NOT NULL UNIQUE,
	data BLOB NOT NULL,
	deflated INTEGER NOT NULL DEFAULT 0
);
ALTER TABLE outbox ADD COLUMN body INTEGER REFERENCES bodies(id);
ALTER TABLE outbox ADD COLUMN last_attempt_at INTEGER;
ALTER TABLE outbox ADD COLUMN last_code INTEGER NOT NULL DEFAULT 0;
ALTER TABLE outbox ADD COLUMN last_enhanced TEXT NOT NULL DEFAULT '';
ALTER TABLE outbox ADD COLUMN results TEXT NOT NULL DEFAULT '[]';
CREATE INDEX outbox_pending ON outbox(next_attempt_at, id) WHERE state IN ('queued', 'delivering');
`,
	// 7: a folder's first sync under way (SPEC §11.1): its start and the
	// highest UID it covers.
	`
ALTER TABLE mailbox_state ADD COLUMN first_sync_at INTEGER;
ALTER TABLE mailbox_state ADD COLUMN first_sync_end INTEGER NOT NULL DEFAULT 0;
`,
	// 8: indexes for every query on the intake, scheduler and sender paths,
	// so that their cost does not grow with the cases kept (issue 10).
	// messages_case and outbox_case serve the foreign-key checks that an
	// INSERT INTO cases plans once it has triggers (migration 11). The
	// automatic-reply limit counts acknowledgements only, so their partial
	// index replaces outbox_rcpt, which nothing else reads.
	`
CREATE INDEX messages_case ON messages(case_number);
CREATE INDEX messages_quarantine ON messages(id) WHERE matched = 'quarantine';
CREATE INDEX outbox_case ON outbox(case_number);
CREATE INDEX outbox_rcpt_ack ON outbox(rcpt_key, created_at) WHERE kind = 'ack';
DROP INDEX outbox_rcpt;
`,
	// 9: an attachment's bytes are found again in its message's raw copy
	// by its number among the message's attachments; data stays for the
	// rows stored before (issue 10: each received byte is stored once).
	`ALTER TABLE attachments ADD COLUMN part INTEGER;`,
	// 10: a large raw message is stored in chunks, so that neither writing
	// nor binding it holds more than a chunk outside the caller's copy.
	`
ALTER TABLE messages ADD COLUMN raw_size INTEGER;
CREATE TABLE message_chunks (
	id INTEGER PRIMARY KEY,
	message INTEGER NOT NULL REFERENCES messages(id),
	seq INTEGER NOT NULL,
	data BLOB NOT NULL,
	UNIQUE (message, seq)
);
`,
	// 11: the open cases of each engineer, kept by triggers, so that
	// routing a new case reads one row per engineer instead of counting
	// every open case.
	`
CREATE TABLE engineer_load (
	engineer TEXT PRIMARY KEY,
	open INTEGER NOT NULL
);
INSERT INTO engineer_load (engineer, open)
	SELECT engineer, COUNT(*) FROM cases WHERE status != 'closed' AND engineer != '' GROUP BY engineer;
CREATE TRIGGER cases_load_insert AFTER INSERT ON cases
WHEN NEW.status != 'closed' AND NEW.engineer != ''
BEGIN
	INSERT INTO engineer_load (engineer, open) VALUES (NEW.engineer, 1)
		ON CONFLICT (engineer) DO UPDATE SET open = open + 1;
END;
CREATE TRIGGER cases_load_delete AFTER DELETE ON cases
WHEN OLD.status != 'closed' AND OLD.engineer != ''
BEGIN
	UPDATE engineer_load SET open = open - 1 WHERE engineer = OLD.engineer;
END;
CREATE TRIGGER cases_load_update AFTER UPDATE OF status, engineer ON cases
WHEN (OLD.status != 'closed' AND OLD.engineer != '') != (NEW.status != 'closed' AND NEW.engineer != '')
	OR OLD.engineer != NEW.engineer
BEGIN
	UPDATE engineer_load SET open = open - 1
		WHERE engineer = OLD.engineer AND OLD.status != 'closed' AND OLD.engineer != '';
	INSERT INTO engineer_load (engineer, open) SELECT NEW.engineer, 1
		WHERE NEW.status != 'closed' AND NEW.engineer != ''
		ON CONFLICT (engineer) DO UPDATE SET open = open + 1;
END;
`,
	// 12: the number of cases in each status, kept by triggers, so that
	// /metrics reads a row per status instead of counting every case
	// (issue 10); and the mail kept without a case (own mail, automatic
	// mail, ignored senders), listed newest first by `mail kept`.
	`
CREATE TABLE case_counts (
	status TEXT PRIMARY KEY,
	n INTEGER NOT NULL
);
INSERT INTO case_counts (status, n) SELECT status, COUNT(*) FROM cases GROUP BY status;
CREATE TRIGGER cases_counts_insert AFTER INSERT ON cases
BEGIN
	INSERT INTO case_counts (status, n) VALUES (NEW.status, 1)
		ON CONFLICT (status) DO UPDATE SET n = n + 1;
END;
CREATE TRIGGER cases_counts_delete AFTER DELETE ON cases
BEGIN
	UPDATE case_counts SET n = n - 1 WHERE status = OLD.status;
END;
CREATE TRIGGER cases_counts_update AFTER UPDATE OF status ON cases
WHEN OLD.status != NEW.status
BEGIN
	UPDATE case_counts SET n = n - 1 WHERE status = OLD.status;
	INSERT INTO case_counts (status, n) VALUES (NEW.status, 1)
		ON CONFLICT (status) DO UPDATE SET n = n + 1;
END;
CREATE INDEX messages_kept ON messages(received_at, id) WHERE case_number IS NULL AND auto != '';
`,
	// 13: the suppressions staff were told of, by time (SuppressionToldSince):
	// at most one per sender and hour, where all suppressions of a mail
	// loop are thousands. Written out, not built from cases' constants:
	// an applied migration never changes (TestSuppressionToldIndex).
	`CREATE INDEX events_suppression_told ON events(at) WHERE kind = 'auto_reply_suppressed' AND detail LIKE '%; staff told';`,
	// 14: fewer b-trees written for each row that every case adds (issue
	// 10). outbox_due (state, next_attempt_at) served only the count of
	// failed mail: the pending mail has outbox_pending, and listings by
	// state read the whole outbox. Every mail queued, and every attempt,
	// wrote an entry in it; the failed mail, which is rare, now has a
	// partial index of its own. The timers (seven a case) become a table
	// keyed by (case_number, kind) without a rowid: a timer is one entry
	// there and one in timers_due, not a row, an entry in the index of
	// its key, and one in timers_due. A timer of no stored case (only a
	// database edited with foreign keys off has one) would fire nothing
	// and is not copied, so that it cannot stop the upgrade. Timers due
	// at the same millisecond now come out of timers_due in the order of
	// case and kind, not of insertion.
	`
CREATE INDEX outbox_failed ON outbox(id) WHERE state = 'failed';
DROP INDEX outbox_due;
CREATE TABLE timers_keyed (
	case_number INTEGER NOT NULL REFERENCES cases(number),
	kind TEXT NOT NULL,
	due_at INTEGER NOT NULL,
	PRIMARY KEY (case_number, kind)
) WITHOUT ROWID;
INSERT INTO timers_keyed (case_number, kind, due_at) SELECT case_number, kind, due_at FROM timers
	WHERE case_number IN (SELECT number FROM cases);
DROP TABLE timers;
ALTER TABLE timers_keyed RENAME TO timers;
CREATE INDEX timers_due ON timers(due_at);
`,
}

// suppressionTold is the condition of the index events_suppression_told,
// written the same in the query so that SQLite can use the index.
const suppressionTold = `kind = '` + cases.EvAutoReplySuppressed + `' AND detail LIKE '%` + cases.SuppressionToldMark + `'`

// setWAL switches the database to write-ahead logging. SQLite takes the
// exclusive lock for that change without calling the busy handler, so a
// second process opening a new database at the same moment gets
// SQLITE_BUSY at once; it is retried here, within the busy timeout. Once
// the file is in WAL mode the pragma changes nothing and takes no lock.
func (db *DB) setWAL(ctx context.Context) error {
	deadline := time.Now().Add(10 * time.Second)
	for wait := time.Millisecond; ; wait = min(2*wait, 50*time.Millisecond) {
		var mode string
		err := db.w.QueryRowContext(ctx, "PRAGMA journal_mode = WAL").Scan(&mode)
		if err == nil {
			if mode != "wal" {
				return fmt.Errorf("journal mode is %q, want wal", mode)
			}
			return nil
		}
		var se *sqlite.Error
		if !errors.As(err, &se) || se.Code()&0xff != sqlite3.SQLITE_BUSY || time.Now().After(deadline) {
			return fmt.Errorf("set journal mode: %w", err)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(wait):
		}
	}
}

// migrate applies the pending migrations, one transaction each. Every
// transaction begins IMMEDIATE (the writer's _txlock), so it holds the
// database's write lock from its first statement, and it reads
// user_version again under that lock: when two processes open a new
// database at the same moment, the second waits for the first one's
// migration and then finds it applied, instead of running it again
// (issue 13.3).
func (db *DB) migrate(ctx context.Context) error {
	for {
		done, err := db.migrateOne(ctx)
		if err != nil || done {
			return err
		}
	}
}

// migrateOne applies the next pending migration, if any; done reports
// that the schema is current.
func (db *DB) migrateOne(ctx context.Context) (done bool, err error) {
	tx, err := db.w.BeginTx(ctx, nil)
	if err != nil {
		return false, err
	}
	defer tx.Rollback()
	var v int
	if err := tx.QueryRowContext(ctx, "PRAGMA user_version").Scan(&v); err != nil {
		return false, err
	}
	if v > len(migrations) {
		return false, fmt.Errorf("database schema version %d is newer than this helpdeskd (%d)", v, len(migrations))
	}
	if v == len(migrations) {
		return true, tx.Commit()
	}
	if _, err := tx.ExecContext(ctx, migrations[v]); err != nil {
		return false, fmt.Errorf("migration %d: %w", v+1, err)
	}
	if _, err := tx.ExecContext(ctx, fmt.Sprintf("PRAGMA user_version = %d", v+1)); err != nil {
		return false, fmt.Errorf("migration %d: %w", v+1, err)
	}
	if err := tx.Commit(); err != nil {
		return false, fmt.Errorf("migration %d: %w", v+1, err)
	}
	return false, nil
}
