package store

import (
	"bytes"
	"compress/flate"
	"crypto/sha256"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"runtime"
	"strings"
	"sync"
	"time"

	"helpdeskd/cases"
)

// States of an outbox row.
const (
	// OutboxQueued: waiting for its first attempt or for its next one.
	OutboxQueued = "queued"
	// OutboxDelivering: an attempt was recorded and has not reported
	// back; if it never does (a crash), the mail is due again at the
	// next attempt time recorded with it.
	OutboxDelivering = "delivering"
	// OutboxSent: the server accepted the mail.
	OutboxSent = "sent"
	// OutboxFailed: the mail failed permanently.
	OutboxFailed = "failed"
)

// pending is the SQL condition of a mail still to be delivered; it is the
// condition of the partial index outbox_pending, written the same way so
// that SQLite uses the index.
const pending = "state IN ('queued', 'delivering')"

// IsOwnMessageID reports whether helpdeskd sent a mail with this Message-ID.
func (t *Txn) IsOwnMessageID(id string) (bool, error) {
	var x int
	err := t.row("SELECT 1 FROM outbox WHERE message_id = ?", id).Scan(&x)
	if errors.Is(err, sql.ErrNoRows) {
		return false, nil
	}
	return err == nil, err
}

// Enqueue puts an outgoing mail in the outbox, due now. The rendered text
// is stored once per distinct text (see body), the rest of the mail with
// the row.
func (t *Txn) Enqueue(o *cases.Outgoing, now time.Time) error {
	body, err := t.body(o.Text)
	if err != nil {
		return fmt.Errorf("enqueue %s for case %d: %w", o.Kind, o.Case, err)
	}
	rest := *o
	rest.ID, rest.Text = 0, ""
	data, err := json.Marshal(rest)
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
	res, err := t.exec(`INSERT INTO outbox (case_number, kind, message_id, mail, body, next_attempt_at, created_at, rcpt_key)
		VALUES (?,?,?,?,?,?,?,?)`, cn, o.Kind, o.MessageID, string(data), body, now.UnixMilli(), now.UnixMilli(), key)
	if err != nil {
		return fmt.Errorf("enqueue %s for case %d: %w", o.Kind, o.Case, err)
	}
	o.ID, err = res.LastInsertId()
	return err
}

// body returns the id of the stored text, storing it if it is new. Bodies
// are addressed by the SHA-256 of their text, so the copies of one notice
// to several staff share one body, and a text of 1 KiB or more is kept
// deflated (RFC 1951) when that is smaller. Bodies are never deleted (the
// audit trail).
//
// A new text of 1 KiB or more is deflated on another core while the
// transaction goes on (compressing the staff notices was about an eighth
// of the committer's time on a first import): its row is inserted at
// once with an empty text, so that it has its id and the outbox row can
// name it, and the text is written into it (heldBody) before any other
// statement that names bodies and before the commit. Nothing outside
// the transaction ever sees the empty text.
func (t *Txn) body(text string) (int64, error) {
	h := sha256.Sum256([]byte(text))
	var id int64
	// Without writing the held texts: the lookup reads only hashes.
	err := t.rowHeld("SELECT id FROM bodies WHERE hash = ?", h[:]).Scan(&id)
	if err == nil || !errors.Is(err, sql.ErrNoRows) {
		return id, err
	}
	held := len(text) >= heldBodyMin
	data := []byte{} // a held text comes later
	if !held {
		data = []byte(text)
	}
	res, err := t.run("INSERT INTO bodies (hash, data, deflated) VALUES (?, ?, 0)", h[:], data)
	if err != nil {
		return 0, fmt.Errorf("store body: %w", err)
	}
	if id, err = res.LastInsertId(); err != nil {
		return 0, err
	}
	if held {
		t.heldBodies = append(t.heldBodies, holdBody(id, text))
	}
	return id, nil
}

// heldBodyMin is the length from which a new body's text is deflated on
// another core (a shorter one is stored as it is).
const heldBodyMin = 1024

// heldBody is the text of a new body on its way to its row: a goroutine
// of its own deflates it and closes done.
type heldBody struct {
	id       int64
	data     []byte
	deflated bool
	done     chan struct{}
}

// deflateSlots bounds the texts deflated at once to the cores.
var deflateSlots = make(chan struct{}, runtime.GOMAXPROCS(0))

func holdBody(id int64, text string) *heldBody {
	b := &heldBody{id: id, done: make(chan struct{})}
	go func() {
		defer close(b.done)
		deflateSlots <- struct{}{}
		defer func() { <-deflateSlots }()
		if z, err := deflate(text); err == nil && len(z) < len(text) {
			b.data, b.deflated = z, true
		} else {
			b.data = []byte(text)
		}
	}()
	return b
}

// writeBodies waits for the held texts and writes them into their rows.
func (t *Txn) writeBodies() error {
	held := t.heldBodies
	t.heldBodies = nil // the statements below must not write them again
	for _, b := range held {
		<-b.done
		if _, err := t.run("UPDATE bodies SET data = ?, deflated = ? WHERE id = ?", b.data, b.deflated, b.id); err != nil {
			return fmt.Errorf("store body: %w", err)
		}
	}
	return nil
}

// deflaters are reused: a flate writer allocates about a megabyte.
var deflaters = sync.Pool{New: func() any {
	w, _ := flate.NewWriter(nil, flate.BestSpeed) // BestSpeed is a valid level
	return w
}}

func deflate(text string) ([]byte, error) {
	var b bytes.Buffer
	w := deflaters.Get().(*flate.Writer)
	defer deflaters.Put(w)
	w.Reset(&b)
	if _, err := io.WriteString(w, text); err != nil {
		return nil, err
	}
	if err := w.Close(); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

// bodyText is a stored body's text.
func bodyText(data []byte, deflated bool) (string, error) {
	if !deflated {
		return string(data), nil
	}
	b, err := io.ReadAll(flate.NewReader(bytes.NewReader(data)))
	return string(b), err
}

// AutoRepliesSince counts acknowledgements queued to rcpt since t, up to
// upTo: enough to decide the automatic-reply limit of SPEC §11.4 (which
// counts acknowledgements only) without reading every acknowledgement a
// looping sender has had (index outbox_rcpt_ack).
func (t *Txn) AutoRepliesSince(rcpt string, since time.Time, upTo int) (int, error) {
	var n int
	err := t.row(`SELECT COUNT(*) FROM (SELECT 1 FROM outbox WHERE rcpt_key = ? AND created_at >= ? AND kind = 'ack' LIMIT ?)`,
		strings.ToLower(rcpt), since.UnixMilli(), upTo).Scan(&n)
	return n, err
}

// Attempt is the outcome of one delivery attempt, as kept on its outbox
// row: the SMTP reply code and the RFC 3463 enhanced status code, whether
// the failure was temporary, and the server's text.
type Attempt struct {
	N         int       `json:"n"`
	At        time.Time `json:"at"`
	Code      int       `json:"code,omitempty"`     // 0: no SMTP reply (connection, build)
	Enhanced  string    `json:"enhanced,omitempty"` // e.g. "5.1.1"
	Temporary bool      `json:"temporary,omitempty"`
	Error     string    `json:"error,omitempty"`    // "" when sent
	Response  string    `json:"response,omitempty"` // the server's reply to an accepted mail
}

// Queued is an outbox row.
type Queued struct {
	Mail          cases.Outgoing
	Attempts      int
	State         string // one of the Outbox* states
	LastAttemptAt time.Time
	SentAt        time.Time
	Code          int    // of the last attempt
	Enhanced      string // of the last attempt
	LastError     string
	Results       []Attempt // every attempt's outcome, oldest first
	// Broken is why the row could not be read back as a mail (nil when
	// it could): the sender fails it once instead of retrying it.
	Broken error
}

// queuedCols selects a Queued from outbox o, its columns and its body;
// queuedSel and queuedJoin are its parts, for a query that names the
// index to read outbox by.
const (
	queuedSel = `o.id, o.mail, o.attempts, o.state, o.last_attempt_at, o.sent_at, o.last_code, o.last_enhanced,
	o.last_error, o.results, b.data, b.deflated`
	queuedJoin = ` LEFT JOIN bodies b ON b.id = o.body`
	queuedCols = queuedSel + ` FROM outbox o` + queuedJoin
)

func scanQueued(rows *sql.Rows) (Queued, error) {
	var q Queued
	var id int64
	var data, results string
	var body []byte
	var deflated sql.NullBool
	var attempted, sent sql.NullInt64
	if err := rows.Scan(&id, &data, &q.Attempts, &q.State, &attempted, &sent, &q.Code, &q.Enhanced, &q.LastError,
		&results, &body, &deflated); err != nil {
		return q, err
	}
	q.LastAttemptAt, q.SentAt = fromMS(attempted), fromMS(sent)
	if err := json.Unmarshal([]byte(data), &q.Mail); err != nil {
		q.Broken = fmt.Errorf("outbox %d: mail: %w", id, err)
	}
	if err := json.Unmarshal([]byte(results), &q.Results); err != nil && q.Broken == nil {
		q.Broken = fmt.Errorf("outbox %d: results: %w", id, err)
	}
	if deflated.Valid { // rows queued before the bodies table keep the text in mail
		text, err := bodyText(body, deflated.Bool)
		if err != nil && q.Broken == nil {
			q.Broken = fmt.Errorf("outbox %d: body: %w", id, err)
		}
		q.Mail.Text = text
	}
	q.Mail.ID = id
	return q, nil
}

// DueMail returns up to limit mails due at now, earliest first: queued
// ones, and attempts that never reported back (see OutboxDelivering).
func (t *Txn) DueMail(now time.Time, limit int) ([]Queued, error) {
	// INDEXED BY: without it SQLite may pick another index (outbox_due,
	// until migration 14 dropped it) and sort every pending row for each
	// call, a cost that grows with the queue.
	return t.queued(`SELECT `+queuedSel+` FROM outbox o INDEXED BY outbox_pending`+queuedJoin+` WHERE o.`+pending+` AND o.next_attempt_at <= ?
		ORDER BY o.next_attempt_at, o.id LIMIT ?`, now.UnixMilli(), limit)
}

func (t *Txn) queued(q string, args ...any) ([]Queued, error) {
	rows, err := t.query(q, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []Queued
	for rows.Next() {
		q, err := scanQueued(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, q)
	}
	return out, rows.Err()
}

// NextMail returns when the next mail is due: the first entry of
// outbox_pending. Without INDEXED BY, SQLite picked outbox_due (dropped
// since, in migration 14) and read every pending row for the minimum, a
// cost that grows with the queue (0.7 ms with 11,000 queued, against
// 25 µs); INDEXED BY keeps any index added later from doing the same.
func (t *Txn) NextMail() (time.Time, bool, error) {
	var v sql.NullInt64
	err := t.row("SELECT MIN(next_attempt_at) FROM outbox INDEXED BY outbox_pending WHERE " + pending).Scan(&v)
	return fromMS(v), v.Valid, err
}

// ErrNotPending is returned for an outbox row that is not waiting for
// the attempt in question: sent or failed already, or attempted meanwhile.
var ErrNotPending = errors.New("mail not pending")

// StartAttempt records, before anything is sent, that attempt n of mail
// id begins at now, and that the mail is due again at next if the attempt
// never reports back. It fails with ErrNotPending unless the mail is
// pending after n-1 attempts, so two senders never both send it.
func (t *Txn) StartAttempt(id int64, n int, now, next time.Time) error {
	res, err := t.exec(`UPDATE outbox SET state = 'delivering', attempts = ?, last_attempt_at = ?, next_attempt_at = ?
		WHERE id = ? AND attempts = ? AND `+pending, n, now.UnixMilli(), next.UnixMilli(), id, n-1)
	if err != nil {
		return fmt.Errorf("start attempt %d of outbox %d: %w", n, id, err)
	}
	if k, err := res.RowsAffected(); err != nil || k != 1 {
		return fmt.Errorf("start attempt %d of outbox %d: %w", n, id, errors.Join(err, ErrNotPending))
	}
	return nil
}

// MarkSent records that the server accepted the mail.
func (t *Txn) MarkSent(id int64, a Attempt) error {
	return t.finish(id, a, OutboxSent, "sent_at = ?,", a.At.UnixMilli())
}

// MarkRetry records a temporary failure; the mail is due again at next.
func (t *Txn) MarkRetry(id int64, a Attempt, next time.Time) error {
	return t.finish(id, a, OutboxQueued, "next_attempt_at = ?,", next.UnixMilli())
}

// MarkFailed records a permanent failure.
func (t *Txn) MarkFailed(id int64, a Attempt) error {
	return t.finish(id, a, OutboxFailed, "", nil)
}

// finish records the outcome of attempt a and moves a pending mail to
// state; set is one more assignment (with its argument arg).
func (t *Txn) finish(id int64, a Attempt, state, set string, arg any) error {
	one, err := json.Marshal(a)
	if err != nil {
		return err
	}
	args := []any{state}
	if set != "" {
		args = append(args, arg)
	}
	args = append(args, max(a.N, 0), a.At.UnixMilli(), a.Code, a.Enhanced, a.Error, string(one), id)
	res, err := t.exec(`UPDATE outbox SET state = ?, `+set+` attempts = max(attempts, ?),
		last_attempt_at = coalesce(last_attempt_at, ?), last_code = ?, last_enhanced = ?, last_error = ?,
		results = json_insert(results, '$[#]', json(?)) WHERE id = ? AND `+pending, args...)
	if err != nil {
		return fmt.Errorf("record attempt %d of outbox %d: %w", a.N, id, err)
	}
	if k, err := res.RowsAffected(); err != nil || k != 1 {
		return fmt.Errorf("record attempt %d of outbox %d: %w", a.N, id, errors.Join(err, ErrNotPending))
	}
	return nil
}

// OutboxByCase lists the mails queued for a case, oldest first, with
// their states; a row that cannot be read back has Broken set.
func (t *Txn) OutboxByCase(n int64) ([]Queued, []string, error) {
	qs, err := t.queued("SELECT "+queuedCols+" WHERE o.case_number = ? ORDER BY o.id", n)
	var states []string
	for _, q := range qs {
		states = append(states, q.State)
	}
	return qs, states, err
}

// OutboxByState lists the mails in one of the Outbox* states, oldest
// first (for audit and operators; it reads the whole outbox).
func (t *Txn) OutboxByState(state string) ([]Queued, error) {
	return t.queued("SELECT "+queuedCols+" WHERE o.state = ? ORDER BY o.id", state)
}
