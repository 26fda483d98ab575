package store

import (
	"bytes"
	"database/sql"
	"errors"
	"fmt"
	"io"
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
	// RawFrom, when set, is where InsertMessage reads the raw bytes
	// instead of Raw (a mail spooled to a file): it never holds them all.
	// Message loads them back into Raw.
	RawFrom RawSource
	Size    int // length of the raw message as stored (set when Raw is not loaded, and by InsertMessage)
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

// RawSource is a raw message read in place rather than held in memory:
// its Size() bytes, read with ReadAt (a spool file, an *io.SectionReader,
// a *bytes.Reader).
type RawSource interface {
	io.ReaderAt
	Size() int64
}

// InsertMessage stores an incoming message and sets its ID. The raw bytes
// come from m.RawFrom when it is set, else from m.Raw. A message larger
// than rawChunk is written as rows of message_chunks, one chunk at a
// time, so that storing it from RawFrom holds one chunk in memory;
// Message reads either back the same way.
func (t *Txn) InsertMessage(m *StoredMessage) error {
	var cn any
	if m.Case != 0 {
		cn = m.Case
	}
	src := m.RawFrom
	if src == nil {
		if m.Raw == nil {
			m.Raw = []byte{} // an empty message is still a message
		}
		src = bytes.NewReader(m.Raw)
	}
	size := src.Size()
	var buf []byte // the chunk being written, read from src
	chunk := func(off, n int64) ([]byte, error) {
		if m.RawFrom == nil {
			return m.Raw[off : off+n], nil
		}
		if buf == nil {
			buf = make([]byte, min(size, rawChunk))
		}
		if k, err := src.ReadAt(buf[:n], off); int64(k) < n {
			return nil, fmt.Errorf("read raw message at %d: %d of %d bytes: %w", off, k, n, err)
		}
		return buf[:n], nil
	}
	inline := []byte{}
	if size <= rawChunk {
		var err error
		if inline, err = chunk(0, size); err != nil {
			return fmt.Errorf("insert message uid %d: %w", m.UID, err)
		}
	}
	res, err := t.exec(`INSERT INTO messages (case_number, mailbox, uidvalidity, uid, message_id, hash, from_addr,
		subject, matched, third_party, auto, problems, received_at, raw, raw_size) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)`,
		cn, m.Mailbox, m.UIDValidity, m.UID, m.MessageID, m.Hash, m.From, m.Subject, m.Matched, m.ThirdParty,
		m.Auto, m.Problems, m.ReceivedAt.UnixMilli(), inline, size)
	if err != nil {
		return fmt.Errorf("insert message uid %d: %w", m.UID, err)
	}
	if m.ID, err = res.LastInsertId(); err != nil {
		return err
	}
	m.Size = int(size)
	if size <= rawChunk {
		return nil
	}
	for seq, off := 0, int64(0); off < size; seq, off = seq+1, off+rawChunk {
		b, err := chunk(off, min(rawChunk, size-off))
		if err == nil {
			_, err = t.exec("INSERT INTO message_chunks (message, seq, data) VALUES (?, ?, ?)", m.ID, seq, b)
		}
		if err != nil {
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
	rows, err := t.query(`SELECT id, mailbox, uidvalidity, uid, hash, problems, subject, received_at, COALESCE(raw_size, length(raw))
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

// MessageMatched returns how stored message id was matched ("quarantine",
// "replayed", a threading rule), without its bytes.
func (t *Txn) MessageMatched(id int64) (string, error) {
	var s string
	err := t.row("SELECT matched FROM messages WHERE id = ?", id).Scan(&s)
	if errors.Is(err, sql.ErrNoRows) {
		return "", ErrNotFound
	}
	return s, err
}

// MessageSource returns the raw bytes of stored message id as a
// RawSource that reads them where they are stored, for reading a large
// message without holding it: a message stored in chunks is read one
// chunk at a time (one chunk of memory), a small one from its row. The
// source is valid only inside the transaction t.
func (t *Txn) MessageSource(id int64) (RawSource, error) {
	var raw []byte
	var size sql.NullInt64
	err := t.row("SELECT raw, raw_size FROM messages WHERE id = ?", id).Scan(&raw, &size)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, err
	}
	if !size.Valid || int(size.Int64) <= len(raw) {
		return bytes.NewReader(raw), nil
	}
	return &chunkSource{t: t, id: id, size: size.Int64, seq: -1}, nil
}

// chunkSource reads a message stored in message_chunks, keeping the
// chunk read last.
type chunkSource struct {
	t    *Txn
	id   int64
	size int64
	seq  int64 // the chunk in buf, -1 for none
	buf  []byte
}

func (c *chunkSource) Size() int64 { return c.size }

func (c *chunkSource) ReadAt(p []byte, off int64) (int, error) {
	if off < 0 {
		return 0, fmt.Errorf("message %d: negative offset", c.id)
	}
	n := 0
	for len(p) > 0 && off < c.size {
		seq := off / rawChunk
		if seq != c.seq {
			var b sql.RawBytes
			rows, err := c.t.query("SELECT data FROM message_chunks WHERE message = ? AND seq = ?", c.id, seq)
			if err != nil {
				return n, err
			}
			if rows.Next() {
				err = rows.Scan(&b)
				c.buf = append(c.buf[:0], b...)
			} else if err = rows.Err(); err == nil {
				err = fmt.Errorf("message %d: chunk %d missing", c.id, seq)
			}
			rows.Close()
			if err != nil {
				return n, err
			}
			c.seq = seq
		}
		in := off - seq*rawChunk
		if in >= int64(len(c.buf)) {
			return n, fmt.Errorf("message %d: chunk %d is short", c.id, seq)
		}
		k := copy(p, c.buf[in:])
		p, off, n = p[k:], off+int64(k), n+k
	}
	if len(p) > 0 {
		return n, io.EOF
	}
	return n, nil
}
