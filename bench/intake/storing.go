package main

import (
	"context"
	"database/sql"
	"fmt"
	"slices"
	"strings"
	"time"

	"helpdeskd/store"
)

// storingAlone is how long a bare writer takes to store what the import
// stored: every row of every table of the import's database src is
// inserted again into a new database dst with the same schema (its
// indexes and triggers included), by one prepared INSERT per table on
// one connection, table after table, each in rowid order, in txns
// transactions of as many rows each (as many as the import committed),
// with no checkpoint while it runs. Reading the rows from src is not
// counted.
//
// It is a floor for the import's committer, not a fair rival: the
// import writes the same rows interleaved mail by mail, which touches
// more index pages per transaction, and decides and renders between
// them. It returns the time, the part of it that the raw mail's tables
// took (messages and message_chunks: what no import can skip storing),
// and the rows inserted.
func storingAlone(ctx context.Context, src, dst string, txns int) (took, raw time.Duration, rows int64, err error) {
	took, byTable, rows, err := storeAgain(ctx, src, dst, txns)
	return took, byTable["messages"] + byTable["message_chunks"], rows, err
}

// storeAgain is storingAlone with the time of each table: the time of
// its inserts, and of the commits that they ended.
func storeAgain(ctx context.Context, src, dst string, txns int) (time.Duration, map[string]time.Duration, int64, error) {
	removeDB(dst)
	defer removeDB(dst)
	db, err := store.Open(ctx, dst) // the schema
	if err != nil {
		return 0, nil, 0, err
	}
	if err := db.Close(); err != nil {
		return 0, nil, 0, err
	}
	in, err := sql.Open("sqlite", "file:"+src+"?mode=ro")
	if err != nil {
		return 0, nil, 0, err
	}
	defer in.Close()
	out, err := sql.Open("sqlite", "file:"+dst+"?_pragma=foreign_keys(1)&_pragma=synchronous(NORMAL)&_pragma=wal_autocheckpoint(0)&_txlock=immediate")
	if err != nil {
		return 0, nil, 0, err
	}
	defer out.Close()
	out.SetMaxOpenConns(1)

	tables, err := parentsFirst(in)
	if err != nil {
		return 0, nil, 0, err
	}
	var total int64
	cols := map[string][]string{}
	for _, table := range tables {
		var n int64
		if err := in.QueryRow(`SELECT count(*) FROM "` + table + `"`).Scan(&n); err != nil {
			return 0, nil, 0, err
		}
		total += n
		if cols[table], err = columns(in, table); err != nil {
			return 0, nil, 0, err
		}
	}
	w := &bareWriter{ctx: ctx, db: out, per: max(1, int((total+int64(txns)-1)/int64(txns))), byTable: map[string]time.Duration{}}
	for _, table := range tables {
		if err := w.prepare(insertOf(table, cols[table])); err != nil {
			return 0, nil, 0, err
		}
	}
	for _, table := range tables {
		if err := w.copyTable(in, table, cols[table]); err != nil {
			return 0, nil, 0, fmt.Errorf("table %s: %w", table, err)
		}
	}
	if err := w.commit(); err != nil {
		return 0, nil, 0, err
	}
	w.byTable[w.table] += w.lastCommit
	return w.took, w.byTable, w.rows, nil
}

// bareWriter inserts rows in transactions of per rows, which may span
// tables, and counts the time the inserts take.
type bareWriter struct {
	ctx   context.Context
	db    *sql.DB
	per   int
	tx    *sql.Tx
	txSt  map[string]*sql.Stmt // stmts on tx
	n     int                  // rows in tx
	rows  int64
	took  time.Duration
	stmts map[string]*sql.Stmt // prepared (prepare) before the first insert

	table      string                   // the table being copied
	byTable    map[string]time.Duration // the time of each table's inserts
	lastCommit time.Duration            // of the final commit
}

// prepare prepares q on the writer's one connection, which a transaction
// holds once one is open: every statement is prepared before.
func (w *bareWriter) prepare(q string) error {
	st, err := w.db.PrepareContext(w.ctx, q)
	if err != nil {
		return err
	}
	if w.stmts == nil {
		w.stmts = map[string]*sql.Stmt{}
	}
	w.stmts[q] = st
	return nil
}

func (w *bareWriter) insert(q string, args []any) error {
	start := time.Now()
	defer func() {
		d := time.Since(start)
		w.took += d
		w.byTable[w.table] += d
	}()
	if w.tx == nil {
		tx, err := w.db.BeginTx(w.ctx, nil)
		if err != nil {
			return err
		}
		w.tx = tx
	}
	st, ok := w.stmts[q]
	if !ok {
		return fmt.Errorf("statement not prepared: %s", q)
	}
	ts, ok := w.txSt[q]
	if !ok {
		ts = w.tx.StmtContext(w.ctx, st)
		if w.txSt == nil {
			w.txSt = map[string]*sql.Stmt{}
		}
		w.txSt[q] = ts
	}
	if _, err := ts.ExecContext(w.ctx, args...); err != nil {
		return err
	}
	w.rows++
	if w.n++; w.n == w.per {
		return w.commitTx()
	}
	return nil
}

// commit commits the rows inserted since the last commit.
func (w *bareWriter) commit() error {
	start := time.Now()
	defer func() {
		w.lastCommit = time.Since(start)
		w.took += w.lastCommit
	}()
	return w.commitTx()
}

func (w *bareWriter) commitTx() error {
	if w.tx == nil {
		return nil
	}
	err := w.tx.Commit()
	w.tx, w.txSt, w.n = nil, nil, 0
	return err
}

// parentsFirst lists db's tables so that every table comes after the
// tables its foreign keys name.
func parentsFirst(db *sql.DB) ([]string, error) {
	names, err := strs(db, `SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name`)
	if err != nil {
		return nil, err
	}
	parents := map[string][]string{}
	for _, n := range names {
		ps, err := strs(db, `SELECT "table" FROM pragma_foreign_key_list(?) WHERE "table" != ?`, n, n)
		if err != nil {
			return nil, err
		}
		parents[n] = ps
	}
	var order []string
	var visit func(string)
	visit = func(n string) {
		if slices.Contains(order, n) {
			return
		}
		for _, p := range parents[n] {
			visit(p)
		}
		order = append(order, n)
	}
	for _, n := range names {
		visit(n)
	}
	return order, nil
}

// insertOf is the INSERT of a row of table. OR REPLACE: the rows of
// tables that triggers keep (counts by status, load by engineer) are
// already there when they come.
func insertOf(table string, cols []string) string {
	return fmt.Sprintf(`INSERT OR REPLACE INTO "%s" ("%s") VALUES (%s)`, table, strings.Join(cols, `", "`),
		strings.TrimSuffix(strings.Repeat("?, ", len(cols)), ", "))
}

// copyTable inserts the rows of table (its columns cols) from in, in
// the order they are stored.
func (w *bareWriter) copyTable(in *sql.DB, table string, cols []string) error {
	q := insertOf(table, cols)
	w.table = table
	// Each value with its type: the driver reads an empty blob as nil,
	// which would go back as NULL.
	sel := make([]string, len(cols))
	for i, c := range cols {
		sel[i] = fmt.Sprintf(`"%s", typeof("%s")`, c, c)
	}
	order, err := storedOrder(in, table)
	if err != nil {
		return err
	}
	rows, err := in.Query(`SELECT ` + strings.Join(sel, ", ") + ` FROM "` + table + `" ORDER BY ` + order)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		r := make([]any, len(cols))
		types := make([]string, len(cols))
		ptrs := make([]any, 0, 2*len(cols))
		for i := range r {
			ptrs = append(ptrs, &r[i], &types[i])
		}
		if err := rows.Scan(ptrs...); err != nil {
			return err
		}
		for i := range r {
			if b, _ := r[i].([]byte); b == nil && types[i] == "blob" {
				r[i] = []byte{}
			}
		}
		if err := w.insert(q, r); err != nil {
			return err
		}
	}
	return rows.Err()
}

// storedOrder is the ORDER BY that reads table in the order SQLite
// stores it: rowid, or for a table without rowid (timers) its primary
// key. Without it SQLite may read a table without rowid through an index
// that covers it (timers by timers_due), which is not the order of the
// import's inserts.
func storedOrder(db *sql.DB, table string) (string, error) {
	var withoutRowid bool
	if err := db.QueryRow(`SELECT wr FROM pragma_table_list WHERE name = ?`, table).Scan(&withoutRowid); err != nil {
		return "", err
	}
	if !withoutRowid {
		return "rowid", nil
	}
	key, err := strs(db, `SELECT '"' || name || '"' FROM pragma_table_info(?) WHERE pk > 0 ORDER BY pk`, table)
	if err != nil {
		return "", err
	}
	if len(key) == 0 {
		return "", fmt.Errorf("table %s has no rowid and no primary key", table)
	}
	return strings.Join(key, ", "), nil
}

// columns lists table's columns in order.
func columns(db *sql.DB, table string) ([]string, error) {
	return strs(db, `SELECT name FROM pragma_table_info(?) ORDER BY cid`, table)
}

// strs runs q, whose rows are one text each, and lists them.
func strs(db *sql.DB, q string, args ...any) ([]string, error) {
	rows, err := db.Query(q, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			return nil, err
		}
		out = append(out, s)
	}
	return out, rows.Err()
}
