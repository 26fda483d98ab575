package store

import (
	"database/sql"
	"time"
)

// The queries behind /metrics and /healthz (SPEC §11.2). They read the
// tables every command writes, so a case opened by `helpdeskd case open`
// in another process counts like one opened by mail. Each uses an index
// or reads only rows added since the previous scrape.

// CaseCounts returns the number of cases by status, read from the
// case_counts table that triggers on cases keep (a row per status, so the
// cost does not grow with the cases kept). A status whose cases all moved
// on reads 0.
func (t *Txn) CaseCounts() (map[string]int, error) {
	return t.counts("SELECT status, n FROM case_counts")
}

// counts reads rows of a name and a count into a map.
func (t *Txn) counts(q string, args ...any) (map[string]int, error) {
	rows, err := t.query(q, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := map[string]int{}
	for rows.Next() {
		var k string
		var n int
		if err := rows.Scan(&k, &n); err != nil {
			return nil, err
		}
		out[k] = n
	}
	return out, rows.Err()
}

// Overdue counts open cases past a deadline at now: not responded to by
// respond_by, not solved by solve_online_by and no engineer dispatched
// (once dispatched, on site is what counts, as in cases.CaseDeadlines), no
// engineer on site by onsite_by. Only open cases are read (index
// cases_status).
type Overdue struct{ Respond, SolveOnline, Onsite int }

// OverdueCounts returns the open cases past each deadline at now.
func (t *Txn) OverdueCounts(now time.Time) (Overdue, error) {
	var o Overdue
	n := now.UnixMilli()
	err := t.row(`SELECT
		COALESCE(SUM(responded_at IS NULL AND respond_by < ?), 0),
		COALESCE(SUM(solve_online_by < ? AND onsite_by IS NULL), 0),
		COALESCE(SUM(onsite_by < ? AND onsite_arrived_at IS NULL), 0)
		FROM cases WHERE status = 'open'`, n, n, n).Scan(&o.Respond, &o.SolveOnline, &o.Onsite)
	return o, err
}

// OutboxStats describes the outbox at a moment.
type OutboxStats struct {
	Queued int       // mails waiting to be sent
	Oldest time.Time // creation of the oldest waiting mail (zero: none)
	Failed int       // mails that failed for good, ever
}

// OutboxStats returns the queued and failed counts (index outbox_pending).
func (t *Txn) OutboxStats() (OutboxStats, error) {
	var s OutboxStats
	var oldest sql.NullInt64
	if err := t.row("SELECT COUNT(*), MIN(created_at) FROM outbox WHERE "+pending).Scan(&s.Queued, &oldest); err != nil {
		return s, err
	}
	s.Oldest = fromMS(oldest)
	err := t.row("SELECT COUNT(*) FROM outbox WHERE state = 'failed'").Scan(&s.Failed)
	return s, err
}

// Stuck describes mail that waited past its first retry.
type Stuck struct {
	Count     int
	Oldest    time.Time // when the oldest of them was queued
	Case      int64     // its case (0: none)
	LastError string    // its last delivery error
}

// StuckMail returns the queued mails that failed at least once and were
// queued before olderThan (the first retry's time for mail queued then).
// One pass: with a single min() aggregate, SQLite takes the bare columns
// from the row holding the minimum, the oldest stuck mail.
func (t *Txn) StuckMail(olderThan time.Time) (Stuck, error) {
	var s Stuck
	var at, cn sql.NullInt64
	var lastErr sql.NullString
	err := t.row(`SELECT COUNT(*), MIN(created_at), case_number, last_error FROM outbox
		WHERE `+pending+` AND attempts > 0 AND created_at <= ?`, olderThan.UnixMilli()).Scan(&s.Count, &at, &cn, &lastErr)
	s.Oldest, s.Case, s.LastError = fromMS(at), cn.Int64, lastErr.String
	return s, err
}

// EventCountsAfter counts events by kind with id above afterID, and
// returns the highest id counted (afterID when there is none). Events
// are never deleted, so a caller adds these to its running totals and
// reads only new rows on each call (primary key range; NOT INDEXED keeps
// the planner from scanning all of events_kind instead).
func (t *Txn) EventCountsAfter(afterID int64) (map[string]int, int64, error) {
	rows, err := t.query("SELECT kind, COUNT(*), MAX(id) FROM events NOT INDEXED WHERE id > ? GROUP BY kind", afterID)
	if err != nil {
		return nil, afterID, err
	}
	defer rows.Close()
	out, top := map[string]int{}, afterID
	for rows.Next() {
		var k string
		var n int
		var m int64
		if err := rows.Scan(&k, &n, &m); err != nil {
			return nil, afterID, err
		}
		out[k], top = n, max(top, m)
	}
	return out, top, rows.Err()
}

// EventDetails returns the details of the events of one kind with id in
// (afterID, uptoID], oldest first.
func (t *Txn) EventDetails(kind string, afterID, uptoID int64) ([]string, error) {
	rows, err := t.query("SELECT detail FROM events NOT INDEXED WHERE id > ? AND id <= ? AND kind = ? ORDER BY id", afterID, uptoID, kind)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var d string
		if err := rows.Scan(&d); err != nil {
			return nil, err
		}
		out = append(out, d)
	}
	return out, rows.Err()
}
