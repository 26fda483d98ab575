package store

import (
	"fmt"
	"math"
	"strings"
	"time"

	"helpdeskd/cases"
)

// ListFilter selects cases for `case list`; a zero field matches every case.
type ListFilter struct {
	Status   string // open, resolved or closed; "" or "all" = any
	Engineer string // the assigned engineer's address (case-insensitive)
	Company  string // the company name (case-insensitive)
	Kind     string // a case kind; "fault" also matches cases stored without one
}

// ListCases returns the cases matching f, newest first.
func (t *Txn) ListCases(f ListFilter) ([]*cases.Case, error) {
	q, args := listSQL(f)
	return t.caseRows(q, args...)
}

func listSQL(f ListFilter) (string, []any) {
	var where []string
	var args []any
	if f.Status != "" && f.Status != "all" {
		where, args = append(where, "status = ?"), append(args, f.Status)
	}
	if f.Engineer != "" {
		where, args = append(where, "engineer = ?"), append(args, strings.ToLower(f.Engineer))
	}
	if f.Company != "" {
		where, args = append(where, "company = ? COLLATE NOCASE"), append(args, f.Company)
	}
	switch f.Kind {
	case "":
	case cases.KindFault:
		where = append(where, "kind IN ('fault', '')")
	default:
		where, args = append(where, "kind = ?"), append(args, f.Kind)
	}
	q := "SELECT " + caseCols + " FROM cases"
	if len(where) > 0 {
		q += " WHERE " + strings.Join(where, " AND ")
	}
	return q + " ORDER BY number DESC", args
}

// bounds turns a half-open period [from, to) into milliseconds; a zero
// bound is open-ended.
func bounds(from, to time.Time) (int64, int64) {
	lo, hi := int64(math.MinInt64), int64(math.MaxInt64)
	if !from.IsZero() {
		lo = from.UnixMilli()
	}
	if !to.IsZero() {
		hi = to.UnixMilli()
	}
	return lo, hi
}

// ReportCases returns the cases opened or closed in [from, to) (a zero
// bound is open-ended), oldest first.
func (t *Txn) ReportCases(from, to time.Time) ([]*cases.Case, error) {
	lo, hi := bounds(from, to)
	return t.caseRows(reportCasesSQL, lo, hi, lo, hi)
}

var reportCasesSQL = "SELECT " + caseCols + ` FROM cases
	WHERE (opened_at >= ? AND opened_at < ?) OR (closed_at >= ? AND closed_at < ?) ORDER BY number`

func (t *Txn) caseRows(q string, args ...any) ([]*cases.Case, error) {
	rows, err := t.query(q, args...)
	if err != nil {
		return nil, fmt.Errorf("list cases: %w", err)
	}
	defer rows.Close()
	var out []*cases.Case
	for rows.Next() {
		c, err := scanCase(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, c)
	}
	return out, rows.Err()
}

// EventsOfKinds returns the events of the given kinds that happened in
// [from, to) (a zero bound is open-ended), on any case, oldest first.
func (t *Txn) EventsOfKinds(from, to time.Time, kinds ...string) ([]cases.Event, error) {
	if len(kinds) == 0 {
		return nil, nil
	}
	lo, hi := bounds(from, to)
	args := []any{}
	for _, k := range kinds {
		args = append(args, k)
	}
	args = append(args, lo, hi)
	return t.eventRows(periodEventsSQL(len(kinds)), args...)
}

func periodEventsSQL(kinds int) string {
	return `SELECT id, case_number, at, kind, actor, detail FROM events
		WHERE kind IN (` + placeholders(kinds) + `) AND at >= ? AND at < ? ORDER BY at, id`
}

// caseEventsSQL looks events up case by case: the kind index would read
// every event of the kinds (every imported case, say) for a few cases.
func caseEventsSQL(cases, kinds int) string {
	return `SELECT id, case_number, at, kind, actor, detail FROM events INDEXED BY events_case
		WHERE case_number IN (` + placeholders(cases) + `) AND kind IN (` + placeholders(kinds) + `) ORDER BY case_number, id`
}

// CaseEventsOfKinds returns, for each of the cases numbers, its events of
// the given kinds, oldest first.
func (t *Txn) CaseEventsOfKinds(numbers []int64, kinds ...string) (map[int64][]cases.Event, error) {
	out := map[int64][]cases.Event{}
	if len(kinds) == 0 {
		return out, nil
	}
	const chunk = 500 // well below SQLite's limit on host parameters
	for len(numbers) > 0 {
		n := min(len(numbers), chunk)
		args := make([]any, 0, n+len(kinds))
		for _, c := range numbers[:n] {
			args = append(args, c)
		}
		for _, k := range kinds {
			args = append(args, k)
		}
		evs, err := t.eventRows(caseEventsSQL(n, len(kinds)), args...)
		if err != nil {
			return nil, err
		}
		for _, e := range evs {
			out[e.Case] = append(out[e.Case], e)
		}
		numbers = numbers[n:]
	}
	return out, nil
}

func placeholders(n int) string {
	return strings.TrimSuffix(strings.Repeat("?,", n), ",")
}

func (t *Txn) eventRows(q string, args ...any) ([]cases.Event, error) {
	rows, err := t.query(q, args...)
	if err != nil {
		return nil, fmt.Errorf("list events: %w", err)
	}
	defer rows.Close()
	var out []cases.Event
	for rows.Next() {
		var e cases.Event
		var at int64
		if err := rows.Scan(&e.ID, &e.Case, &at, &e.Kind, &e.Actor, &e.Detail); err != nil {
			return nil, err
		}
		e.At = time.UnixMilli(at).UTC()
		out = append(out, e)
	}
	return out, rows.Err()
}
