package store

import (
	"fmt"
	"math"
	"time"
)

// KeptMessage is a mail stored for audit on no case (SPEC §2): our own
// mail coming back, automatic mail that threads into no case, or a
// sender ignored by [policy] unknown_senders. Why is the reason stored
// with it.
type KeptMessage struct {
	ID         int64
	ReceivedAt time.Time
	From       string
	Subject    string
	Why        string
	Mailbox    string
	UID        uint32
}

// KeptMessages returns the mail kept without a case that was received at
// or after since (zero: any time), newest first, at most limit. It reads
// the partial index messages_kept in its order (INDEXED BY: messages_case
// would read every message on no case, quarantined ones too, and sort
// them), so the cost follows the rows returned, not the mail stored.
func (t *Txn) KeptMessages(since time.Time, limit int) ([]KeptMessage, error) {
	lo := int64(math.MinInt64)
	if !since.IsZero() {
		lo = since.UnixMilli()
	}
	rows, err := t.query(`SELECT id, received_at, from_addr, subject, auto, mailbox, uid FROM messages INDEXED BY messages_kept
		WHERE case_number IS NULL AND auto != '' AND received_at >= ?
		ORDER BY received_at DESC, id DESC LIMIT ?`, lo, limit)
	if err != nil {
		return nil, fmt.Errorf("kept messages: %w", err)
	}
	defer rows.Close()
	var out []KeptMessage
	for rows.Next() {
		var m KeptMessage
		var at int64
		if err := rows.Scan(&m.ID, &at, &m.From, &m.Subject, &m.Why, &m.Mailbox, &m.UID); err != nil {
			return nil, err
		}
		m.ReceivedAt = time.UnixMilli(at).UTC()
		out = append(out, m)
	}
	return out, rows.Err()
}
