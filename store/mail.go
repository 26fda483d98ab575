package store

import (
	"database/sql"
	"errors"
	"fmt"
	"time"
)

// StoredMessage is one incoming mail as kept for audit.
type StoredMessage struct {
	ID          int64
	Case        int64 // 0 = on no case (ignored, quarantined)
	Mailbox     string
	UIDValidity uint32
	UID         uint32
	MessageID   string
	Hash        string
	From        string
	Subject     string
	Matched     string // token | header | new | "" (not on a case)
	ThirdParty  bool
	Auto        string
	Problems    string
	ReceivedAt  time.Time
	Raw         []byte
	Size        int // length of Raw as stored (set when Raw is not loaded)
}

// Attachment is a stored attachment.
type Attachment struct {
	ID          int64
	Message     int64
	Filename    string
	ContentType string
	Size        int64
	Truncated   bool
	Data        []byte
}

// SeenMessage reports whether a message was stored already: by its IMAP
// place, or by Message-ID (or content hash when it has none), so that a
// changed UIDVALIDITY or a copy in two folders is handled once (SPEC §2).
func (t *Txn) SeenMessage(mailbox string, uidvalidity, uid uint32, messageID, hash string) (bool, error) {
	var x int
	err := t.row("SELECT 1 FROM messages WHERE mailbox = ? AND uidvalidity = ? AND uid = ?", mailbox, uidvalidity, uid).Scan(&x)
	if err == nil {
		return true, nil
	}
	if !errors.Is(err, sql.ErrNoRows) {
		return false, err
	}
	if messageID != "" {
		err = t.row("SELECT 1 FROM messages WHERE message_id = ? LIMIT 1", messageID).Scan(&x)
	} else {
		err = t.row("SELECT 1 FROM messages WHERE hash = ? LIMIT 1", hash).Scan(&x)
	}
	if errors.Is(err, sql.ErrNoRows) {
		return false, nil
	}
	return err == nil, err
}

// InsertMessage stores an incoming message and sets its ID.
func (t *Txn) InsertMessage(m *StoredMessage) error {
	var cn any
	if m.Case != 0 {
		cn = m.Case
	}
	if m.Raw == nil {
		m.Raw = []byte{} // an empty message is still a message
	}
	res, err := t.exec(`INSERT INTO messages (case_number, mailbox, uidvalidity, uid, message_id, hash, from_addr,
		subject, matched, third_party, auto, problems, received_at, raw) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?)`,
		cn, m.Mailbox, m.UIDValidity, m.UID, m.MessageID, m.Hash, m.From, m.Subject, m.Matched, m.ThirdParty,
		m.Auto, m.Problems, m.ReceivedAt.UnixMilli(), m.Raw)
	if err != nil {
		return fmt.Errorf("insert message uid %d: %w", m.UID, err)
	}
	m.ID, err = res.LastInsertId()
	return err
}

// InsertAttachment stores an attachment of a message and sets its ID.
func (t *Txn) InsertAttachment(a *Attachment) error {
	res, err := t.exec("INSERT INTO attachments (message, filename, content_type, size, truncated, data) VALUES (?,?,?,?,?,?)",
		a.Message, a.Filename, a.ContentType, a.Size, a.Truncated, a.Data)
	if err != nil {
		return fmt.Errorf("insert attachment %q: %w", a.Filename, err)
	}
	a.ID, err = res.LastInsertId()
	return err
}

// Attachment loads one attachment.
func (t *Txn) Attachment(id int64) (*Attachment, error) {
	var a Attachment
	err := t.row("SELECT id, message, filename, content_type, size, truncated, data FROM attachments WHERE id = ?", id).
		Scan(&a.ID, &a.Message, &a.Filename, &a.ContentType, &a.Size, &a.Truncated, &a.Data)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, ErrNotFound
	}
	return &a, err
}

// Messages lists the stored messages of a case (without raw bytes).
func (t *Txn) Messages(n int64) ([]StoredMessage, error) {
	rows, err := t.query(`SELECT id, mailbox, uidvalidity, uid, message_id, hash, from_addr, subject, matched,
		third_party, auto, problems, received_at FROM messages WHERE case_number = ? ORDER BY id`, n)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []StoredMessage
	for rows.Next() {
		m := StoredMessage{Case: n}
		var at int64
		if err := rows.Scan(&m.ID, &m.Mailbox, &m.UIDValidity, &m.UID, &m.MessageID, &m.Hash, &m.From, &m.Subject,
			&m.Matched, &m.ThirdParty, &m.Auto, &m.Problems, &at); err != nil {
			return nil, err
		}
		m.ReceivedAt = time.UnixMilli(at).UTC()
		out = append(out, m)
	}
	return out, rows.Err()
}

// MailboxState returns the stored UIDVALIDITY and last processed UID.
func (t *Txn) MailboxState(mailbox string) (uidvalidity, lastUID uint32, err error) {
	err = t.row("SELECT uidvalidity, last_uid FROM mailbox_state WHERE mailbox = ?", mailbox).Scan(&uidvalidity, &lastUID)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, 0, nil
	}
	return uidvalidity, lastUID, err
}

// SetMailboxState records the UIDVALIDITY and last processed UID.
func (t *Txn) SetMailboxState(mailbox string, uidvalidity, lastUID uint32) error {
	_, err := t.exec(`INSERT INTO mailbox_state (mailbox, uidvalidity, last_uid) VALUES (?, ?, ?)
		ON CONFLICT (mailbox) DO UPDATE SET uidvalidity = excluded.uidvalidity, last_uid = excluded.last_uid`,
		mailbox, uidvalidity, lastUID)
	return err
}

// Quarantined reports whether the message stored for an IMAP place was
// unreadable (moved to quarantine rather than processed).
func (t *Txn) Quarantined(mailbox string, uidvalidity, uid uint32) (bool, error) {
	var m string
	err := t.row("SELECT matched FROM messages WHERE mailbox = ? AND uidvalidity = ? AND uid = ?", mailbox, uidvalidity, uid).Scan(&m)
	if errors.Is(err, sql.ErrNoRows) {
		return false, nil
	}
	return m == "quarantine", err
}

// QuarantinedMessages lists the unreadable messages not yet replayed.
func (t *Txn) QuarantinedMessages() ([]StoredMessage, error) {
	rows, err := t.query(`SELECT id, mailbox, uidvalidity, uid, hash, problems, subject, received_at, length(raw)
		FROM messages WHERE matched = 'quarantine' ORDER BY id`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []StoredMessage
	for rows.Next() {
		var m StoredMessage
		var at int64
		if err := rows.Scan(&m.ID, &m.Mailbox, &m.UIDValidity, &m.UID, &m.Hash, &m.Problems, &m.Subject, &at, &m.Size); err != nil {
			return nil, err
		}
		m.ReceivedAt = time.UnixMilli(at).UTC()
		out = append(out, m)
	}
	return out, rows.Err()
}

// Message loads one stored message with its raw bytes.
func (t *Txn) Message(id int64) (*StoredMessage, error) {
	var m StoredMessage
	var cn sql.NullInt64
	var at int64
	err := t.row(`SELECT id, case_number, mailbox, uidvalidity, uid, message_id, hash, from_addr, subject, matched,
		third_party, auto, problems, received_at, raw FROM messages WHERE id = ?`, id).Scan(&m.ID, &cn, &m.Mailbox,
		&m.UIDValidity, &m.UID, &m.MessageID, &m.Hash, &m.From, &m.Subject, &m.Matched, &m.ThirdParty, &m.Auto,
		&m.Problems, &at, &m.Raw)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, err
	}
	m.Case, m.ReceivedAt = cn.Int64, time.UnixMilli(at).UTC()
	return &m, nil
}

// SetMatched records how a stored message was matched (e.g. "replayed").
func (t *Txn) SetMatched(id int64, matched string) error {
	_, err := t.exec("UPDATE messages SET matched = ? WHERE id = ?", matched, id)
	return err
}
