package store

import (
	"database/sql"
	"errors"
	"time"

	"helpdeskd/calendar"
	"helpdeskd/cases"
)

// InspectionCursor returns how far a customer's inspection schedule was
// handled, and false if it was never seen.
func (t *Txn) InspectionCursor(company string) (cases.InspectionCursor, bool, error) {
	var next, since int64
	var reminded sql.NullInt64
	err := t.row(`SELECT next_day, reminded_day, since FROM inspection_cursor WHERE company = ?`, company).Scan(&next, &reminded, &since)
	if errors.Is(err, sql.ErrNoRows) {
		return cases.InspectionCursor{}, false, nil
	}
	if err != nil {
		return cases.InspectionCursor{}, false, err
	}
	cur := cases.InspectionCursor{Next: calendar.DateOf(time.UnixMilli(next).UTC()), Since: time.UnixMilli(since).UTC()}
	if reminded.Valid {
		cur.Reminded = calendar.DateOf(time.UnixMilli(reminded.Int64).UTC())
	}
	return cur, true, nil
}

// SetInspectionCursor records how far a customer's schedule was handled.
func (t *Txn) SetInspectionCursor(company string, cur cases.InspectionCursor) error {
	var reminded any
	if cur.Reminded != (calendar.Date{}) {
		reminded = cur.Reminded.Midnight().UnixMilli()
	}
	_, err := t.exec(`INSERT INTO inspection_cursor (company, next_day, reminded_day, since) VALUES (?,?,?,?)
		ON CONFLICT (company) DO UPDATE SET next_day = excluded.next_day, reminded_day = excluded.reminded_day`,
		company, cur.Next.Midnight().UnixMilli(), reminded, cur.Since.UnixMilli())
	return err
}

// InspectionCase returns the inspection case of a customer's day, if one
// was opened (by the cases_inspection index).
func (t *Txn) InspectionCase(company string, day time.Time) (int64, bool, error) {
	var n int64
	err := t.row(`SELECT number FROM cases WHERE kind = 'inspection' AND company = ? AND planned_date = ?`, company, day.UnixMilli()).Scan(&n)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, false, nil
	}
	return n, err == nil, err
}

// CountOutbox counts the outbox rows of a kind (any state).
func (t *Txn) CountOutbox(kind string) (int, error) {
	var n int
	err := t.row(`SELECT count(*) FROM outbox WHERE kind = ?`, kind).Scan(&n)
	return n, err
}
