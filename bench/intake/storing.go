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
// one connection, each table's rows in rowid order and in txns
// transactions (the import committed about as many), with no
// checkpoint while it runs. Reading the rows from src is not counted.
//
// It is a floor for the import's committer, not a fair rival: the
// import writes the same rows interleaved mail by mail, which touches
// more index pages per transaction, and decides and renders between
// them. It returns the time and the rows inserted.
func storingAlone(ctx context.Context, src, dst string, txns int) (time.Duration, int64, error) {
	removeDB(dst)
	defer removeDB(dst)
	db, err := store.Open(ctx, dst) // the schema
	if err != nil {
		return 0, 0, err
	}
	if err := db.Close(); err != nil {
		return 0, 0, err
	}
	in, err := sql.Open("sqlite", "file:"+src+"?mode=ro")
	if err != nil {
		return 0, 0, err
	}
	defer in.Close()
	out, err := sql.Open("sqlite", "file:"+dst+"?_pragma=foreign_keys(1)&_pragma=synchronous(NORMAL)&_pragma=wal_autocheckpoint(0)&_txlock=immediate")
	if err != nil {
		return 0, 0, err
	}
	defer out.Close()
	out.SetMaxOpenConns(1)

	tables, err := parentsFirst(in)
	if err != nil {
		return 0, 0, err
	}
	var took time.Duration
	var total int64
	for _, table := range tables {
		d, n, err := copyTable(ctx, in, out, table, txns)
		if err != nil {
			return 0, 0, fmt.Errorf("table %s: %w", table, err)
		}
		took += d
		total += n
	}
	return took, total, nil
}

// parentsFirst lists db's tables so that every table comes after the
// tables its foreign keys name.
func parentsFirst(db *sql.DB) ([]string, error) {
	rows, err := db.Query(`SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name`)
	if err != nil {
		return nil, err
	}
	var names []string
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			rows.Close()
			return nil, err
		}
		names = append(names, s)
	}
	rows.Close()
	parents := map[string][]string{}
	for _, n := range names {
		rows, err := db.Query(`SELECT "table" FROM pragma_foreign_key_list(?)`, n)
		if err != nil {
			return nil, err
		}
		for rows.Next() {
			var p string
			rows.Scan(&p)
			if p != n {
				parents[n] = append(parents[n], p)
			}
		}
		rows.Close()
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

// copyTable inserts table's rows from in into out in txns transactions
// and returns the time the inserts took.
func copyTable(ctx context.Context, in, out *sql.DB, table string, txns int) (time.Duration, int64, error) {
	var n int64
	if err := in.QueryRow(`SELECT count(*) FROM "` + table + `"`).Scan(&n); err != nil {
		return 0, 0, err
	}
	if n == 0 {
		return 0, 0, nil
	}
	cols, err := columns(in, table)
	if err != nil {
		return 0, 0, err
	}
	// Each value with its type: the driver reads an empty blob as nil,
	// which would go back as NULL.
	sel := make([]string, len(cols))
	for i, c := range cols {
		sel[i] = fmt.Sprintf(`"%s", typeof("%s")`, c, c)
	}
	rows, err := in.Query(`SELECT ` + strings.Join(sel, ", ") + ` FROM "` + table + `" ORDER BY rowid`)
	if err != nil {
		return 0, 0, err
	}
	defer rows.Close()
	// OR REPLACE: the rows of tables that triggers keep (counts by
	// status, load by engineer) are already there when they come.
	q := fmt.Sprintf(`INSERT OR REPLACE INTO "%s" ("%s") VALUES (%s)`, table, strings.Join(cols, `", "`),
		strings.TrimSuffix(strings.Repeat("?, ", len(cols)), ", "))
	st, err := out.PrepareContext(ctx, q)
	if err != nil {
		return 0, 0, err
	}
	defer st.Close()
	per := max(1, int((n+int64(txns)-1)/int64(txns)))
	var took time.Duration
	batch := make([][]any, 0, per)
	flush := func() error {
		start := time.Now()
		tx, err := out.BeginTx(ctx, nil)
		if err != nil {
			return err
		}
		defer tx.Rollback()
		ts := tx.StmtContext(ctx, st)
		for _, r := range batch {
			if _, err := ts.ExecContext(ctx, r...); err != nil {
				return err
			}
		}
		if err := tx.Commit(); err != nil {
			return err
		}
		took += time.Since(start)
		batch = batch[:0]
		return nil
	}
	for rows.Next() {
		r := make([]any, len(cols))
		types := make([]string, len(cols))
		ptrs := make([]any, 0, 2*len(cols))
		for i := range r {
			ptrs = append(ptrs, &r[i], &types[i])
		}
		if err := rows.Scan(ptrs...); err != nil {
			return 0, 0, err
		}
		for i := range r {
			if b, _ := r[i].([]byte); b == nil && types[i] == "blob" {
				r[i] = []byte{}
			}
		}
		if batch = append(batch, r); len(batch) == per {
			if err := flush(); err != nil {
				return 0, 0, err
			}
		}
	}
	if err := rows.Err(); err != nil {
		return 0, 0, err
	}
	if len(batch) > 0 {
		if err := flush(); err != nil {
			return 0, 0, err
		}
	}
	return took, n, nil
}

// columns lists table's columns in order.
func columns(db *sql.DB, table string) ([]string, error) {
	rows, err := db.Query(`SELECT name FROM pragma_table_info(?) ORDER BY cid`, table)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var cols []string
	for rows.Next() {
		var c string
		if err := rows.Scan(&c); err != nil {
			return nil, err
		}
		cols = append(cols, c)
	}
	return cols, rows.Err()
}
