package desk

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"helpdeskd/cases"
)

// postfixDSN is a bounce as Postfix writes it (RFC 3464 with the returned
// headers, RFC 6522), for a mail of ours with Message-ID id.
func postfixDSN(id, rcpt, action, status string) string {
	return fmt.Sprintf("Return-Path: <>\r\nFrom: MAILER-DAEMON@mx.example.com (Mail Delivery System)\r\n"+
		"Subject: Undelivered Mail Returned to Sender\r\nTo: support@example.com\r\nAuto-Submitted: auto-replied\r\n"+
		"MIME-Version: 1.0\r\nContent-Type: multipart/report; report-type=delivery-status; boundary=\"B\"\r\n"+
		"Message-Id: <20261126010203.AB12@mx.example.com>\r\n\r\n"+
		"--B\r\nContent-Description: Notification\r\nContent-Type: text/plain; charset=us-ascii\r\n\r\n"+
		"This is the mail system at host mx.example.com.\r\n\r\nI'm sorry to have to inform you that your message could not\r\nbe delivered to one or more recipients.\r\n\r\n"+
		"<%[2]s>: host mx.acme.test said: 550 5.1.1 <%[2]s>: Recipient address rejected: User unknown\r\n\r\n"+
		"--B\r\nContent-Description: Delivery report\r\nContent-Type: message/delivery-status\r\n\r\n"+
		"Reporting-MTA: dns; mx.example.com\r\nArrival-Date: Thu, 26 Nov 2026 09:00:05 +0800 (CST)\r\n\r\n"+
		"Final-Recipient: rfc822; %[2]s\r\nOriginal-Recipient: rfc822;%[2]s\r\nAction: %[3]s\r\nStatus: %[4]s\r\n"+
		"Remote-MTA: dns; mx.acme.test\r\nDiagnostic-Code: smtp; 550 5.1.1 <%[2]s>: Recipient address rejected: User unknown\r\n\r\n"+
		"--B\r\nContent-Description: Undelivered Message Headers\r\nContent-Type: text/rfc822-headers\r\n\r\n"+
		"From: Support <support@example.com>\r\nTo: %[2]s\r\nSubject: [Case#1] Printer down\r\nMessage-ID: <%[1]s>\r\n\r\n--B--\r\n",
		id, rcpt, action, status)
}

func ackID(t *testing.T, f *fixture, n int64) string {
	for _, m := range f.mails(n) {
		if m.Kind == "ack" {
			return m.MessageID
		}
	}
	t.Fatalf("no acknowledgement on case %d", n)
	return ""
}

// Issue 11: a bounce of our own mail lands on its case as
// delivery_failed, the engineer and the customer service manager are
// told, nothing answers the bounce, and scheduled replies to the dead
// address stop until the customer writes again.
func TestBounceLandsOnItsCase(t *testing.T) {
	f := newFixture(t, false)
	f.mail("alice@acme.test", "Printer down", "It broke.")
	before := len(f.outbox(1))
	f.uid++
	if _, err := f.d.DeliverMail(f.ctx, mailinPlace(f.uid), []byte(postfixDSN(ackID(t, f, 1), "alice@acme.test", "failed", "5.1.1"))); err != nil {
		t.Fatal(err)
	}
	c, evs := f.caseN(1)
	e := lastOf(evs, cases.EvDeliveryFailed)
	if !strings.Contains(e.Detail, "alice@acme.test") || !strings.Contains(e.Detail, "5.1.1") || !strings.Contains(e.Detail, "ack") {
		t.Fatalf("delivery_failed = %q (events %v)", e.Detail, evs)
	}
	got := f.outbox(1)[before:]
	if count(got, "staff_notice>eng1@example.com") != 1 || count(got, "staff_notice>csm@example.com") != 1 || len(got) != 2 {
		t.Fatalf("after the bounce: %v", got)
	}
	if c.Status != cases.StatusOpen || c.BouncedAt.IsZero() {
		t.Fatalf("case after the bounce: status %s bounced %v", c.Status, c.BouncedAt)
	}
	if _, err := f.tryCase(2); err == nil {
		t.Fatal("the bounce opened a case")
	}
	// The second reply's window passes without a mail to the dead address.
	f.advance(thu9.Add(45 * time.Minute))
	if n := count(f.outbox(1), "status>alice@acme.test"); n != 0 {
		t.Fatalf("%d status replies to a bounced address", n)
	}
	// The customer writes again: replies resume.
	f.mail("alice@acme.test", "Re: [Case#1] Printer down", "New address works again.")
	f.advance(thu9.Add(3 * time.Hour))
	if n := count(f.outbox(1), "status>alice@acme.test"); n == 0 {
		t.Fatal("status replies did not resume after the customer wrote")
	}
}

func TestDelayedDeliveryIsANote(t *testing.T) {
	f := newFixture(t, false)
	f.mail("alice@acme.test", "Printer down", "It broke.")
	before := len(f.outbox(1))
	f.uid++
	if _, err := f.d.DeliverMail(f.ctx, mailinPlace(f.uid), []byte(postfixDSN(ackID(t, f, 1), "alice@acme.test", "delayed", "4.4.1"))); err != nil {
		t.Fatal(err)
	}
	c, evs := f.caseN(1)
	if lastOf(evs, cases.EvDeliveryDelayed).Detail == "" || lastOf(evs, cases.EvDeliveryFailed).Detail != "" {
		t.Fatalf("events = %v", evs)
	}
	if len(f.outbox(1)) != before || !c.BouncedAt.IsZero() {
		t.Fatalf("a delay changed the case or sent mail: %v", f.outbox(1)[before:])
	}
}
