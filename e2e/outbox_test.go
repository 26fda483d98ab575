//go:build e2e

package e2e

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/mail"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"helpdeskd/cases"
	"helpdeskd/config"
	"helpdeskd/desk"
	"helpdeskd/mailout"
	"helpdeskd/store"
	"helpdeskd/templates"
)

// outboxConfig is the least configuration a desk accepts: only its outbox is used.
const outboxConfig = `
[mailbox]
address = "127.0.0.1:1"
username = "support@example.test"
password = "x"
[smtp]
address = "127.0.0.1:1"
from = "Support <support@example.test>"
[plans.any]
calendar = "always"
`

// TestOutboxAgainstPostfix sends queued mail through the desk's outbox to
// the real Postfix: a recipient Postfix rejects (550 5.1.1 at RCPT) is
// failed once with its reply kept on the row, and the mails queued before
// and after it are delivered to the mailboxes, each with Postfix's queue
// id kept as its response.
func TestOutboxAgainstPostfix(t *testing.T) {
	st := Stack(t)
	st.Clear(t, "alice@acme.test")
	st.Clear(t, "bob@acme.test")
	ctx := context.Background()
	db, err := store.Open(ctx, filepath.Join(t.TempDir(), "outbox.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	cfg, err := config.Parse("outbox.toml", []byte(outboxConfig))
	if err != nil {
		t.Fatal(err)
	}
	tmpl, err := templates.Load("")
	if err != nil {
		t.Fatal(err)
	}
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	d := desk.New(cfg, db, tmpl, desk.Options{Logger: quiet})
	stamp := time.Now().UnixNano()
	var queued []*cases.Outgoing
	err = db.Tx(ctx, func(tx *store.Txn) error {
		for i, to := range []string{"alice@acme.test", "nobody@acme.test", "bob@acme.test", "alice@acme.test"} {
			o := &cases.Outgoing{Kind: "ack", To: []string{to}, Subject: fmt.Sprintf("[Case#%d] 打印机故障", i+1),
				Text: "您好，已收到。\n", MessageID: fmt.Sprintf("outbox-e2e.%d.%d@example.test", stamp, i)}
			if err := tx.Enqueue(o, time.Now()); err != nil {
				return err
			}
			queued = append(queued, o)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	srv, err := mailout.ParseServer(st.SMTP, "none", "", "", "", false)
	if err != nil {
		t.Fatal(err)
	}
	s := &mailout.Sender{Server: srv, From: &mail.Address{Address: "support@example.test"}, Outbox: d.Outbox(), Logger: quiet}
	if _, err := s.Drain(ctx); err != nil {
		t.Fatal(err)
	}
	s.Close()
	err = db.Read(ctx, func(tx *store.Txn) error {
		qs, err := tx.DueMail(time.Now().Add(24*time.Hour), 10)
		if len(qs) != 0 {
			t.Errorf("%d mails still pending", len(qs))
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	for i, o := range queued {
		to := o.To[0]
		if to == "nobody@acme.test" {
			continue
		}
		got := st.WaitFor(t, to, 30*time.Second, func(f Fetched) bool { return f.MessageID() == o.MessageID })
		if !strings.Contains(got.Subject(), fmt.Sprintf("[Case#%d]", i+1)) {
			t.Errorf("mail %d arrived as %q", i, got.Subject())
		}
	}
	var failed []store.Queued
	err = db.Read(ctx, func(tx *store.Txn) (err error) { failed, err = tx.OutboxByState(store.OutboxFailed); return err })
	if err != nil {
		t.Fatal(err)
	}
	if len(failed) != 1 || failed[0].Mail.To[0] != "nobody@acme.test" || failed[0].Code != 550 || failed[0].Enhanced != "5.1.1" ||
		failed[0].Attempts != 1 {
		t.Fatalf("failed rows %+v", failed)
	}
	var sent []store.Queued
	err = db.Read(ctx, func(tx *store.Txn) (err error) { sent, err = tx.OutboxByState(store.OutboxSent); return err })
	if err != nil {
		t.Fatal(err)
	}
	if len(sent) != 3 {
		t.Fatalf("%d sent rows", len(sent))
	}
	for _, q := range sent {
		if q.Code != 250 || len(q.Results) != 1 || !strings.Contains(q.Results[0].Response, "queued as") {
			t.Errorf("sent row %s: code %d results %+v", q.Mail.MessageID, q.Code, q.Results)
		}
	}
}
