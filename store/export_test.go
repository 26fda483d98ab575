package store

// SetPrepareHook makes every statement a transaction runs be passed to f
// (nil: none). For the query-plan test.
func SetPrepareHook(f func(q string)) { prepareHook = f }

// Explain returns SQLite's EXPLAIN QUERY PLAN of q, one detail per line.
func (db *DB) Explain(q string, args ...any) ([]string, error) {
	rows, err := db.w.Query("EXPLAIN QUERY PLAN "+q, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var id, parent, notused int
		var detail string
		if err := rows.Scan(&id, &parent, &notused, &detail); err != nil {
			return nil, err
		}
		out = append(out, detail)
	}
	return out, rows.Err()
}
