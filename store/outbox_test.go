package store

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"helpdeskd/cases"
)

var t0 = time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)

func notice(id int, to, text string) *cases.Outgoing {
	return &cases.Outgoing{Kind: "notify_new", To: []string{to}, Subject: "[Case#1] 新服务单", Text: text,
		MessageID: fmt.Sprintf("case-1.notify.%d@example.com", id), References: []string{"m1@acme.test"},
		Headers: map[string]string{"Auto-Submitted": "auto-generated"}}
}

// TestBodiesAreStoredOnce: the copies of one notice to several staff
// share one stored body; each copy keeps its recipient, Message-ID and
// the whole text when read back.
func TestBodiesAreStoredOnce(t *testing.T) {
	db := reportDB(t)
	ctx := context.Background()
	long := strings.Repeat("故障描述：打印机无法联网。\n", 2000)
	staff := []string{"eng1@example.com", "csm@example.com", "scm@example.com", "quality@example.com"}
	err := db.Tx(ctx, func(tx *Txn) error {
		for i, s := range staff {
			if err := tx.Enqueue(notice(i, s, long), t0); err != nil {
				return err
			}
		}
		return tx.Enqueue(notice(9, "alice@acme.test", "another text"), t0)
	})
	if err != nil {
		t.Fatal(err)
	}
	var bodies, deflated, bodyBytes, mailBytes int
	if err := db.r.QueryRow("SELECT count(*), sum(deflated), sum(length(data)) FROM bodies").Scan(&bodies, &deflated, &bodyBytes); err != nil {
		t.Fatal(err)
	}
	if err := db.r.QueryRow("SELECT sum(length(mail)) FROM outbox").Scan(&mailBytes); err != nil {
		t.Fatal(err)
	}
	// One body per distinct text; the long one deflated, the short one as is.
	if bodies != 2 || deflated != 1 || bodyBytes >= len(long)/4 {
		t.Errorf("%d bodies (%d deflated) of %d bytes for 4 copies of %d bytes and one short text", bodies, deflated, bodyBytes, len(long))
	}
	if mailBytes > 5*400 {
		t.Errorf("outbox rows hold %d bytes besides the bodies", mailBytes)
	}
	var due []Queued
	if err := db.Read(ctx, func(tx *Txn) (err error) { due, err = tx.DueMail(t0, 10); return err }); err != nil {
		t.Fatal(err)
	}
	if len(due) != 5 {
		t.Fatalf("%d due", len(due))
	}
	for i, q := range due[:4] {
		if q.Mail.Text != long || q.Mail.To[0] != staff[i] || q.Mail.MessageID != fmt.Sprintf("case-1.notify.%d@example.com", i) ||
			q.Mail.Headers["Auto-Submitted"] != "auto-generated" || q.State != OutboxQueued || q.Mail.ID == 0 {
			t.Errorf("copy %d read back as %+v", i, q.Mail)
		}
	}
	if due[4].Mail.Text != "another text" {
		t.Errorf("text %q", due[4].Mail.Text)
	}
}

// TestRowsQueuedBeforeBodies: an outbox row written by an earlier version
// (the text inside mail, no body) still reads back whole.
func TestRowsQueuedBeforeBodies(t *testing.T) {
	db := reportDB(t)
	_, err := db.w.Exec(`INSERT INTO outbox (kind, message_id, mail, next_attempt_at, created_at, rcpt_key)
		VALUES ('ack', 'old@example.com', '{"Kind":"ack","To":["alice@acme.test"],"Text":"您好","MessageID":"old@example.com"}', 1, 1, 'alice@acme.test')`)
	if err != nil {
		t.Fatal(err)
	}
	var due []Queued
	if err := db.Read(context.Background(), func(tx *Txn) (err error) { due, err = tx.DueMail(t0, 10); return err }); err != nil {
		t.Fatal(err)
	}
	if len(due) != 1 || due[0].Mail.Text != "您好" || due[0].Broken != nil {
		t.Fatalf("%+v", due)
	}
}

// TestDamagedRowIsReturnedBroken: a row whose stored mail cannot be read
// comes back with Broken set (to be failed once by the sender), and the
// rows around it come back whole.
func TestDamagedRowIsReturnedBroken(t *testing.T) {
	db := reportDB(t)
	ctx := context.Background()
	var ids []int64
	err := db.Tx(ctx, func(tx *Txn) error {
		for i := range 3 {
			o := notice(i, "alice@acme.test", "text")
			if err := tx.Enqueue(o, t0); err != nil {
				return err
			}
			ids = append(ids, o.ID)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.w.Exec("UPDATE outbox SET mail = '{\"To\":[' WHERE id = ?", ids[1]); err != nil {
		t.Fatal(err)
	}
	var due []Queued
	if err := db.Read(ctx, func(tx *Txn) (err error) { due, err = tx.DueMail(t0, 10); return err }); err != nil {
		t.Fatal(err)
	}
	if len(due) != 3 || due[0].Broken != nil || due[2].Broken != nil || due[1].Broken == nil || due[1].Mail.ID != ids[1] {
		t.Fatalf("due %+v", due)
	}
}

// TestAttemptsAndResults walks a mail through a recorded attempt, a
// temporary failure and a send, and checks what the row keeps.
func TestAttemptsAndResults(t *testing.T) {
	db := reportDB(t)
	ctx := context.Background()
	o := notice(1, "alice@acme.test", "text")
	o.Case = 0
	tx := func(fn func(*Txn) error) error { return db.Tx(ctx, fn) }
	if err := tx(func(t *Txn) error { return t.Enqueue(o, t0) }); err != nil {
		t.Fatal(err)
	}
	id := o.ID
	if err := tx(func(t *Txn) error { return t.StartAttempt(id, 1, t0, t0.Add(30*time.Second)) }); err != nil {
		t.Fatal(err)
	}
	// A second sender (or a repeat) cannot start the same attempt.
	if err := tx(func(t *Txn) error { return t.StartAttempt(id, 1, t0, t0.Add(time.Minute)) }); !errors.Is(err, ErrNotPending) {
		t.Fatalf("second attempt 1: %v", err)
	}
	due := func(at time.Time) int {
		var qs []Queued
		if err := db.Read(ctx, func(t *Txn) (err error) { qs, err = t.DueMail(at, 10); return err }); err != nil {
			t.Fatal(err)
		}
		return len(qs)
	}
	// While delivering, the mail is due again only after the attempt's next try.
	if due(t0.Add(29*time.Second)) != 0 || due(t0.Add(30*time.Second)) != 1 {
		t.Fatal("an attempt that never reports back is not due at its next try")
	}
	fail := Attempt{N: 1, At: t0.Add(time.Second), Code: 451, Enhanced: "4.3.0", Temporary: true, Error: "rcpt: 451 4.3.0 try later"}
	if err := tx(func(t *Txn) error { return t.MarkRetry(id, fail, t0.Add(31*time.Second)) }); err != nil {
		t.Fatal(err)
	}
	if err := tx(func(t *Txn) error { return t.StartAttempt(id, 2, t0.Add(31*time.Second), t0.Add(2*time.Minute)) }); err != nil {
		t.Fatal(err)
	}
	ok := Attempt{N: 2, At: t0.Add(32 * time.Second), Code: 250, Enhanced: "2.0.0", Response: "2.0.0 Ok: queued as 4AbC"}
	if err := tx(func(t *Txn) error { return t.MarkSent(id, ok) }); err != nil {
		t.Fatal(err)
	}
	// Recording again (a commit that reported an error) finds it done.
	if err := tx(func(t *Txn) error { return t.MarkSent(id, ok) }); !errors.Is(err, ErrNotPending) {
		t.Fatalf("second MarkSent: %v", err)
	}
	var q Queued
	err := db.Read(ctx, func(t *Txn) error {
		rows, err := t.query("SELECT "+queuedCols+" WHERE o.id = ?", id)
		if err != nil {
			return err
		}
		defer rows.Close()
		rows.Next()
		q, err = scanQueued(rows)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	if q.State != OutboxSent || q.Attempts != 2 || q.Code != 250 || q.Enhanced != "2.0.0" || q.LastError != "" ||
		!q.SentAt.Equal(ok.At) || !q.LastAttemptAt.Equal(t0.Add(31*time.Second)) {
		t.Errorf("row %+v", q)
	}
	if len(q.Results) != 2 || q.Results[0].Code != 451 || q.Results[0].Enhanced != "4.3.0" || !q.Results[0].Temporary ||
		q.Results[1].Response != ok.Response || !q.Results[1].At.Equal(ok.At) {
		t.Errorf("results %+v", q.Results)
	}
	if due(t0.Add(time.Hour)) != 0 {
		t.Error("a sent mail is due")
	}
}

// TestOutboxQueriesUseIndexes checks the query plans of the sender's due
// and next queries and of the auto-reply count (SPEC §2 rate limit).
func TestOutboxQueriesUseIndexes(t *testing.T) {
	db := reportDB(t)
	// Enough rows, and statistics, for the planner to choose as it would
	// on a full database.
	err := db.Tx(context.Background(), func(tx *Txn) error {
		for i := range 2000 {
			o := notice(i, fmt.Sprintf("u%d@acme.test", i%50), fmt.Sprintf("text %d", i))
			o.Case = 0
			if err := tx.Enqueue(o, t0.Add(time.Duration(i)*time.Second)); err != nil {
				return err
			}
			if i%3 == 0 {
				if err := tx.StartAttempt(o.ID, 1, t0, t0); err != nil {
					return err
				}
				if err := tx.MarkSent(o.ID, Attempt{N: 1, At: t0, Code: 250}); err != nil {
					return err
				}
			}
		}
		_, err := tx.exec("ANALYZE")
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name, query, index string
		args               []any
	}{
		{"due", `SELECT ` + queuedCols + ` WHERE o.` + pending + ` AND o.next_attempt_at <= ? ORDER BY o.next_attempt_at, o.id LIMIT ?`,
			"outbox_pending", []any{t0.UnixMilli(), 50}},
		{"next", "SELECT MIN(next_attempt_at) FROM outbox WHERE " + pending, "outbox_pending", nil},
		{"auto replies", `SELECT COUNT(*) FROM outbox WHERE rcpt_key = ? AND created_at >= ? AND kind = 'ack'`,
			"outbox_rcpt", []any{"u1@acme.test", t0.UnixMilli()}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			plan := explain(t, db, tc.query, tc.args...)
			all := strings.Join(plan, "; ")
			t.Logf("plan: %s", all)
			if !strings.Contains(all, "USING INDEX "+tc.index) && !strings.Contains(all, "USING COVERING INDEX "+tc.index) {
				t.Errorf("plan does not use %s: %s", tc.index, all)
			}
			for _, p := range plan {
				if strings.HasPrefix(p, "SCAN ") || strings.Contains(p, "TEMP B-TREE") {
					t.Errorf("plan scans a table or sorts: %s", all)
				}
			}
		})
	}
}

// explain returns the query plan of q, one line per step.
func explain(t *testing.T, db *DB, q string, args ...any) []string {
	t.Helper()
	rows, err := db.r.Query("EXPLAIN QUERY PLAN "+q, args...)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var plan []string
	for rows.Next() {
		var id, parent, unused int
		var detail string
		if err := rows.Scan(&id, &parent, &unused, &detail); err != nil {
			t.Fatal(err)
		}
		plan = append(plan, detail)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return plan
}

// TestHeldBodiesAreWrittenBeforeTheyAreRead: a new long text is deflated
// while the transaction goes on; a statement of the same transaction
// that reads bodies sees it whole, a text that deflate cannot shrink is
// kept as it is, and a transaction that fails keeps no body.
func TestHeldBodiesAreWrittenBeforeTheyAreRead(t *testing.T) {
	db := reportDB(t)
	ctx := context.Background()
	long := strings.Repeat("故障描述：打印机无法联网。\n", 200)
	noise := make([]byte, 4096)
	rand.Read(noise)
	err := db.Tx(ctx, func(tx *Txn) error {
		if err := tx.Enqueue(notice(1, "eng1@example.com", long), t0); err != nil {
			return err
		}
		if err := tx.Enqueue(notice(2, "eng1@example.com", string(noise)), t0); err != nil {
			return err
		}
		due, err := tx.DueMail(t0, 10)
		if err != nil {
			return err
		}
		if len(due) != 2 || due[0].Mail.Text != long || due[1].Mail.Text != string(noise) {
			return fmt.Errorf("read in the transaction: %d mails, texts of %d and %d bytes", len(due), len(due[0].Mail.Text), len(due[1].Mail.Text))
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	rows, err := db.r.Query("SELECT length(data), deflated FROM bodies ORDER BY id")
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for rows.Next() {
		var n, z int
		rows.Scan(&n, &z)
		got = append(got, fmt.Sprintf("%d/%d", n, z))
	}
	rows.Close()
	if len(got) != 2 || got[1] != fmt.Sprintf("%d/0", len(noise)) || !strings.HasSuffix(got[0], "/1") {
		t.Errorf("bodies (length/deflated) %v, want the long text deflated and the noise's %d bytes as they are", got, len(noise))
	}
	fail := errors.New("stop")
	err = db.Tx(ctx, func(tx *Txn) error {
		if err := tx.Enqueue(notice(3, "eng1@example.com", long+"more"), t0); err != nil {
			return err
		}
		return fail
	})
	if !errors.Is(err, fail) {
		t.Fatalf("failed transaction: %v", err)
	}
	var n int
	if err := db.r.QueryRow("SELECT count(*) FROM bodies").Scan(&n); err != nil || n != 2 {
		t.Errorf("%d bodies after a failed transaction (%v), want 2", n, err)
	}
}
