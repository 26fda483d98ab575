package store

import (
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"helpdeskd/cases"
)

const caseCols = `number, subject, status, severity, priority, company, contact_name, contact_phone,
contact_email, region, language, foreign_flag, plan, engineer, description, opened_at, assigned_at,
respond_by, solve_online_by, onsite_by, responded_at, resolved_at, closed_at, onsite_needed,
onsite_engineer, escalation_level, last_reply_at, replies_sent, linked_case, approved,
last_customer_msgid, thread_ids, next_respond_check, stuck_escalated, onsite_escalated,
onsite_arrived_at, confirm_asked_at, clock_start, kind, planned_date, report_due_by, late, billable,
reminded_at, bounced_at, dispatched_at, resolution_note`

type scanner interface{ Scan(...any) error }

func scanCase(s scanner) (*cases.Case, error) {
	var c cases.Case
	var assigned, respond, solve, onsite, responded, resolved, closed, lastReply, linked sql.NullInt64
	var opened int64
	var threads string
	var nextRespond, arrived, asked, clockStart sql.NullInt64
	var planned, reportDue, reminded, bounced, dispatched sql.NullInt64
	err := s.Scan(&c.Number, &c.Subject, &c.Status, &c.Severity, &c.Priority, &c.Company, &c.ContactName,
		&c.ContactPhone, &c.ContactEmail, &c.Region, &c.Language, &c.Foreign, &c.Plan, &c.Engineer,
		&c.Description, &opened, &assigned, &respond, &solve, &onsite, &responded, &resolved, &closed,
		&c.OnsiteNeeded, &c.OnsiteEngineer, &c.EscalationLevel, &lastReply, &c.RepliesSent, &linked,
		&c.Approved, &c.LastCustomerMsgID, &threads, &nextRespond, &c.StuckEscalated, &c.OnsiteEscalated,
		&arrived, &asked, &clockStart, &c.Kind, &planned, &reportDue, &c.Late, &c.Billable, &reminded, &bounced, &dispatched, &c.ResolutionNote)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, err
	}
	c.OpenedAt = time.UnixMilli(opened).UTC()
	c.AssignedAt, c.RespondBy, c.SolveOnlineBy, c.OnsiteBy = fromMS(assigned), fromMS(respond), fromMS(solve), fromMS(onsite)
	c.RespondedAt, c.ResolvedAt, c.ClosedAt, c.LastReplyAt = fromMS(responded), fromMS(resolved), fromMS(closed), fromMS(lastReply)
	c.LinkedCase = linked.Int64
	c.NextRespondCheck, c.OnsiteArrivedAt, c.ConfirmAskedAt = fromMS(nextRespond), fromMS(arrived), fromMS(asked)
	c.ClockStart = fromMS(clockStart)
	c.PlannedDate, c.ReportDueBy, c.RemindedAt, c.BouncedAt = fromMS(planned), fromMS(reportDue), fromMS(reminded), fromMS(bounced)
	c.DispatchedAt = fromMS(dispatched)
	if err := json.Unmarshal([]byte(threads), &c.ThreadIDs); err != nil {
		return nil, fmt.Errorf("case %d thread ids: %w", c.Number, err)
	}
	return &c, nil
}

func caseArgs(c *cases.Case) []any {
	threads, _ := json.Marshal(c.ThreadIDs)
	if c.ThreadIDs == nil {
		threads = []byte("[]")
	}
	var linked any
	if c.LinkedCase != 0 {
		linked = c.LinkedCase
	}
	return []any{c.Subject, c.Status, c.Severity, c.Priority, c.Company, c.ContactName, c.ContactPhone,
		c.ContactEmail, c.Region, c.Language, c.Foreign, c.Plan, c.Engineer, c.Description,
		c.OpenedAt.UnixMilli(), ms(c.AssignedAt), ms(c.RespondBy), ms(c.SolveOnlineBy), ms(c.OnsiteBy),
		ms(c.RespondedAt), ms(c.ResolvedAt), ms(c.ClosedAt), c.OnsiteNeeded, c.OnsiteEngineer,
		c.EscalationLevel, ms(c.LastReplyAt), c.RepliesSent, linked, c.Approved, c.LastCustomerMsgID,
		string(threads), ms(c.NextRespondCheck), c.StuckEscalated, c.OnsiteEscalated, ms(c.OnsiteArrivedAt),
		ms(c.ConfirmAskedAt), ms(c.ClockStart), orKind(c.Kind), ms(c.PlannedDate), ms(c.ReportDueBy), c.Late,
		c.Billable, ms(c.RemindedAt), ms(c.BouncedAt), ms(c.DispatchedAt), c.ResolutionNote}
}

func orKind(k string) string {
	if k == "" {
		return cases.KindFault
	}
	return k
}

// InsertCase stores a new case and sets its Number.
func (t *Txn) InsertCase(c *cases.Case) error {
	cols := strings.TrimPrefix(caseCols, "number, ")
	q := "INSERT INTO cases (" + cols + ") VALUES (" + strings.TrimSuffix(strings.Repeat("?,", len(caseArgs(c))), ",") + ")"
	res, err := t.exec(q, caseArgs(c)...)
	if err != nil {
		return fmt.Errorf("insert case: %w", err)
	}
	c.Number, err = res.LastInsertId()
	return err
}

// UpdateCase writes every field of c.
func (t *Txn) UpdateCase(c *cases.Case) error {
	cols := strings.Split(strings.TrimPrefix(caseCols, "number, "), ",")
	for i := range cols {
		cols[i] = strings.TrimSpace(cols[i]) + " = ?"
	}
	q := "UPDATE cases SET " + strings.Join(cols, ", ") + " WHERE number = ?"
	_, err := t.exec(q, append(caseArgs(c), c.Number)...)
	if err != nil {
		return fmt.Errorf("update case %d: %w", c.Number, err)
	}
	return nil
}

// Case loads case n.
func (t *Txn) Case(n int64) (*cases.Case, error) {
	c, err := scanCase(t.row("SELECT "+caseCols+" FROM cases WHERE number = ?", n))
	if err != nil {
		return nil, fmt.Errorf("case %d: %w", n, err)
	}
	return c, nil
}

// Cases lists cases with the given status ("" or "all" = every case), newest first.
func (t *Txn) Cases(status string) ([]*cases.Case, error) {
	return t.ListCases(ListFilter{Status: status})
}

// AddEvent appends an event to a case's timeline.
func (t *Txn) AddEvent(e cases.Event) error {
	_, err := t.exec("INSERT INTO events (case_number, at, kind, actor, detail) VALUES (?, ?, ?, ?, ?)",
		e.Case, e.At.UnixMilli(), e.Kind, e.Actor, e.Detail)
	if err != nil {
		return fmt.Errorf("add event to case %d: %w", e.Case, err)
	}
	return nil
}

// Events returns a case's timeline, oldest first.
func (t *Txn) Events(n int64) ([]cases.Event, error) {
	return t.eventRows("SELECT id, case_number, at, kind, actor, detail FROM events WHERE case_number = ? ORDER BY id", n)
}

// CaseByMessageID finds the case that any of ids (incoming or outgoing
// Message-IDs, without <>) belongs to; the last id found wins, since a
// References list runs oldest to newest.
func (t *Txn) CaseByMessageID(ids []string) (int64, bool, error) {
	for i := len(ids) - 1; i >= 0; i-- {
		id := ids[i]
		if id == "" {
			continue
		}
		var n sql.NullInt64
		err := t.row(`SELECT case_number FROM messages WHERE message_id = ? AND case_number IS NOT NULL
			UNION ALL SELECT case_number FROM outbox WHERE message_id = ? AND case_number IS NOT NULL LIMIT 1`, id, id).Scan(&n)
		if errors.Is(err, sql.ErrNoRows) {
			continue
		}
		if err != nil {
			return 0, false, fmt.Errorf("find message %s: %w", id, err)
		}
		return n.Int64, true, nil
	}
	return 0, false, nil
}

// CaseExists reports whether case n exists.
func (t *Txn) CaseExists(n int64) (bool, error) {
	var x int
	err := t.row("SELECT 1 FROM cases WHERE number = ?", n).Scan(&x)
	if errors.Is(err, sql.ErrNoRows) {
		return false, nil
	}
	return err == nil, err
}

// SetTimer schedules (or moves) the timer kind of a case.
func (t *Txn) SetTimer(tm cases.Timer) error {
	_, err := t.exec(`INSERT INTO timers (case_number, kind, due_at) VALUES (?, ?, ?)
		ON CONFLICT (case_number, kind) DO UPDATE SET due_at = excluded.due_at`, tm.Case, tm.Kind, tm.Due.UnixMilli())
	if err != nil {
		return fmt.Errorf("set timer %s on case %d: %w", tm.Kind, tm.Case, err)
	}
	return nil
}

// DeleteTimers removes timers of a case; no kinds removes all of them.
func (t *Txn) DeleteTimers(n int64, kinds ...string) error {
	if len(kinds) == 0 {
		_, err := t.exec("DELETE FROM timers WHERE case_number = ?", n)
		return err
	}
	for _, k := range kinds {
		if _, err := t.exec("DELETE FROM timers WHERE case_number = ? AND kind = ?", n, k); err != nil {
			return err
		}
	}
	return nil
}

// Timers lists the timers of a case.
func (t *Txn) Timers(n int64) ([]cases.Timer, error) {
	return t.timers("SELECT case_number, kind, due_at FROM timers WHERE case_number = ? ORDER BY due_at", n)
}

// DueTimers returns up to limit timers due at or before now, earliest first.
func (t *Txn) DueTimers(now time.Time, limit int) ([]cases.Timer, error) {
	return t.timers("SELECT case_number, kind, due_at FROM timers WHERE due_at <= ? ORDER BY due_at LIMIT ?", now.UnixMilli(), limit)
}

// NextTimer returns the due time of the earliest timer.
func (t *Txn) NextTimer() (time.Time, bool, error) {
	var v sql.NullInt64
	if err := t.row("SELECT MIN(due_at) FROM timers").Scan(&v); err != nil {
		return time.Time{}, false, err
	}
	return fromMS(v), v.Valid, nil
}

// CountTimers counts all stored timers.
func (t *Txn) CountTimers() (int, error) {
	var n int
	err := t.row("SELECT COUNT(*) FROM timers").Scan(&n)
	return n, err
}

func (t *Txn) timers(q string, args ...any) ([]cases.Timer, error) {
	rows, err := t.query(q, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []cases.Timer
	for rows.Next() {
		var tm cases.Timer
		var due int64
		if err := rows.Scan(&tm.Case, &tm.Kind, &due); err != nil {
			return nil, err
		}
		tm.Due = time.UnixMilli(due).UTC()
		out = append(out, tm)
	}
	return out, rows.Err()
}

// OpenCasesByEngineer counts the open cases of each engineer.
func (t *Txn) OpenCasesByEngineer() (map[string]int, error) {
	rows, err := t.query("SELECT engineer, COUNT(*) FROM cases WHERE status != 'closed' AND engineer != '' GROUP BY engineer")
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := map[string]int{}
	for rows.Next() {
		var e string
		var n int
		if err := rows.Scan(&e, &n); err != nil {
			return nil, err
		}
		out[e] = n
	}
	return out, rows.Err()
}

// LastStaffReply is the text of the latest public staff reply on a case
// (a reply_out event with a staff actor), "" if there is none.
func (t *Txn) LastStaffReply(n int64) (string, error) {
	var s string
	err := t.row(`SELECT detail FROM events WHERE case_number = ? AND kind = 'reply_out' AND actor != ''
		ORDER BY id DESC LIMIT 1`, n).Scan(&s)
	if errors.Is(err, sql.ErrNoRows) {
		return "", nil
	}
	return s, err
}

// SuppressionToldSince reports whether an acknowledgement to rcpt was
// suppressed (and staff told) since t (SPEC §11.4: staff are told once per
// sender and hour). It reads the suppressions since t by the events_kind
// index.
func (t *Txn) SuppressionToldSince(rcpt string, since time.Time) (bool, error) {
	var n int
	err := t.row(`SELECT count(*) FROM events WHERE kind = ? AND at >= ? AND detail LIKE ? ESCAPE '\'`,
		cases.EvAutoReplySuppressed, since.UnixMilli(), "acknowledgement to "+likeEscape(rcpt)+" %"+likeEscape(cases.SuppressionToldMark)).Scan(&n)
	return n > 0, err
}

func likeEscape(s string) string {
	return strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`).Replace(s)
}
