//go:build e2e

package e2e

import (
	"bytes"
	"encoding/base64"
	"fmt"
	"io"
	"mime"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-message/mail"
)

// rulesConfig is the e2e config for the service rules of SPEC §11: ACME
// bought hotline and email only (no on-site service, no installation),
// Globex bought inspections (one due today), Dead Corp's address bounces.
const rulesConfig = `
[mailbox]
address = "%[1]s"
tls = "none"
username = "support@example.test"
password_env = "E2E_PASSWORD"
processed_folder = "Processed"
poll_interval = "30s"
answer_backlog = "24h"

[smtp]
address = "%[2]s"
tls = "none"
from = "Support <support@example.test>"

[database]
path = "%[3]s"

[http]
listen = ""

[plans.5x8]
calendar = "always"
priority = "normal"

[replies]
first = "1h"
second = "2h"
every = "3h"
warning = "0s"

[severities.3]
respond = "1h"
solve_online = "%[4]s"
onsite = "1h"

[escalation]
stuck_after = "1h"

[[staff]]
name = "Wang Wei"
email = "eng1@example.test"
roles = ["engineer"]
regions = ["north"]

[[staff]]
name = "Zhao Min"
email = "csm@example.test"
roles = ["customer_service_manager"]

[[staff]]
name = "Sun Hao"
email = "scm@example.test"
roles = ["service_centre_manager"]

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
plan = "5x8"
region = "north"
services = ["hotline", "email", "inspection"]
inspections = ["%[5]s"]

[[customers]]
company = "Dead Corp"
domains = ["bounce.test"]
contacts = [{ name = "Dave", email = "dave@bounce.test" }]
plan = "5x8"
region = "north"
`

func startRulesDaemon(t *testing.T, s *MailStack, solve string) *daemon {
	t.Helper()
	today := time.Now().UTC().Format(time.DateOnly)
	return startDaemonConfig(t, s, func(db string) string {
		return fmt.Sprintf(rulesConfig, os.Getenv("E2E_IMAP"), os.Getenv("E2E_SMTP"), db, solve, today)
	})
}

// plainMail is a UTF-8 text mail.
func plainMail(from, subject, body string, extra ...string) []byte {
	return []byte(fmt.Sprintf("From: %s\r\nTo: support@example.test\r\nSubject: %s\r\nMessage-ID: <r%d@e2e.test>\r\nDate: %s\r\n%s"+
		"MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n%s\r\n",
		from, mime.BEncoding.Encode("UTF-8", subject), time.Now().UnixNano(), time.Now().Format(time.RFC1123Z), strings.Join(extra, ""), body))
}

func subjectHas(t *testing.T, s string) func(Fetched) bool {
	return func(f Fetched) bool { return strings.Contains(header(t, f.Raw, "Subject"), s) }
}

func events(c map[string]any, kind string) []string {
	var out []string
	for _, e := range c["events"].([]any) {
		if ev := e.(map[string]any); ev["kind"] == kind {
			out = append(out, fmt.Sprint(ev["detail"]))
		}
	}
	return out
}

// attachmentNames lists the attachment file names of a raw mail, each
// with its size.
func attachmentNames(t *testing.T, raw []byte) []string {
	var names []string
	for _, a := range attachmentsOf(t, raw) {
		names = append(names, fmt.Sprintf("%s:%d", a.name, len(a.data)))
	}
	return names
}

type attached struct {
	name string
	data []byte
}

// attachmentsOf reads the attachments of a raw mail, in order.
func attachmentsOf(t *testing.T, raw []byte) []attached {
	r, err := mail.CreateReader(bytes.NewReader(raw))
	if err != nil {
		t.Fatal(err)
	}
	var out []attached
	for {
		p, err := r.NextPart()
		if err != nil {
			break
		}
		if h, ok := p.Header.(*mail.AttachmentHeader); ok {
			n, _ := h.Filename()
			b, _ := io.ReadAll(p.Body)
			out = append(out, attached{n, b})
		}
	}
	return out
}

// TestInspectionOnRealStack (SPEC §11.7): an inspection due today opens at
// start and its engineer is told; the engineer's reply with a PDF reaches
// the customer as the inspection report, with the PDF.
func TestInspectionOnRealStack(t *testing.T) {
	s := Stack(t)
	resetMailboxes(t, s)
	d := startRulesDaemon(t, s, "1h")
	notice := s.WaitFor(t, "eng1@example.test", 30*time.Second, subjectHas(t, "[Case#1]"))
	if body := bodyOf(t, notice.Raw); !strings.Contains(body, "定期巡检") {
		t.Errorf("inspection notice:\n%s", body)
	}
	c := d.show(t, 1)
	if c["kind"] != "inspection" || c["company"] != "Globex" || len(events(c, "inspection_due")) != 1 {
		t.Fatalf("inspection case = %v", c)
	}
	pdf := "%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"
	raw := fmt.Sprintf("From: Wang Wei <eng1@example.test>\r\nTo: support@example.test\r\nSubject: %s\r\n"+
		"Message-ID: <insp%d@example.test>\r\nIn-Reply-To: %s\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=\"XX\"\r\n\r\n"+
		"--XX\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n巡检完成，报告见附件。\r\n"+
		"--XX\r\nContent-Type: application/pdf; name=\"report.pdf\"\r\nContent-Disposition: attachment; filename=\"report.pdf\"\r\nContent-Transfer-Encoding: base64\r\n\r\n%s\r\n--XX--\r\n",
		mime.BEncoding.Encode("UTF-8", "Re: "+header(t, notice.Raw, "Subject")), time.Now().UnixNano(), header(t, notice.Raw, "Message-Id"),
		base64.StdEncoding.EncodeToString([]byte(pdf)))
	s.Send(t, "eng1@example.test", []string{"support@example.test"}, []byte(raw))
	report := s.WaitFor(t, "carol@globex.test", 30*time.Second, subjectHas(t, "巡检报告"))
	if names := attachmentNames(t, report.Raw); len(names) != 1 || names[0] != fmt.Sprintf("report.pdf:%d", len(pdf)) {
		t.Errorf("report attachments = %v", names)
	}
	if body := bodyOf(t, report.Raw); !strings.Contains(body, "巡检完成") {
		t.Errorf("report body:\n%s", body)
	}
}

// TestServicesOnRealStack (SPEC §11.6, §11.8): a training request for a
// customer without installation is refused, through the binary and by
// mail; a solve slip for a customer without on-site service escalates
// without asking for a dispatch, and the customer is offered a visit.
func TestServicesOnRealStack(t *testing.T) {
	s := Stack(t)
	resetMailboxes(t, s)
	d := startRulesDaemon(t, s, "8s")
	s.WaitFor(t, "eng1@example.test", 30*time.Second, subjectHas(t, "[Case#1]")) // today's inspection
	s.Send(t, "alice@acme.test", []string{"support@example.test"}, plainMail("Alice <alice@acme.test>", "服务无法启动", "升级后服务无法启动。"))
	notice := s.WaitFor(t, "eng1@example.test", 30*time.Second, subjectHas(t, "[Case#2]"))

	s.Send(t, "eng1@example.test", []string{"support@example.test"},
		plainMail("Wang Wei <eng1@example.test>", "Re: "+header(t, notice.Raw, "Subject"), "/kind training 2026-12-20"))
	refusal := s.WaitFor(t, "eng1@example.test", 30*time.Second, subjectHas(t, "命令有误"))
	if body := bodyOf(t, refusal.Raw); !strings.Contains(body, "installation") {
		t.Errorf("training refusal:\n%s", body)
	}
	out, err := exec.Command(d.bin, "case", "open", "--config", d.cfgPath, "--company", "ACME", "--contact", "Alice",
		"--phone", "1", "--email", "alice@acme.test", "--severity", "3", "--subject", "培训", "--body", "x",
		"--kind", "training", "--date", "2026-12-20").CombinedOutput()
	if err == nil || !strings.Contains(string(out), "installation") {
		t.Errorf("case open --kind training for a customer without installation: %v\n%s", err, out)
	}

	// solve_online = 8s: the slip escalates as "no on-site service".
	esc := s.WaitFor(t, "csm@example.test", 60*time.Second, func(f Fetched) bool {
		return strings.HasPrefix(header(t, f.Raw, "Subject"), "升级 [Case#2]")
	})
	if body := bodyOf(t, esc.Raw); !strings.Contains(body, "未购买现场服务") || strings.Contains(body, "请派工") {
		t.Errorf("solve escalation:\n%s", body)
	}
	offer := s.WaitFor(t, "alice@acme.test", 30*time.Second, func(f Fetched) bool {
		return strings.Contains(bodyOf(t, f.Raw), "不含现场服务")
	})
	if !strings.Contains(header(t, offer.Raw, "Subject"), "[Case#2]") {
		t.Errorf("visit offer subject %q", header(t, offer.Raw, "Subject"))
	}
	c := d.show(t, 2)
	if got := events(c, "escalated"); len(got) != 1 || !strings.HasPrefix(got[0], "solve:") {
		t.Errorf("escalations = %v", got)
	}
}

// TestBounceOnRealStack (issue 11): an acknowledgement to an address
// Postfix cannot deliver comes back as Postfix's own bounce, lands as
// delivery_failed on the case, the engineer and the customer service
// manager are told, and nothing is sent to the bounce's sender.
func TestBounceOnRealStack(t *testing.T) {
	s := Stack(t)
	resetMailboxes(t, s)
	d := startRulesDaemon(t, s, "1h")
	s.WaitFor(t, "eng1@example.test", 30*time.Second, subjectHas(t, "[Case#1]")) // today's inspection
	s.Send(t, "dave@bounce.test", []string{"support@example.test"}, plainMail("Dave <dave@bounce.test>", "Disk full", "Our disk is full."))
	for _, u := range []string{"eng1@example.test", "csm@example.test"} {
		n := s.WaitFor(t, u, 60*time.Second, subjectHas(t, "投递失败 [Case#2]"))
		if body := bodyOf(t, n.Raw); !strings.Contains(body, "dave@bounce.test") || !strings.Contains(body, "5.1.1") {
			t.Errorf("%s told:\n%s", u, body)
		}
	}
	c := d.show(t, 2)
	failed := events(c, "delivery_failed")
	// "(bounce)": learned from Postfix's DSN, not from our own SMTP session.
	if len(failed) != 1 || !strings.Contains(failed[0], "dave@bounce.test") || !strings.Contains(failed[0], "5.1.1") || !strings.Contains(failed[0], "(bounce)") {
		t.Fatalf("delivery_failed events = %v (all: %v)", failed, c["events"])
	}
	if c["status"] != "open" {
		t.Errorf("the bounce changed the case: %v", c["status"])
	}
	// Nothing answered the bounce: the only case is Dave's and the
	// inspection, and no mail went to a mailer-daemon address.
	out, err := exec.Command(d.bin, "case", "list", "--status", "all", "--json", "--config", d.cfgPath).Output()
	if err != nil {
		t.Fatal(err)
	}
	if n := strings.Count(string(out), `"number"`); n != 2 {
		t.Errorf("%d cases after the bounce, want 2:\n%s", n, out)
	}
	if strings.Contains(strings.ToLower(d.log.String()), "rcpt=mailer-daemon") {
		t.Errorf("mail sent to the bounce's sender:\n%s", d.log.String())
	}
}

// TestArchiveImportOnRealStack (SPEC §11.1): a mailbox filled by APPEND
// with old INTERNALDATEs plus fresh deliveries: the archived cases are
// closed with nothing sent, the fresh ones answered.
func TestArchiveImportOnRealStack(t *testing.T) {
	s := Stack(t)
	resetMailboxes(t, s)
	old := time.Now().Add(-21 * 24 * time.Hour)
	for i := 0; i < 3; i++ {
		s.AppendAt(t, "support@example.test", "INBOX",
			plainMail("Alice <alice@acme.test>", fmt.Sprintf("旧问题 %d", i), "很久以前的问题。"), old.Add(time.Duration(i)*time.Hour))
	}
	// A fresh delivery through Postfix, waiting in the INBOX with the old mail.
	s.Send(t, "alice@acme.test", []string{"support@example.test"}, plainMail("Alice <alice@acme.test>", "新问题", "刚刚发生的问题。"))
	s.WaitFor(t, "support@example.test", 20*time.Second, subjectHas(t, "新问题"))
	d := startRulesDaemon(t, s, "1h")
	ack := s.WaitFor(t, "alice@acme.test", 30*time.Second, subjectHas(t, "新问题"))
	deadline := time.Now().Add(20 * time.Second)
	for !strings.Contains(d.log.String(), "first sync done") {
		if time.Now().After(deadline) {
			t.Fatalf("no first sync summary:\n%s", d.log.String())
		}
		time.Sleep(100 * time.Millisecond)
	}
	if !strings.Contains(d.log.String(), "archived=3") || !strings.Contains(d.log.String(), "answered=1") {
		t.Errorf("first sync summary:\n%s", d.log.String())
	}
	archived := 0
	for n := 1; n <= 5; n++ {
		out, err := exec.Command(d.bin, "case", "show", fmt.Sprint(n), "--json", "--config", d.cfgPath).Output()
		if err != nil {
			continue
		}
		if strings.Contains(string(out), `"imported"`) {
			archived++
			c := d.show(t, n)
			if c["status"] != "closed" || len(events(c, "reply_out")) != 0 || len(events(c, "notified")) != 0 {
				t.Errorf("archived case %d: %v", n, c)
			}
		}
	}
	if archived != 3 {
		t.Errorf("%d archived cases, want 3", archived)
	}
	msgs := s.Messages(t, "alice@acme.test")
	for _, m := range msgs {
		if strings.Contains(header(t, m.Raw, "Subject"), "旧问题") {
			t.Errorf("archived mail answered: %s", header(t, m.Raw, "Subject"))
		}
	}
	_ = ack
}
