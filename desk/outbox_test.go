package desk

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net/mail"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-smtp"

	"helpdeskd/cases"
	"helpdeskd/internal/testmail"
	"helpdeskd/mailout"
	"helpdeskd/store"
)

// newTestSender sends the fixture's outbox to an in-process SMTP server.
func (f *fixture) sender(srv *testmail.Servers, ob mailout.Outbox) *mailout.Sender {
	f.t.Helper()
	s, err := mailout.ParseServer(srv.SMTPAddr, "none", "", "", "", false)
	if err != nil {
		f.t.Fatal(err)
	}
	s.Timeout = 10 * time.Second
	return &mailout.Sender{Server: s, From: &mail.Address{Address: "support@example.com"}, Outbox: ob, Now: f.clk.Now,
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil)), Jitter: func(d time.Duration) time.Duration { return d }}
}

func (f *fixture) drain(s *mailout.Sender) {
	f.t.Helper()
	if _, err := s.Drain(f.ctx); err != nil {
		f.t.Fatal(err)
	}
}

func (f *fixture) rows(n int64) []store.Queued {
	f.t.Helper()
	var qs []store.Queued
	if err := f.db.Read(f.ctx, func(t *store.Txn) (err error) { qs, _, err = t.OutboxByCase(n); return err }); err != nil {
		f.t.Fatal(err)
	}
	return qs
}

func startSMTP(t *testing.T) *testmail.Servers {
	srv, err := testmail.Start(testmail.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(srv.Close)
	return srv
}

// TestDeliveryFailureKeepsTheSMTPReply: a permanent failure is recorded on
// the outbox row (code, enhanced status, each attempt) and in the
// delivery_failed event; staff are told; the other mails go out.
func TestDeliveryFailureKeepsTheSMTPReply(t *testing.T) {
	f := newFixture(t, false)
	f.mail("Alice <alice@acme.test>", "Printer down", "It broke.")
	srv := startSMTP(t)
	srv.FailRcpt(func(rcpt string) error {
		if rcpt == "alice@acme.test" {
			return &smtp.SMTPError{Code: 550, EnhancedCode: smtp.EnhancedCode{5, 1, 1}, Message: "no such user"}
		}
		return nil
	})
	f.drain(f.sender(srv, f.d.Outbox()))
	_, evs := f.caseN(1)
	ev := lastOf(evs, cases.EvDeliveryFailed)
	if ev.Detail != "ack to alice@acme.test: 5.1.1 550 5.1.1 no such user (rcpt)" {
		t.Errorf("delivery_failed detail %q", ev.Detail)
	}
	rows := f.rows(1)
	ack := rows[0]
	if ack.Mail.Kind != "ack" || ack.State != store.OutboxFailed || ack.Code != 550 || ack.Enhanced != "5.1.1" ||
		ack.Attempts != 1 || len(ack.Results) != 1 || ack.Results[0].Temporary || !strings.Contains(ack.LastError, "no such user") {
		t.Errorf("ack row %+v", ack)
	}
	var notices, sent int
	for _, q := range rows[1:] {
		if q.Mail.Kind == "staff_notice" {
			notices++
			if !strings.Contains(q.Mail.Text, "550 5.1.1") {
				t.Errorf("notice lacks the reply: %s", q.Mail.Text)
			}
		}
		if q.State == store.OutboxSent {
			sent++
			if q.Code != 250 {
				t.Errorf("sent row with code %d", q.Code)
			}
		}
	}
	if notices != 2 || sent != 4 { // engineer and CSM told; 4 notifications sent
		t.Errorf("%d notices, %d sent: %+v", notices, sent, rows)
	}
}

// crashingOutbox is the desk's outbox in a process that dies at a given
// point: after an attempt is committed (nothing sent), or with outcomes
// that cannot be committed for a while (the database is busy).
type crashingOutbox struct {
	mailout.Outbox
	mu          sync.Mutex
	dieAfterTry bool
	sentFaults  int
}

var errCrash = errors.New("process killed")

func (o *crashingOutbox) Attempt(ctx context.Context, as []mailout.Attempt) ([]bool, error) {
	ok, err := o.Outbox.Attempt(ctx, as)
	if err != nil {
		return nil, err
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.dieAfterTry {
		return nil, errCrash // committed, but this process goes no further
	}
	return ok, nil
}

func (o *crashingOutbox) Sent(ctx context.Context, sent []mailout.SentMail) error {
	o.mu.Lock()
	if o.sentFaults > 0 {
		o.sentFaults--
		o.mu.Unlock()
		return errors.New("database is locked")
	}
	o.mu.Unlock()
	return o.Outbox.Sent(ctx, sent)
}

// TestOutboxCrashNeitherLosesNorDuplicates (SPEC §7): a process that dies
// after recording attempts sends nothing; the next one sends each mail
// once after the attempts' backoff. Outcomes that cannot be recorded are
// recorded later and the mails are not sent again.
func TestOutboxCrashNeitherLosesNorDuplicates(t *testing.T) {
	f := newFixture(t, false)
	f.mail("Alice <alice@acme.test>", "Printer down", "It broke.")
	queued := len(f.rows(1))
	srv := startSMTP(t)

	// 1. The first process dies right after committing its attempts.
	f.drain(f.sender(srv, &crashingOutbox{Outbox: f.d.Outbox(), dieAfterTry: true}))
	if n := len(srv.Sent()); n != 0 {
		t.Fatalf("%d mails sent by a process that died before sending", n)
	}
	for _, q := range f.rows(1) {
		if q.State != store.OutboxDelivering || q.Attempts != 1 {
			t.Fatalf("after the crash: %s %s attempts %d", q.Mail.Kind, q.State, q.Attempts)
		}
	}
	// 2. The next process: nothing before the attempts' next try, then
	// each mail once, although the database fails to take the first
	// outcomes.
	ob := &crashingOutbox{Outbox: f.d.Outbox(), sentFaults: 3}
	s := f.sender(srv, ob)
	f.drain(s)
	if n := len(srv.Sent()); n != 0 {
		t.Fatalf("%d mails sent before their next try", n)
	}
	f.clk.Set(thu9.Add(31 * time.Second))
	f.drain(s)
	for range 3 {
		f.clk.Set(f.clk.Now().Add(time.Hour))
		f.drain(s)
	}
	copies := map[string]int{}
	for _, c := range srv.Sent() {
		for _, line := range strings.Split(string(c.Data), "\r\n") {
			if id, ok := strings.CutPrefix(line, "Message-ID: "); ok {
				copies[id]++
			}
		}
	}
	if len(copies) != queued {
		t.Errorf("%d distinct mails delivered, want %d", len(copies), queued)
	}
	for id, n := range copies {
		if n != 1 {
			t.Errorf("%s delivered %d times", id, n)
		}
	}
	for _, q := range f.rows(1) {
		if q.State != store.OutboxSent || q.Attempts != 2 {
			t.Errorf("%s: %s after %d attempts", q.Mail.Kind, q.State, q.Attempts)
		}
	}
	// 3. A third process finds nothing to send.
	f.clk.Set(f.clk.Now().Add(24 * time.Hour))
	f.drain(f.sender(srv, f.d.Outbox()))
	if n := len(srv.Sent()); n != queued {
		t.Errorf("%d deliveries after a restart, want %d", n, queued)
	}
}
