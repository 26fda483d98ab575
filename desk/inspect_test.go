package desk

import (
	"encoding/base64"
	"fmt"
	"strings"
	"testing"
	"time"

	"helpdeskd/cases"
	"helpdeskd/config"
	"helpdeskd/store"
)

// SPEC §11.7 end to end in the desk: the reminder the working day before,
// one case at the first working minute (never two, even after a restart),
// and the engineer's report relayed to the customer with its attachment.
func TestInspectionFlow(t *testing.T) {
	f := newFixture(t, false)
	e, err := config.ParseInspection("monthly 27")
	if err != nil {
		t.Fatal(err)
	}
	f.cfg.Customers[0].Services = append(f.cfg.Customers[0].Services, "inspection")
	f.cfg.Customers[0].Inspections = []config.Inspection{e}

	// Thu 26 09:00: the working day before Fri 27: the reminder.
	if err := f.d.Inspections(f.ctx); err != nil {
		t.Fatal(err)
	}
	if n := f.countKind("inspection_reminder"); n != 1 {
		t.Fatalf("%d reminders", n)
	}
	if err := f.d.Inspections(f.ctx); err != nil {
		t.Fatal(err)
	}
	if n := f.countKind("inspection_reminder"); n != 1 {
		t.Fatalf("reminded again: %d", n)
	}
	// Fri 27 09:00: the case opens, assigned to the region's engineer.
	f.clk.Set(thu9.Add(24 * time.Hour))
	if err := f.d.Inspections(f.ctx); err != nil {
		t.Fatal(err)
	}
	// A restarted desk on the same database opens nothing twice.
	d2 := New(f.cfg, f.db, f.d.tmpl, Options{Now: f.clk.Now, Logger: f.d.log})
	if err := d2.Inspections(f.ctx); err != nil {
		t.Fatal(err)
	}
	c, evs := f.caseN(1)
	if c.Kind != cases.KindInspection || c.Engineer != "eng1@example.com" || c.Late || lastOf(evs, cases.EvInspectionDue).Detail == "" {
		t.Fatalf("inspection case = %+v", c)
	}
	if _, err := f.tryCase(2); err == nil {
		t.Fatal("a second inspection case was opened")
	}
	if count(f.outbox(1), "staff_notice>eng1@example.com") != 1 || count(f.outbox(1), "ack>alice@acme.test") != 0 {
		t.Errorf("opening mails: %v", f.outbox(1))
	}
	// The engineer's reply with the report attached reaches the customer.
	f.mailAttach("eng1@example.com", "Re: [Case#1] inspection", "Report attached.", "report.pdf", "application/pdf", "%PDF-1.4 report")
	var report *cases.Outgoing
	for _, m := range f.mails(1) {
		if m.Kind == "inspection_report" {
			report = &m
		}
	}
	if report == nil || len(report.Attachments) != 1 || report.To[0] != "alice@acme.test" || !strings.Contains(report.Subject, "巡检报告") {
		t.Fatalf("report mail = %+v (outbox %v)", report, f.outbox(1))
	}
	c, _ = f.caseN(1)
	if c.ResolvedAt.IsZero() {
		t.Error("inspection not done after the report")
	}
}

// countKind counts queued mails of a kind.
func (f *fixture) countKind(kind string) int {
	f.t.Helper()
	var c int
	err := f.db.Read(f.ctx, func(t *store.Txn) error {
		var err error
		c, err = t.CountOutbox(kind)
		return err
	})
	if err != nil {
		f.t.Fatal(err)
	}
	return c
}

func (f *fixture) tryCase(n int64) (*cases.Case, error) {
	var c *cases.Case
	err := f.db.Read(f.ctx, func(t *store.Txn) error {
		var err error
		c, err = t.Case(n)
		return err
	})
	return c, err
}

// mailAttach delivers a text mail with one base64 attachment.
func (f *fixture) mailAttach(from, subject, body, name, ctype, data string) {
	f.t.Helper()
	f.uid++
	raw := fmt.Sprintf("From: %s\r\nTo: support@example.com\r\nSubject: %s\r\nMessage-ID: <m%d@test>\r\n"+
		"MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=\"b\"\r\n\r\n--b\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n%s\r\n"+
		"--b\r\nContent-Type: %s\r\nContent-Disposition: attachment; filename=\"%s\"\r\nContent-Transfer-Encoding: base64\r\n\r\n%s\r\n--b--\r\n",
		from, subject, f.uid, body, ctype, name, base64.StdEncoding.EncodeToString([]byte(data)))
	if _, err := f.d.DeliverMail(f.ctx, mailinPlace(f.uid), []byte(raw)); err != nil {
		f.t.Fatal(err)
	}
}
