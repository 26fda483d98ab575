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

// Attachment is a stored attachment. Its bytes are not stored again: they
// are in the raw message, where Part finds them.
type Attachment struct {
	ID          int64
	Message     int64
	Filename    string
	ContentType string
	Size        int64
	Truncated   bool
	// Part is the attachment's number among its message's attachments, as
	// the parser lists them; -1 for a row stored with its bytes in Data
	// (databases from before migration 8).
	Part int
	Data []byte
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

// IsOwnMessageID reports whether helpdeskd sent a mail with this Message-ID.
func (t *Txn) IsOwnMessageID(id string) (bool, error) {
	var x int
	err := t.row("SELECT 1 FROM outbox WHERE message_id = ?", id).Scan(&x)
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
	inline := m.Raw
	if len(m.Raw) > rawChunk {
		inline = []byte{}
	}
	res, err := t.exec(`INSERT INTO messages (case_number, mailbox, uidvalidity, uid, message_id, hash, from_addr,
		subject, matched, third_party, auto, problems, received_at, raw, raw_size) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)`,
		cn, m.Mailbox, m.UIDValidity, m.UID, m.MessageID, m.Hash, m.From, m.Subject, m.Matched, m.ThirdParty,
		m.Auto, m.Problems, m.ReceivedAt.UnixMilli(), inline, len(m.Raw))
	if err != nil {
		return fmt.Errorf("insert message uid %d: %w", m.UID, err)
	}
	if m.ID, err = res.LastInsertId(); err != nil {
		return err
	}
	if len(inline) == len(m.Raw) {
		return nil
	}
	for seq, off := 0, 0; off < len(m.Raw); seq, off = seq+1, off+rawChunk {
		chunk := m.Raw[off:min(off+rawChunk, len(m.Raw))]
		if _, err := t.exec("INSERT INTO message_chunks (message, seq, data) VALUES (?, ?, ?)", m.ID, seq, chunk); err != nil {
			return fmt.Errorf("insert message uid %d chunk %d: %w", m.UID, seq, err)
		}
	}
	return nil
}

// rawChunk is the size above which a raw message is stored in chunks of
// this size (message_chunks) rather than in messages.raw.
const rawChunk = 1 << 20

// loadChunks appends the chunks of a message stored in chunks to raw.
func (t *Txn) loadChunks(id int64, raw []byte) ([]byte, error) {
	rows, err := t.query("SELECT data FROM message_chunks WHERE message = ? ORDER BY seq", id)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	for rows.Next() {
		var b sql.RawBytes
		if err := rows.Scan(&b); err != nil {
			return nil, err
		}
		raw = append(raw, b...)
	}
	return raw, rows.Err()
}

// InsertAttachment stores the metadata of an attachment of a message
// (not its bytes, which stay in the raw message) and sets its ID.
func (t *Txn) InsertAttachment(a *Attachment) error {
	res, err := t.exec("INSERT INTO attachments (message, filename, content_type, size, truncated, part, data) VALUES (?,?,?,?,?,?,x'')",
		a.Message, a.Filename, a.ContentType, a.Size, a.Truncated, a.Part)
	if err != nil {
		return fmt.Errorf("insert attachment %q: %w", a.Filename, err)
	}
	a.ID, err = res.LastInsertId()
	return err
}

// Attachment loads one attachment: its metadata, and its bytes if they
// were stored with it (Part -1).
func (t *Txn) Attachment(id int64) (*Attachment, error) {
	var a Attachment
	var part sql.NullInt64
	err := t.row(`SELECT id, message, filename, content_type, size, truncated, part,
		CASE WHEN part IS NULL THEN data END FROM attachments WHERE id = ?`, id).
		Scan(&a.ID, &a.Message, &a.Filename, &a.ContentType, &a.Size, &a.Truncated, &part, &a.Data)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, ErrNotFound
	}
	a.Part = -1
	if part.Valid {
		a.Part = int(part.Int64)
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

// FirstSync returns the first sync of mailbox under way: its start and
// the highest UID it covers; a zero start when there is none (SPEC §11.1).
func (t *Txn) FirstSync(mailbox string) (start time.Time, endUID uint32, err error) {
	var at sql.NullInt64
	err = t.row("SELECT first_sync_at, first_sync_end FROM mailbox_state WHERE mailbox = ?", mailbox).Scan(&at, &endUID)
	if errors.Is(err, sql.ErrNoRows) {
		return time.Time{}, 0, nil
	}
	return fromMS(at), endUID, err
}

// BeginFirstSync records the UIDVALIDITY of mailbox with no UID processed
// yet, and a first sync begun at start that covers the UIDs up to endUID.
func (t *Txn) BeginFirstSync(mailbox string, uidvalidity uint32, start time.Time, endUID uint32) error {
	_, err := t.exec(`INSERT INTO mailbox_state (mailbox, uidvalidity, last_uid, first_sync_at, first_sync_end)
		VALUES (?, ?, 0, ?, ?) ON CONFLICT (mailbox) DO UPDATE SET uidvalidity = excluded.uidvalidity, last_uid = 0,
		first_sync_at = excluded.first_sync_at, first_sync_end = excluded.first_sync_end`,
		mailbox, uidvalidity, start.UnixMilli(), endUID)
	return err
}

// EndFirstSync records that the first sync of mailbox is complete.
func (t *Txn) EndFirstSync(mailbox string) error {
	_, err := t.exec("UPDATE mailbox_state SET first_sync_at = NULL WHERE mailbox = ?", mailbox)
	return err
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

// AutoRepliesSince counts acknowledgements queued to rcpt since t, up to
// upTo: enough to decide the automatic-reply limit of SPEC §11.4 (which
// counts acknowledgements only) without reading every acknowledgement a
// looping sender has had.
func (t *Txn) AutoRepliesSince(rcpt string, since time.Time, upTo int) (int, error) {
	var n int
	err := t.row(`SELECT COUNT(*) FROM (SELECT 1 FROM outbox WHERE rcpt_key = ? AND created_at >= ? AND kind = 'ack' LIMIT ?)`,
		strings.ToLower(rcpt), since.UnixMilli(), upTo).Scan(&n)
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
	rows, err := t.query(`SELECT id, mailbox, uidvalidity, uid, hash, problems, received_at, COALESCE(raw_size, length(raw))
		FROM messages WHERE matched = 'quarantine' ORDER BY id`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []StoredMessage
	for rows.Next() {
		var m StoredMessage
		var at int64
		if err := rows.Scan(&m.ID, &m.Mailbox, &m.UIDValidity, &m.UID, &m.Hash, &m.Problems, &at, &m.Size); err != nil {
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
	var cn, size sql.NullInt64
	var at int64
	err := t.row(`SELECT id, case_number, mailbox, uidvalidity, uid, message_id, hash, from_addr, subject, matched,
		third_party, auto, problems, received_at, raw, raw_size FROM messages WHERE id = ?`, id).Scan(&m.ID, &cn, &m.Mailbox,
		&m.UIDValidity, &m.UID, &m.MessageID, &m.Hash, &m.From, &m.Subject, &m.Matched, &m.ThirdParty, &m.Auto,
		&m.Problems, &at, &m.Raw, &size)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, err
	}
	m.Case, m.ReceivedAt = cn.Int64, time.UnixMilli(at).UTC()
	m.Size = len(m.Raw)
	if size.Valid && int(size.Int64) > len(m.Raw) {
		if m.Raw, err = t.loadChunks(m.ID, make([]byte, 0, size.Int64)); err != nil {
			return nil, fmt.Errorf("message %d: %w", id, err)
		}
		if len(m.Raw) != int(size.Int64) {
			return nil, fmt.Errorf("message %d: %d of %d raw bytes stored", id, len(m.Raw), size.Int64)
		}
		m.Size = len(m.Raw)
	}
	return &m, nil
}

// SetMatched records how a stored message was matched (e.g. "replayed").
func (t *Txn) SetMatched(id int64, matched string) error {
	_, err := t.exec("UPDATE messages SET matched = ? WHERE id = ?", matched, id)
	return err
}
