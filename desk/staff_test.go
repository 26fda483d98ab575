package desk

import (
	"bytes"
	"errors"
	"log/slog"
	"slices"
	"strings"
	"testing"
	"time"

	"helpdeskd/cases"
	"helpdeskd/store"
)

func TestStaffCommands(t *testing.T) {
	f := newFixture(t, false)
	f.mail("alice@acme.test", "Printer down", "It broke.")
	f.clk.Set(thu9.Add(5 * time.Minute))

	// A bad command: the sender is told, and nothing on the case changes
	// (the valid /priority before it does not apply either).
	before, _ := f.caseN(1)
	f.mail("eng1@example.com", "Re: [Case#1] Printer down", "/priority up\n/severity 9\n/frobnicate\nhello")
	after, evs := f.caseN(1)
	if after.Priority != before.Priority || after.Severity != before.Severity {
		t.Errorf("a mail with a bad command changed the case: %+v", after)
	}
	m := lastMail(f.mails(1), "command_error")
	if m.To[0] != "eng1@example.com" || !strings.Contains(m.Text, `/severity 9: "9" is not a configured severity`) || !strings.Contains(m.Text, "unknown command /frobnicate") {
		t.Errorf("command error mail = %+v", m)
	}
	if count(f.outbox(1), "relay>alice@acme.test") != 0 {
		t.Error("text of a rejected mail was relayed")
	}
	if lastOf(evs, cases.EvCommandError).Detail == "" {
		t.Error("no command_error event")
	}

	// Several valid commands at once, then the rest is relayed without them.
	f.mail("eng1@example.com", "Re: [Case#1] Printer down", "/severity 2\n/priority urgent\n/part toner cartridge\n\nWe are sending a new cartridge.\n\nOn Thu, Alice wrote:\n> It broke.")
	c, evs := f.caseN(1)
	if c.Severity != 2 || c.Priority != "urgent" {
		t.Errorf("case after commands: severity %d priority %s", c.Severity, c.Priority)
	}
	// Severity 2: respond within 4 working hours of opening (Thu 09:00 → 13:30+1h = 14:30).
	if want := time.Date(2026, 11, 26, 14, 30, 0, 0, thu9.Location()); !c.RespondBy.Equal(want) {
		t.Errorf("respond_by after /severity 2 = %v, want %v", c.RespondBy.In(thu9.Location()), want)
	}
	relay := lastMail(f.mails(1), "relay")
	if !strings.Contains(relay.Text, "We are sending a new cartridge.") || strings.Contains(relay.Text, "/severity") ||
		strings.Contains(relay.Text, "It broke") || !strings.Contains(relay.Text, "Eng One") {
		t.Errorf("relay = %q", relay.Text)
	}
	if relay.InReplyTo != "m1@test" || relay.Headers["Auto-Submitted"] != "" || !strings.HasPrefix(relay.Subject, "[Case#1]") {
		t.Errorf("relay headers = %+v", relay)
	}
	if lastOf(evs, cases.EvPart).Detail != "toner cartridge" || c.RespondedAt.IsZero() {
		t.Errorf("part event or response missing: %+v", c)
	}
}

func TestNoteGoesToStaffOnly(t *testing.T) {
	f := newFixture(t, false)
	f.mail("alice@acme.test", "Printer down", "It broke.")
	n := len(f.outbox(1))
	f.mail("eng1@example.com", "Re: [Case#1] Printer down", "/note the customer runs an old driver\nsecond line")
	got := f.outbox(1)[n:]
	if strings.Join(got, " ") != "note>csm@example.com" {
		t.Errorf("note went to %v", got)
	}
	if m := lastMail(f.mails(1), "note"); !strings.Contains(m.Text, "old driver\nsecond line") {
		t.Errorf("note = %q", m.Text)
	}
}

func TestResolveConfirmClose(t *testing.T) {
	for _, tc := range []struct {
		name   string
		review bool
		answer string
		status string
	}{
		{"confirmed", false, "已解决，谢谢", "closed"},
		{"confirmed english", false, "Yes, solved. Thanks!", "closed"},
		{"not confirmed reopens", false, "还是不行，打印机仍然报错", "open"},
		{"review then confirm", true, "确认", "closed"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t, tc.review)
			f.mail("alice@acme.test", "Printer down", "It broke.")
			f.mail("eng1@example.com", "Re: [Case#1] Printer down", "/resolve\nReplaced the fuser.")
			c, _ := f.caseN(1)
			if c.Status != "resolved" || count(f.outbox(1), "resolved_notice>scm@example.com") != 1 {
				t.Fatalf("after /resolve: %s %v", c.Status, f.outbox(1))
			}
			asked := count(f.outbox(1), "confirm_request>alice@acme.test")
			if tc.review {
				if asked != 0 {
					t.Fatal("customer asked before review")
				}
				f.mail("eng1@example.com", "Re: [Case#1] x", "/approve")
				if lastMail(f.mails(1), "command_error").Text == "" {
					t.Error("an engineer could approve")
				}
				f.mail("scm@example.com", "Re: [Case#1] x", "/approve")
				asked = count(f.outbox(1), "confirm_request>alice@acme.test")
			}
			if asked != 1 {
				t.Fatalf("confirmation requests = %d", asked)
			}
			f.mail("alice@acme.test", "Re: [Case#1] Printer down", tc.answer)
			c, _ = f.caseN(1)
			if c.Status != tc.status {
				t.Errorf("status = %s, want %s", c.Status, tc.status)
			}
			if tc.status == "closed" && count(f.outbox(1), "confirmed_notice>csm@example.com") != 1 {
				t.Errorf("csm not told: %v", f.outbox(1))
			}
		})
	}
}

func TestAutoCloseAndReopenWindow(t *testing.T) {
	f := newFixture(t, false)
	f.mail("alice@acme.test", "Printer down", "It broke.")
	f.mail("eng1@example.com", "Re: [Case#1] Printer down", "/resolve")
	// An out-of-office answer to the confirmation request changes nothing.
	f.mail("alice@acme.test", "Automatic reply: [Case#1] Printer down", "away", "Auto-Submitted: auto-replied\r\n")
	if c, _ := f.caseN(1); c.Status != "resolved" {
		t.Fatalf("auto reply changed the case: %s", c.Status)
	}
	f.advance(thu9.Add(168 * time.Hour))
	c, _ := f.caseN(1)
	if c.Status != "closed" || count(f.outbox(1), "closed>alice@acme.test") != 1 {
		t.Fatalf("auto close: %s %v", c.Status, f.outbox(1))
	}
	// Within the reopen window: the case reopens.
	f.clk.Set(thu9.Add(200 * time.Hour))
	f.mail("alice@acme.test", "Re: [Case#1] Printer down", "It broke again")
	if c, _ := f.caseN(1); c.Status != "open" {
		t.Fatalf("not reopened: %s", c.Status)
	}
	// Close again, then write after the window: a new linked case.
	f.mail("eng1@example.com", "Re: [Case#1] x", "/close")
	f.clk.Set(thu9.Add(2000 * time.Hour))
	f.mail("alice@acme.test", "Re: [Case#1] Printer down", "And again")
	c2, _ := f.caseN(2)
	if c2.LinkedCase != 1 || c2.Status != "open" {
		t.Fatalf("follow-up case = %+v", c2)
	}
}

func TestThirdPartyCannotCommand(t *testing.T) {
	f := newFixture(t, false)
	f.mail("alice@acme.test", "Printer down", "It broke.")
	f.mail("eng1@example.com", "Re: [Case#1] Printer down", "/resolve")
	f.mail("mallory@evil.test", "Re: [Case#1] Printer down", "/close\nconfirm")
	c, evs := f.caseN(1)
	if c.Status != "resolved" {
		t.Fatalf("a third party changed the case: %s", c.Status)
	}
	if e := evs[len(evs)-1]; e.Kind != cases.EvMessageIn || !strings.Contains(e.Detail, "third party") {
		t.Errorf("last event = %+v", e)
	}
}

func TestDirectReplyWithSupportInCc(t *testing.T) {
	f := newFixture(t, false)
	f.mail("alice@acme.test", "Printer down", "It broke.")
	f.mail("eng1@example.com", "Re: [Case#1] Printer down", "Answered you directly.", "Cc: alice@acme.test\r\n")
	if count(f.outbox(1), "relay>alice@acme.test") != 0 {
		t.Error("a direct reply was relayed again")
	}
	c, _ := f.caseN(1)
	if c.RespondedAt.IsZero() {
		t.Error("a direct reply did not count as the staff response")
	}
}

func TestRequireAuthentication(t *testing.T) {
	f := newFixture(t, false)
	f.cfg.Security.RequireAuthentication = true
	f.mail("alice@acme.test", "Printer down", "It broke.")
	f.mail("eng1@example.com", "Re: [Case#1] x", "/close")
	if c, _ := f.caseN(1); c.Status != "open" {
		t.Fatal("an unauthenticated command was obeyed")
	}
	f.mail("eng1@example.com", "Re: [Case#1] x", "/close", "Authentication-Results: mx.example.com; dkim=pass header.d=example.com; dmarc=pass header.from=example.com\r\n")
	if c, _ := f.caseN(1); c.Status != "closed" {
		t.Fatal("an authenticated command was not obeyed")
	}
}

func TestSeverityAfterReopenCountsFromReopen(t *testing.T) {
	f := newFixture(t, false)
	f.mail("alice@acme.test", "Printer down", "It broke.")
	f.mail("eng1@example.com", "Re: [Case#1] x", "/resolve")
	reopen := thu9.Add(7 * 24 * time.Hour / 2) // Sunday evening; the office calendar resumes Monday 09:00
	f.clk.Set(reopen)
	f.mail("alice@acme.test", "Re: [Case#1] x", "Still broken")
	f.mail("eng1@example.com", "Re: [Case#1] x", "/severity 2")
	c, _ := f.caseN(1)
	// 4 working hours from the reopen: Monday 09:00-12:00 + 13:30-14:30.
	if want := time.Date(2026, 11, 30, 14, 30, 0, 0, thu9.Location()); !c.RespondBy.Equal(want) {
		t.Errorf("respond_by = %v, want %v", c.RespondBy.In(thu9.Location()), want)
	}
}

func TestRelayWithAttachmentAndHTMLOnlyReply(t *testing.T) {
	f := newFixture(t, false)
	f.mail("alice@acme.test", "Printer down", "It broke.")
	f.uid++
	raw := "From: Eng One <eng1@example.com>\r\nTo: support@example.com\r\nSubject: Re: [Case#1] Printer down\r\n" +
		"Message-ID: <att@example.com>\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=\"b\"\r\n\r\n" +
		"--b\r\nContent-Type: text/html; charset=utf-8\r\n\r\n" +
		"<html><body><p>Please apply the attached patch.</p><div class=\"gmail_quote\"><div dir=\"ltr\" class=\"gmail_attr\">On Thu, Nov 26, 2026 at 9:00 AM Alice &lt;alice@acme.test&gt; wrote:<br></div><blockquote class=\"gmail_quote\" style=\"margin:0px 0px 0px 0.8ex;border-left:1px solid rgb(204,204,204);padding-left:1ex\">It broke.</blockquote></div></body></html>\r\n" +
		"--b\r\nContent-Type: application/octet-stream\r\nContent-Disposition: attachment; filename=\"fix.patch\"\r\nContent-Transfer-Encoding: base64\r\n\r\nZGlmZg==\r\n--b--\r\n"
	if _, err := f.d.DeliverMail(f.ctx, mailinPlace(f.uid), []byte(raw)); err != nil {
		t.Fatal(err)
	}
	relay := lastMail(f.mails(1), "relay")
	if !strings.Contains(relay.Text, "Please apply the attached patch.") || strings.Contains(relay.Text, "It broke") || strings.Contains(relay.Text, "<p>") {
		t.Errorf("relayed text = %q", relay.Text)
	}
	if len(relay.Attachments) != 1 {
		t.Fatalf("attachments = %v", relay.Attachments)
	}
	var name string
	f.db.Read(f.ctx, func(tx *store.Txn) error {
		a, err := tx.Attachment(relay.Attachments[0])
		if err == nil {
			name = a.Filename
		}
		return err
	})
	if name != "fix.patch" {
		t.Errorf("attachment = %q", name)
	}
}

func TestCustomerCommandsAreIgnoredAndRecorded(t *testing.T) {
	f := newFixture(t, false)
	f.mail("alice@acme.test", "Printer down", "It broke.")
	f.mail("alice@acme.test", "Re: [Case#1] Printer down", "/close\n/priority critical\nplease hurry")
	c, evs := f.caseN(1)
	if c.Status != "open" || c.Priority != "normal" {
		t.Fatalf("a customer's commands changed the case: %s %s", c.Status, c.Priority)
	}
	if !strings.Contains(lastOf(evs, cases.EvNote).Detail, "commands from a non-staff sender ignored: /close; /priority critical") {
		t.Errorf("not recorded: %v", lastOf(evs, cases.EvNote))
	}
}

func TestStaffCloseTellsTheCustomer(t *testing.T) {
	f := newFixture(t, false)
	f.mail("alice@acme.test", "Printer down", "It broke.")
	f.mail("eng1@example.com", "Re: [Case#1] x", "/close")
	m := lastMail(f.mails(1), "status")
	if m.To == nil || !strings.Contains(m.Text, "已关闭") {
		t.Fatalf("no status reply on /close: %+v", m)
	}
}

func TestConsoleCommands(t *testing.T) {
	f := newFixture(t, false)
	f.mail("alice@acme.test", "Printer down", "It broke.")
	if err := f.d.Command(f.ctx, 1, "", "/onsite dispatch eng1@example.com"); err != nil {
		t.Fatal(err)
	}
	if err := f.d.Command(f.ctx, 1, "", "/part fuser unit"); err != nil {
		t.Fatal(err)
	}
	if err := f.d.Command(f.ctx, 1, "eng1@example.com", "/note called the customer"); err != nil {
		t.Fatal(err)
	}
	c, evs := f.caseN(1)
	if c.OnsiteEngineer != "eng1@example.com" || lastOf(evs, cases.EvPart).Detail != "fuser unit" || lastOf(evs, cases.EvNote).Actor != "eng1@example.com" {
		t.Fatalf("console commands not applied: %+v %v", c, evs)
	}
	err := f.d.Command(f.ctx, 1, "", "/onsite arrived now")
	var ce *CommandError
	if !errors.As(err, &ce) || len(ce.Problems) != 1 {
		t.Fatalf("bad console command: %v", err)
	}
	_, evs = f.caseN(1)
	if lastOf(evs, cases.EvCommandError).Detail == "" {
		t.Error("refusal not recorded on the case")
	}
	if err := f.d.Command(f.ctx, 1, "mallory@evil.test", "/close"); err == nil {
		t.Error("a non-staff actor was obeyed")
	}
}

// Issue 8: a command-error reply to a mail without a Message-ID carried an
// empty "<>" in References (slice aliasing).
func TestCommandErrorReferencesWithoutMessageID(t *testing.T) {
	f := newFixture(t, false)
	f.mail("alice@acme.test", "Printer down", "It broke.")
	f.uid++
	raw := "From: eng1@example.com\r\nTo: support@example.com\r\nSubject: Re: [Case#1] Printer down\r\n" +
		"References: <a@test> <b@test>\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n/severity 9\r\n"
	if _, err := f.d.DeliverMail(f.ctx, mailinPlace(f.uid), []byte(raw)); err != nil {
		t.Fatal(err)
	}
	var found bool
	for _, m := range f.mails(1) {
		if m.Kind != "command_error" {
			continue
		}
		found = true
		if m.InReplyTo != "" || len(m.References) != 2 || slices.Contains(m.References, "") {
			t.Errorf("command error threading: in-reply-to %q references %q", m.InReplyTo, m.References)
		}
	}
	if !found {
		t.Fatal("no command error reply")
	}
}

// Issue 9.8: each lifecycle step is one structured log line with case=.
func TestLifecycleLogLines(t *testing.T) {
	f := newFixture(t, false)
	var buf bytes.Buffer
	f.d.log = slog.New(slog.NewTextHandler(&buf, nil))
	f.mail("alice@acme.test", "Printer down", "It broke.")
	f.mail("eng1@example.com", "Re: [Case#1] Printer down", "/resolve\nFixed.")
	f.mail("alice@acme.test", "Re: [Case#1] Printer down", "已解决")
	for _, want := range []string{`msg="case opened" case=1`, `msg="case assigned" case=1`, `msg="case resolved" case=1`, `msg="case closed" case=1`} {
		if n := strings.Count(buf.String(), want); n != 1 {
			t.Errorf("%q logged %d times:\n%s", want, n, buf.String())
		}
	}
}
