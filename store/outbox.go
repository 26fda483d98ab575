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

// IsOwnMessageID reports whether helpdeskd sent a mail with this Message-ID.
func (t *Txn) IsOwnMessageID(id string) (bool, error) {
	var x int
	err := t.row("SELECT 1 FROM outbox WHERE message_id = ?", id).Scan(&x)
	if errors.Is(err, sql.ErrNoRows) {
		return false, nil
	}
	return err == nil, err
}

// Enqueue puts an outgoing mail in the outbox, due now.
func (t *Txn) Enqueue(o *cases.Outgoing, now time.Time) error {
	data, err := json.Marshal(o)
	if err != nil {
		return err
	}
	var cn any
	if o.Case != 0 {
		cn = o.Case
	}
	key := ""
	if len(o.To) > 0 {
		key = strings.ToLower(o.To[0])
	}
	res, err := t.exec(`INSERT INTO outbox (case_number, kind, message_id, mail, next_attempt_at, created_at, rcpt_key)
		VALUES (?,?,?,?,?,?,?)`, cn, o.Kind, o.MessageID, string(data), now.UnixMilli(), now.UnixMilli(), key)
	if err != nil {
		return fmt.Errorf("enqueue %s for case %d: %w", o.Kind, o.Case, err)
	}
	o.ID, err = res.LastInsertId()
	return err
}

// AutoRepliesSince counts automatic mails queued to rcpt since t (the rate
// limit of SPEC §2).
func (t *Txn) AutoRepliesSince(rcpt string, since time.Time) (int, error) {
	var n int
	err := t.row(`SELECT COUNT(*) FROM outbox WHERE rcpt_key = ? AND created_at >= ? AND kind != 'relay'`,
		strings.ToLower(rcpt), since.UnixMilli()).Scan(&n)
	return n, err
}

// Queued is an outbox row.
type Queued struct {
	Mail     cases.Outgoing
	Attempts int
}

// DueMail returns up to limit queued mails due at now.
func (t *Txn) DueMail(now time.Time, limit int) ([]Queued, error) {
	rows, err := t.query(`SELECT id, mail, attempts FROM outbox WHERE state = 'queued' AND next_attempt_at <= ?
		ORDER BY next_attempt_at, id LIMIT ?`, now.UnixMilli(), limit)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []Queued
	for rows.Next() {
		var q Queued
		var id int64
		var data string
		if err := rows.Scan(&id, &data, &q.Attempts); err != nil {
			return nil, err
		}
		if err := json.Unmarshal([]byte(data), &q.Mail); err != nil {
			return nil, fmt.Errorf("outbox %d: %w", id, err)
		}
		q.Mail.ID = id
		out = append(out, q)
	}
	return out, rows.Err()
}

// NextMail returns when the next queued mail is due.
func (t *Txn) NextMail() (time.Time, bool, error) {
	var v sql.NullInt64
	err := t.row("SELECT MIN(next_attempt_at) FROM outbox WHERE state = 'queued'").Scan(&v)
	return fromMS(v), v.Valid, err
}

// MarkSent records a successful send.
func (t *Txn) MarkSent(id int64, now time.Time) error {
	_, err := t.exec("UPDATE outbox SET state = 'sent', sent_at = ?, attempts = attempts + 1, last_error = '' WHERE id = ?", now.UnixMilli(), id)
	return err
}

// MarkRetry records a temporary failure and when to try again.
func (t *Txn) MarkRetry(id int64, next time.Time, msg string) error {
	_, err := t.exec("UPDATE outbox SET attempts = attempts + 1, next_attempt_at = ?, last_error = ? WHERE id = ?", next.UnixMilli(), msg, id)
	return err
}

// MarkFailed records a permanent failure.
func (t *Txn) MarkFailed(id int64, msg string) error {
	_, err := t.exec("UPDATE outbox SET state = 'failed', attempts = attempts + 1, last_error = ? WHERE id = ?", msg, id)
	return err
}

// OutboxByCase lists the mails queued for a case, oldest first.
func (t *Txn) OutboxByCase(n int64) ([]Queued, []string, error) {
	rows, err := t.query("SELECT id, mail, attempts, state FROM outbox WHERE case_number = ? ORDER BY id", n)
	if err != nil {
		return nil, nil, err
	}
	defer rows.Close()
	var out []Queued
	var states []string
	for rows.Next() {
		var q Queued
		var id int64
		var data, st string
		if err := rows.Scan(&id, &data, &q.Attempts, &st); err != nil {
			return nil, nil, err
		}
		if err := json.Unmarshal([]byte(data), &q.Mail); err != nil {
			return nil, nil, err
		}
		q.Mail.ID = id
		out = append(out, q)
		states = append(states, st)
	}
	return out, states, rows.Err()
}
