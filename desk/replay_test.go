package desk

import (
	"errors"
	"strings"
	"testing"

	"helpdeskd/mailin"
	"helpdeskd/store"
)

func TestReplayQuarantined(t *testing.T) {
	f := newFixture(t, false)
	// An empty mail is unreadable and quarantined.
	if disp, err := f.d.DeliverMail(f.ctx, mailinPlace(1), nil); err != nil || disp != mailin.Quarantined {
		t.Fatalf("quarantine: %v %v", disp, err)
	}
	// A mail a newer parser can read, stored as quarantined by an older one.
	readable := []byte("From: alice@acme.test\r\nTo: support@example.com\r\nSubject: Printer down\r\nMessage-ID: <q@acme.test>\r\n\r\nIt broke.\r\n")
	var id int64
	err := f.db.Tx(f.ctx, func(tx *store.Txn) error {
		sm := &store.StoredMessage{Mailbox: "INBOX", UIDValidity: 1, UID: 2, Hash: "h", Matched: "quarantine",
			Problems: "old parser gave up", ReceivedAt: thu9, Raw: readable}
		err := tx.InsertMessage(sm)
		id = sm.ID
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	var q []store.StoredMessage
	f.db.Read(f.ctx, func(tx *store.Txn) error { var err error; q, err = tx.QuarantinedMessages(); return err })
	if len(q) != 2 {
		t.Fatalf("quarantined = %d", len(q))
	}
	n, err := f.d.Replay(f.ctx, id)
	if err != nil || n != 1 {
		t.Fatalf("replay = %d, %v", n, err)
	}
	if got := f.outbox(1); len(got) == 0 || got[0] != "ack>alice@acme.test" {
		t.Errorf("replayed mail not acknowledged: %v", got)
	}
	if _, err := f.d.Replay(f.ctx, id); !errors.Is(err, ErrNotQuarantined) {
		t.Errorf("second replay: %v", err)
	}
	if _, err := f.d.Replay(f.ctx, q[0].ID); err == nil || !strings.Contains(err.Error(), "still unreadable") {
		t.Errorf("unreadable replay: %v", err)
	}
}

// Issue 11: a mail with text but no header at all is quarantined with its
// text readable.
func TestNoHeaderMailKeepsItsText(t *testing.T) {
	f := newFixture(t, false)
	raw := []byte("\r\n\r\nthis is all there is: the printer on floor 3 is down\r\n")
	if out, err := f.d.DeliverMail(f.ctx, mailinPlace(1), raw); err != nil || out != mailin.Quarantined {
		t.Fatalf("deliver: %v %v", out, err)
	}
	var q []store.StoredMessage
	if err := f.db.Read(f.ctx, func(tx *store.Txn) error { var err error; q, err = tx.QuarantinedMessages(); return err }); err != nil {
		t.Fatal(err)
	}
	if len(q) != 1 || !strings.Contains(q[0].Subject, "printer on floor 3") {
		t.Fatalf("quarantined = %+v", q)
	}
}
