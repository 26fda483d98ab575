package store

import (
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"helpdeskd/cases"
)

// caseField maps one field of cases.Case to its column. The column list,
// the INSERT and UPDATE statements and the scan targets are all made from
// caseFields, so a column and its value cannot drift apart.
type caseField struct {
	col string
	// ptr returns the field in c: *string, *int, *int64, *bool,
	// *time.Time (Unix milliseconds, NULL for the zero time) or *[]string
	// (a JSON array).
	ptr func(c *cases.Case) any
	// write, if set, is the value stored instead of the field's own.
	write func(c *cases.Case) any
}

var caseFields = []caseField{
	{col: "number", ptr: func(c *cases.Case) any { return &c.Number }},
	{col: "subject", ptr: func(c *cases.Case) any { return &c.Subject }},
	{col: "status", ptr: func(c *cases.Case) any { return &c.Status }},
	{col: "severity", ptr: func(c *cases.Case) any { return &c.Severity }},
	{col: "priority", ptr: func(c *cases.Case) any { return &c.Priority }},
	{col: "company", ptr: func(c *cases.Case) any { return &c.Company }},
	{col: "contact_name", ptr: func(c *cases.Case) any { return &c.ContactName }},
	{col: "contact_phone", ptr: func(c *cases.Case) any { return &c.ContactPhone }},
	{col: "contact_email", ptr: func(c *cases.Case) any { return &c.ContactEmail }},
	{col: "region", ptr: func(c *cases.Case) any { return &c.Region }},
	{col: "language", ptr: func(c *cases.Case) any { return &c.Language }},
	{col: "foreign_flag", ptr: func(c *cases.Case) any { return &c.Foreign }},
	{col: "plan", ptr: func(c *cases.Case) any { return &c.Plan }},
	{col: "engineer", ptr: func(c *cases.Case) any { return &c.Engineer }},
	{col: "description", ptr: func(c *cases.Case) any { return &c.Description }},
	// opened_at is NOT NULL: even a zero time is stored as a number.
	{col: "opened_at", ptr: func(c *cases.Case) any { return &c.OpenedAt }, write: func(c *cases.Case) any { return c.OpenedAt.UnixMilli() }},
	{col: "assigned_at", ptr: func(c *cases.Case) any { return &c.AssignedAt }},
	{col: "respond_by", ptr: func(c *cases.Case) any { return &c.RespondBy }},
	{col: "solve_online_by", ptr: func(c *cases.Case) any { return &c.SolveOnlineBy }},
	{col: "onsite_by", ptr: func(c *cases.Case) any { return &c.OnsiteBy }},
	{col: "responded_at", ptr: func(c *cases.Case) any { return &c.RespondedAt }},
	{col: "resolved_at", ptr: func(c *cases.Case) any { return &c.ResolvedAt }},
	{col: "closed_at", ptr: func(c *cases.Case) any { return &c.ClosedAt }},
	{col: "onsite_needed", ptr: func(c *cases.Case) any { return &c.OnsiteNeeded }},
	{col: "onsite_engineer", ptr: func(c *cases.Case) any { return &c.OnsiteEngineer }},
	{col: "escalation_level", ptr: func(c *cases.Case) any { return &c.EscalationLevel }},
	{col: "last_reply_at", ptr: func(c *cases.Case) any { return &c.LastReplyAt }},
	{col: "replies_sent", ptr: func(c *cases.Case) any { return &c.RepliesSent }},
	// linked_case references cases(number): no link is NULL, not 0.
	{col: "linked_case", ptr: func(c *cases.Case) any { return &c.LinkedCase }, write: func(c *cases.Case) any { return nullZero(c.LinkedCase) }},
	{col: "approved", ptr: func(c *cases.Case) any { return &c.Approved }},
	{col: "last_customer_msgid", ptr: func(c *cases.Case) any { return &c.LastCustomerMsgID }},
	{col: "thread_ids", ptr: func(c *cases.Case) any { return &c.ThreadIDs }},
	{col: "next_respond_check", ptr: func(c *cases.Case) any { return &c.NextRespondCheck }},
	{col: "stuck_escalated", ptr: func(c *cases.Case) any { return &c.StuckEscalated }},
	{col: "onsite_escalated", ptr: func(c *cases.Case) any { return &c.OnsiteEscalated }},
	{col: "onsite_arrived_at", ptr: func(c *cases.Case) any { return &c.OnsiteArrivedAt }},
	{col: "confirm_asked_at", ptr: func(c *cases.Case) any { return &c.ConfirmAskedAt }},
	{col: "clock_start", ptr: func(c *cases.Case) any { return &c.ClockStart }},
	{col: "kind", ptr: func(c *cases.Case) any { return &c.Kind }, write: func(c *cases.Case) any { return orKind(c.Kind) }},
	{col: "planned_date", ptr: func(c *cases.Case) any { return &c.PlannedDate }},
	{col: "report_due_by", ptr: func(c *cases.Case) any { return &c.ReportDueBy }},
	{col: "late", ptr: func(c *cases.Case) any { return &c.Late }},
	{col: "billable", ptr: func(c *cases.Case) any { return &c.Billable }},
	{col: "reminded_at", ptr: func(c *cases.Case) any { return &c.RemindedAt }},
	{col: "bounced_at", ptr: func(c *cases.Case) any { return &c.BouncedAt }},
	{col: "dispatched_at", ptr: func(c *cases.Case) any { return &c.DispatchedAt }},
	{col: "resolution_note", ptr: func(c *cases.Case) any { return &c.ResolutionNote }},
}

// The statements made from caseFields; caseFields[0] is the key.
var caseCols, insertCaseSQL, updateCaseSQL = caseSQL()

func caseSQL() (cols, insert, update string) {
	var all, set []string
	for _, f := range caseFields {
		all = append(all, f.col)
		if f.col != "number" {
			set = append(set, f.col+" = ?")
		}
	}
	cols = strings.Join(all, ", ")
	insert = "INSERT INTO cases (" + strings.Join(all[1:], ", ") + ") VALUES (" +
		strings.TrimSuffix(strings.Repeat("?, ", len(all)-1), ", ") + ")"
	update = "UPDATE cases SET " + strings.Join(set, ", ") + " WHERE number = ?"
	return cols, insert, update
}

// value is what f stores for c.
func (f caseField) value(c *cases.Case) any {
	if f.write != nil {
		return f.write(c)
	}
	switch p := f.ptr(c).(type) {
	case *time.Time:
		return ms(*p)
	case *[]string:
		if *p == nil {
			return "[]"
		}
		b, _ := json.Marshal(*p) // a []string always marshals
		return string(b)
	case *string:
		return *p
	case *int:
		return *p
	case *int64:
		return *p
	case *bool:
		return *p
	}
	panic("store: case column " + f.col + " has an unsupported field type")
}

// target is where f's column is scanned into c.
func (f caseField) target(c *cases.Case) any {
	switch p := f.ptr(c).(type) {
	case *time.Time:
		return msScanner{p}
	case *[]string:
		return jsonScanner{p}
	case *int64:
		return nullIntScanner{p}
	default:
		return p
	}
}

// msScanner reads Unix milliseconds (NULL = the zero time).
type msScanner struct{ p *time.Time }

func (s msScanner) Scan(v any) error {
	var n sql.NullInt64
	if err := n.Scan(v); err != nil {
		return err
	}
	*s.p = fromMS(n)
	return nil
}

// jsonScanner reads a JSON array of strings.
type jsonScanner struct{ p *[]string }

func (s jsonScanner) Scan(v any) error {
	var text sql.NullString
	if err := text.Scan(v); err != nil {
		return err
	}
	*s.p = nil
	if !text.Valid {
		return nil
	}
	return json.Unmarshal([]byte(text.String), s.p)
}

// nullIntScanner reads an integer, NULL as 0.
type nullIntScanner struct{ p *int64 }

func (s nullIntScanner) Scan(v any) error {
	var n sql.NullInt64
	if err := n.Scan(v); err != nil {
		return err
	}
	*s.p = n.Int64
	return nil
}

func nullZero(n int64) any {
	if n == 0 {
		return nil
	}
	return n
}

type scanner interface{ Scan(...any) error }

func scanCase(s scanner) (*cases.Case, error) {
	var c cases.Case
	dest := make([]any, len(caseFields))
	for i, f := range caseFields {
		dest[i] = f.target(&c)
	}
	err := s.Scan(dest...)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, err
	}
	return &c, nil
}

// caseArgs are the values of every column but the key, in caseFields order.
func caseArgs(c *cases.Case) []any {
	args := make([]any, 0, len(caseFields))
	for _, f := range caseFields[1:] {
		args = append(args, f.value(c))
	}
	return args
}

func orKind(k string) string {
	if k == "" {
		return cases.KindFault
	}
	return k
}

// InsertCase stores a new case and sets its Number.
func (t *Txn) InsertCase(c *cases.Case) error {
	args := caseArgs(c)
	res, err := t.exec(insertCaseSQL, args...)
	if err != nil {
		return fmt.Errorf("insert case: %w", err)
	}
	if c.Number, err = res.LastInsertId(); err != nil {
		return err
	}
	t.sawCase(c.Number, args)
	return nil
}

// UpdateCase writes c. When this transaction read or inserted the case,
// only the columns that changed since are set: a case is read, decided
// on and written back in one transaction, most events change a few of
// its 46 columns besides the number, and SQLite then leaves alone the
// indexes and triggers of the columns not named (a new case's
// acknowledgement, for one, only adds its Message-ID to the case's
// thread ids; a customer's reply sets those and the last customer
// Message-ID). Otherwise every column is written: when the transaction
// saw neither, when more than partialUpdateCols changed, and when the
// set of columns is new and partialUpdates already holds as many sets as
// it keeps. No other statement writes cases, so what the transaction
// saw last is what is stored.
func (t *Txn) UpdateCase(c *cases.Case) error {
	args := caseArgs(c)
	q, set := updateCaseSQL, args
	if prev, ok := t.seenCases[c.Number]; ok {
		var cols []string
		var vals []any
		for i, v := range args {
			if v != prev[i] { // caseArgs' values are all comparable
				cols = append(cols, caseFields[i+1].col+" = ?")
				vals = append(vals, v)
			}
		}
		switch {
		case len(cols) == 0:
			return nil
		case len(cols) <= partialUpdateCols:
			if pq := "UPDATE cases SET " + strings.Join(cols, ", ") + " WHERE number = ?"; partialUpdates.admit(pq) {
				q, set = pq, vals
			}
		}
	}
	if _, err := t.exec(q, append(set, c.Number)...); err != nil {
		return fmt.Errorf("update case %d: %w", c.Number, err)
	}
	t.sawCase(c.Number, args)
	return nil
}

// partialUpdateCols is the most columns UpdateCase sets by name; with
// more it writes them all.
const partialUpdateCols = 6

// partialUpdates are the sets of columns UpdateCase has named, up to 64
// statement texts, so that the statements prepared and cached for it
// (stmtCache) stay the few the decisions make and leave room for the
// rest. A set beyond them is written as a whole row.
var partialUpdates = textBudget{max: 64}

// textBudget admits up to max distinct texts.
type textBudget struct {
	mu   sync.Mutex
	max  int
	seen map[string]bool
}

func (b *textBudget) admit(q string) bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.seen[q] {
		return true
	}
	if len(b.seen) >= b.max {
		return false
	}
	if b.seen == nil {
		b.seen = map[string]bool{}
	}
	b.seen[q] = true
	return true
}

// sawCase records the stored values of case n (caseArgs) as this
// transaction read or wrote them.
func (t *Txn) sawCase(n int64, args []any) {
	if t.readOnly {
		return
	}
	if t.seenCases == nil {
		t.seenCases = map[int64][]any{}
	}
	t.seenCases[n] = args
}

// Case loads case n.
func (t *Txn) Case(n int64) (*cases.Case, error) {
	c, err := scanCase(t.row("SELECT "+caseCols+" FROM cases WHERE number = ?", n))
	if err != nil {
		return nil, fmt.Errorf("case %d: %w", n, err)
	}
	if !t.readOnly {
		t.sawCase(n, caseArgs(c))
	}
	return c, nil
}

// Cases lists cases with the given status ("" or "all" = every case), newest first.
func (t *Txn) Cases(status string) ([]*cases.Case, error) {
	return t.ListCases(ListFilter{Status: status})
}

// AddEvent appends an event to a case's timeline. It is written with the
// transaction's other events in one statement (batch.go), before any
// statement that reads events and before the commit.
func (t *Txn) AddEvent(e cases.Event) error {
	t.hold(eventBatch, e.Case, e.At.UnixMilli(), e.Kind, e.Actor, e.Detail)
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
// Like AddEvent, it is written with the transaction's other timers in one
// statement, before any statement on timers and before the commit.
func (t *Txn) SetTimer(tm cases.Timer) error {
	t.hold(timerBatch, tm.Case, tm.Kind, tm.Due.UnixMilli())
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

// OpenCasesByEngineer counts the open cases of each engineer (kept in
// engineer_load by triggers on cases).
func (t *Txn) OpenCasesByEngineer() (map[string]int, error) {
	return t.counts("SELECT engineer, open FROM engineer_load WHERE open > 0")
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
// sender and hour). It reads only the suppressions staff were told of
// since t, by the partial index events_suppression_told: at most one per
// sender and hour, however many acknowledgements a mail loop had
// suppressed.
func (t *Txn) SuppressionToldSince(rcpt string, since time.Time) (bool, error) {
	var n int
	err := t.row(`SELECT count(*) FROM events INDEXED BY events_suppression_told WHERE `+suppressionTold+
		` AND at >= ? AND detail LIKE ? ESCAPE '\'`,
		since.UnixMilli(), likeEscape(cases.SuppressedAckPrefix(rcpt))+"%"+likeEscape(cases.SuppressionToldMark)).Scan(&n)
	return n > 0, err
}

func likeEscape(s string) string {
	return strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`).Replace(s)
}
