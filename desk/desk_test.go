package desk

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"helpdeskd/cases"
	"helpdeskd/config"
	"helpdeskd/internal/testconf"
	"helpdeskd/mailin"
	"helpdeskd/store"
	"helpdeskd/templates"
)

const deskConfig = testconf.Servers + `
[closing]
review = %v
` + testconf.Staff + `
[[customers]]
company = "ACME"
domains = ["acme.test"]
contacts = [{ name = "Alice", email = "alice@acme.test" }]
plan = "5x8"
region = "north"
[[customers]]
company = "Globex"
domains = ["globex.test"]
contacts = [{ name = "Carol", email = "carol@globex.test" }]
plan = "7x24"
region = "south"
foreign = true
update_interval = "2h"
`

// clock is a test clock that only moves when told.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time  { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) Set(t time.Time) { c.mu.Lock(); c.t = t; c.mu.Unlock() }

type fixture struct {
	t    *testing.T
	d    *Desk
	db   *store.DB
	cfg  *config.Config
	clk  *clock
	uid  uint32
	path string // the database file
	ctx  context.Context
}

// Thursday 2026-11-26 09:00 in Shanghai.
var thu9 = time.Date(2026, 11, 26, 9, 0, 0, 0, mustLoc("Asia/Shanghai"))

func mustLoc(n string) *time.Location {
	l, err := time.LoadLocation(n)
	if err != nil {
		panic(err)
	}
	return l
}

func newFixture(t *testing.T, review bool) *fixture {
	t.Helper()
	cfg, err := config.Parse("t.toml", fmt.Appendf(nil, deskConfig, review))
	if err != nil {
		t.Fatal(err)
	}
	// Both customers bought on-site maintenance (SPEC §11.6); tests of
	// customers without it change this.
	cfg.Customers[0].Services = []string{"hotline", "email", "onsite_5x8"}
	cfg.Customers[1].Services = []string{"hotline", "email", "onsite_7x24"}
	cfg.Display.Location = mustLoc("Asia/Shanghai")
	path := filepath.Join(t.TempDir(), "t.db")
	// The spool directory (for large attachments relayed) is beside the
	// database, not in the package's directory.
	cfg.Database.Path = path
	db, err := store.Open(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	tmpl, err := templates.Load("")
	if err != nil {
		t.Fatal(err)
	}
	clk := &clock{t: thu9}
	d := New(cfg, db, tmpl, Options{Now: clk.Now, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	return &fixture{t: t, d: d, db: db, cfg: cfg, clk: clk, ctx: context.Background(), path: path}
}

// mail delivers a message and returns what happened.
func (f *fixture) mail(from, subject, body string, headers ...string) mailin.Outcome {
	f.t.Helper()
	f.uid++
	raw := fmt.Sprintf("From: %s\r\nTo: support@example.com\r\nSubject: %s\r\nMessage-ID: <m%d@test>\r\nDate: Thu, 26 Nov 2026 09:00:00 +0800\r\n%sContent-Type: text/plain; charset=utf-8\r\n\r\n%s\r\n",
		from, subject, f.uid, strings.Join(headers, ""), body)
	disp, err := f.d.DeliverMail(f.ctx, mailin.Place{Mailbox: "INBOX", UIDValidity: 1, UID: f.uid}, []byte(raw))
	if err != nil {
		f.t.Fatal(err)
	}
	return disp
}

func (f *fixture) caseN(n int64) (*cases.Case, []cases.Event) {
	f.t.Helper()
	var c *cases.Case
	var evs []cases.Event
	err := f.db.Read(f.ctx, func(t *store.Txn) error {
		var err error
		if c, err = t.Case(n); err != nil {
			return err
		}
		evs, err = t.Events(n)
		return err
	})
	if err != nil {
		f.t.Fatal(err)
	}
	return c, evs
}

// outbox lists the mails queued for case n as "kind>rcpt".
func (f *fixture) outbox(n int64) []string {
	f.t.Helper()
	var out []string
	err := f.db.Read(f.ctx, func(t *store.Txn) error {
		qs, _, err := t.OutboxByCase(n)
		for _, q := range qs {
			out = append(out, q.Mail.Kind+">"+strings.Join(q.Mail.To, ","))
		}
		return err
	})
	if err != nil {
		f.t.Fatal(err)
	}
	return out
}

func (f *fixture) mails(n int64) []cases.Outgoing {
	var out []cases.Outgoing
	f.db.Read(f.ctx, func(t *store.Txn) error {
		qs, _, err := t.OutboxByCase(n)
		for _, q := range qs {
			out = append(out, q.Mail)
		}
		return err
	})
	return out
}

// advance moves the clock to t and fires every timer due by then.
func (f *fixture) advance(to time.Time) {
	f.t.Helper()
	f.clk.Set(to)
	for i := 0; i < 100; i++ {
		wait, err := f.d.FireDue(f.ctx, 100)
		if err != nil {
			f.t.Fatal(err)
		}
		if wait > 0 {
			return
		}
	}
	f.t.Fatal("timers keep firing")
}

func kinds(evs []cases.Event) []string {
	var out []string
	for _, e := range evs {
		out = append(out, e.Kind)
	}
	return out
}

func count(list []string, s string) int {
	n := 0
	for _, x := range list {
		if x == s {
			n++
		}
	}
	return n
}

func TestOpenByMail(t *testing.T) {
	f := newFixture(t, false)
	f.mail("Alice <alice@acme.test>", "Printer down", "It broke.")
	c, evs := f.caseN(1)
	if c.Company != "ACME" || c.Engineer != "eng1@example.com" || c.Severity != 3 || c.Priority != "normal" || c.Status != "open" {
		t.Errorf("case = %+v", c)
	}
	// Severity 3 on the office calendar: 8 working hours from Thu 09:00 is Thu 18:00 (7.5h) + 30 min Fri = Fri 09:30.
	if want := time.Date(2026, 11, 27, 9, 30, 0, 0, thu9.Location()); !c.RespondBy.Equal(want) {
		t.Errorf("respond_by = %v, want %v", c.RespondBy.In(thu9.Location()), want)
	}
	got := f.outbox(1)
	want := []string{"ack>alice@acme.test", "notify_new>desk@example.com", "notify_new>csm@example.com",
		"notify_new>quality@example.com", "notify_assigned>eng1@example.com"}
	if strings.Join(got, " ") != strings.Join(want, " ") {
		t.Errorf("outbox = %v\nwant %v", got, want)
	}
	ack := f.mails(1)[0]
	if ack.InReplyTo != "m1@test" || ack.Headers["Auto-Submitted"] != "auto-replied" || !strings.HasPrefix(ack.Subject, "[Case#1] Printer down") {
		t.Errorf("ack = %+v", ack)
	}
	if k := kinds(evs); strings.Join(k, ",") != "opened,message_in,assigned,reply_out,notified,notified,notified,notified" {
		t.Errorf("events = %v", k)
	}
}

func TestThreading(t *testing.T) {
	f := newFixture(t, false)
	f.mail("alice@acme.test", "Printer down", "It broke.")
	ackID := f.mails(1)[0].MessageID
	tests := []struct {
		name    string
		subject string
		headers []string
		want    string
	}{
		{"token", "Re: [Case#1] Printer down", nil, "token"},
		{"fullwidth token", "回复：【Case＃1】打印机", nil, "token"},
		{"in-reply-to", "Re: mangled", []string{"In-Reply-To: <" + ackID + ">\r\n"}, "header"},
		{"references", "Re: mangled", []string{"References: <x@y> <m1@test>\r\n"}, "header"},
		{"encoded own id after purge", "Re: mangled", []string{"In-Reply-To: <case-1.status.zzz@example.com>\r\n"}, "header"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f.mail("alice@acme.test", tt.subject, "more", tt.headers...)
			var msgs []store.StoredMessage
			f.db.Read(f.ctx, func(tx *store.Txn) error { var err error; msgs, err = tx.Messages(1); return err })
			last := msgs[len(msgs)-1]
			if last.Matched != tt.want || last.UID != f.uid {
				t.Errorf("matched = %q (uid %d), want %q", last.Matched, last.UID, tt.want)
			}
		})
	}
	f.mail("alice@acme.test", "New problem", "unrelated")
	if _, evs := f.caseN(2); evs[0].Kind != "opened" {
		t.Fatal("an unthreaded mail did not open case 2")
	}
}

func TestAutomaticMailNeverChangesACase(t *testing.T) {
	f := newFixture(t, false)
	f.mail("alice@acme.test", "Printer down", "It broke.")
	before := f.outbox(1)
	f.mail("alice@acme.test", "Automatic reply: [Case#1] Printer down", "I am out of office.", "Auto-Submitted: auto-replied\r\n")
	f.mail("MAILER-DAEMON@acme.test", "Undelivered Mail Returned to Sender", "bounce")
	c, evs := f.caseN(1)
	if got := f.outbox(1); len(got) != len(before) {
		t.Errorf("automatic mail caused mail: %v", got[len(before):])
	}
	if evs[len(evs)-1].Kind != cases.EvAutoMessage || c.Status != "open" {
		t.Errorf("last event %v, status %s", evs[len(evs)-1].Kind, c.Status)
	}
	// The bounce threads into no case and opens none.
	err := f.db.Read(f.ctx, func(tx *store.Txn) error {
		ok, err := tx.CaseExists(2)
		if ok {
			t.Error("a bounce opened a case")
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	// Auto-Submitted: no is a person and is answered.
	f.mail("bob@acme.test", "Another", "hello", "Auto-Submitted: no\r\n")
	if got := f.outbox(2); len(got) == 0 || got[0] != "ack>bob@acme.test" {
		t.Errorf("Auto-Submitted: no was not answered: %v", got)
	}
}

func TestDuplicateAndRedelivery(t *testing.T) {
	f := newFixture(t, false)
	raw := []byte("From: alice@acme.test\r\nTo: support@example.com\r\nSubject: x\r\nMessage-ID: <same@test>\r\n\r\nbody\r\n")
	for i, p := range []mailin.Place{{Mailbox: "INBOX", UIDValidity: 1, UID: 1}, {Mailbox: "INBOX", UIDValidity: 1, UID: 1},
		{Mailbox: "INBOX", UIDValidity: 2, UID: 7}} { // same place again; then a new UIDVALIDITY
		if _, err := f.d.DeliverMail(f.ctx, p, raw); err != nil {
			t.Fatalf("delivery %d: %v", i, err)
		}
	}
	if got := f.outbox(1); count(got, "ack>alice@acme.test") != 1 {
		t.Errorf("acks = %v", got)
	}
	f.db.Read(f.ctx, func(tx *store.Txn) error {
		if ok, _ := tx.CaseExists(2); ok {
			t.Error("a duplicate opened a second case")
		}
		return nil
	})
}

func TestMalformedMailIsKept(t *testing.T) {
	f := newFixture(t, false)
	raw := "From: alice@acme.test\r\nSubject: broken\r\nContent-Type: multipart/mixed; boundary=\"b\"\r\n\r\n--b\r\nContent-Type: text/plain\r\n\r\nthe text survives\r\n"
	if _, err := f.d.DeliverMail(f.ctx, mailin.Place{Mailbox: "INBOX", UIDValidity: 1, UID: 1}, []byte(raw)); err != nil {
		t.Fatal(err)
	}
	c, _ := f.caseN(1)
	if !strings.Contains(c.Description, "the text survives") {
		t.Errorf("description = %q", c.Description)
	}
	disp, err := f.d.DeliverMail(f.ctx, mailin.Place{Mailbox: "INBOX", UIDValidity: 1, UID: 2}, []byte{})
	if err != nil || disp != mailin.Quarantined {
		t.Errorf("empty mail: %v %v", disp, err)
	}
}

func TestUnknownSenderPolicy(t *testing.T) {
	f := newFixture(t, false)
	f.mail("stranger@other.test", "hello", "who are you")
	c, _ := f.caseN(1)
	if c.Company != "other.test" || c.Plan != "5x8" {
		t.Errorf("unknown sender case = %+v", c)
	}
	f.cfg.Policy.UnknownSenders = "ignore"
	f.mail("stranger2@other.test", "hello", "who are you")
	f.db.Read(f.ctx, func(tx *store.Txn) error {
		if ok, _ := tx.CaseExists(2); ok {
			t.Error("ignored sender opened a case")
		}
		return nil
	})
}

func TestForeignCustomerGetsEnglishAndLiaison(t *testing.T) {
	f := newFixture(t, false)
	f.mail("carol@globex.test", "Outage", "down")
	c, _ := f.caseN(1)
	if c.Priority != "high" || c.Language != "en" || c.Engineer != "eng2@example.com" {
		t.Errorf("case = %+v", c)
	}
	// 7x24: severity 3 respond = 8 working hours on "always", capped to 4h.
	if !c.RespondBy.Equal(thu9.Add(4 * time.Hour)) {
		t.Errorf("respond_by = %v", c.RespondBy)
	}
	ack := f.mails(1)[0]
	if len(ack.Cc) != 1 || ack.Cc[0] != "liaison@example.com" || !strings.Contains(ack.Text, "Dear Carol") || !strings.Contains(ack.Text, "Your contact: Liaison") {
		t.Errorf("ack = %+v", ack)
	}
}

func mailinPlace(uid uint32) mailin.Place {
	return mailin.Place{Mailbox: "INBOX", UIDValidity: 1, UID: uid}
}
