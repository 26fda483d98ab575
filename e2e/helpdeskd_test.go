//go:build e2e

package e2e

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"mime"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-message/mail"
	"golang.org/x/text/encoding/simplifiedchinese"
)

// daemon is a running helpdeskd binary with its own config and database.
type daemon struct {
	cfgPath string
	cmd     *exec.Cmd
	log     *bytes.Buffer
	bin     string
}

const e2eConfig = `
[mailbox]
address = "%[1]s"
tls = "none"
username = "support@example.test"
password_env = "E2E_PASSWORD"
processed_folder = "Processed"
poll_interval = "30s"

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
first = "2s"
second = "4s"
every = "3s"
full_schedule = [1, 2, 3]
warning = "0s"

[severities.3]
respond = "%[4]s"
solve_online = "1h"
onsite = "1h"

[escalation]
stuck_after = "1h"

[policy]
auto_reply_limit = 100

[[staff]]
name = "Wang Wei"
email = "eng1@example.test"
roles = ["engineer"]
regions = ["north"]

[[staff]]
name = "Li Na"
email = "desk@example.test"
roles = ["specialist"]

[[staff]]
name = "Zhao Min"
email = "csm@example.test"
roles = ["customer_service_manager"]

[[staff]]
name = "Sun Hao"
email = "scm@example.test"
roles = ["service_centre_manager"]

[[staff]]
name = "Chen Jie"
email = "quality@example.test"
roles = ["quality"]

[[customers]]
company = "ACME"
domains = ["acme.test"]
contacts = [{ name = "Alice", email = "alice@acme.test" }]
plan = "5x8"
region = "north"
`

func startDaemon(t *testing.T, s *MailStack, respond string) *daemon {
	t.Helper()
	return startDaemonConfig(t, s, func(db string) string {
		return fmt.Sprintf(e2eConfig, os.Getenv("E2E_IMAP"), os.Getenv("E2E_SMTP"), db, respond)
	})
}

// startDaemonConfig starts helpdeskd serve with the config that config
// writes for a database path, once `check` accepts it.
func startDaemonConfig(t *testing.T, s *MailStack, config func(db string) string) *daemon {
	t.Helper()
	bin := BuildBinary(t)
	dir := t.TempDir()
	cfgPath := filepath.Join(dir, "helpdeskd.toml")
	cfg := config(filepath.Join(dir, "hd.db"))
	if err := os.WriteFile(cfgPath, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(bin, "check", "--config", cfgPath).CombinedOutput()
	if err != nil {
		t.Fatalf("check: %v\n%s", err, out)
	}
	d := &daemon{cfgPath: cfgPath, log: &bytes.Buffer{}, bin: bin}
	d.cmd = exec.Command(bin, "serve", "--config", cfgPath)
	d.cmd.Stderr = d.log
	if err := d.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		d.cmd.Process.Signal(os.Interrupt)
		done := make(chan error, 1)
		go func() { done <- d.cmd.Wait() }()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("serve did not exit 0 on SIGINT: %v", err)
			}
		case <-time.After(20 * time.Second):
			d.cmd.Process.Kill()
			t.Error("serve did not stop within 20s of SIGINT")
		}
		if t.Failed() {
			t.Logf("daemon log:\n%s", d.log.String())
		}
	})
	// Wait until the daemon is connected and idle.
	deadline := time.Now().Add(15 * time.Second)
	for !strings.Contains(d.log.String(), "imap connected") {
		if time.Now().After(deadline) {
			t.Fatalf("daemon did not connect:\n%s", d.log.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
	return d
}

func (d *daemon) show(t *testing.T, n int) map[string]any {
	t.Helper()
	out, err := exec.Command(d.bin, "case", "show", fmt.Sprint(n), "--json", "--config", d.cfgPath).Output()
	if err != nil {
		t.Fatalf("case show: %v", err)
	}
	var m map[string]any
	if err := json.Unmarshal(out, &m); err != nil {
		t.Fatalf("case show json: %v\n%s", err, out)
	}
	return m
}

func gbk(t *testing.T, s string) []byte {
	b, err := simplifiedchinese.GBK.NewEncoder().Bytes([]byte(s))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func customerMail(t *testing.T, msgID string) []byte {
	var b bytes.Buffer
	fmt.Fprintf(&b, "From: =?GBK?B?%s?= <alice@acme.test>\r\n", base64.StdEncoding.EncodeToString(gbk(t, "张丽")))
	fmt.Fprintf(&b, "To: support@example.test\r\nSubject: =?GBK?B?%s?=\r\n", base64.StdEncoding.EncodeToString(gbk(t, "数据库服务无法启动")))
	fmt.Fprintf(&b, "Message-ID: <%s>\r\nDate: %s\r\nMIME-Version: 1.0\r\n", msgID, time.Now().Format(time.RFC1123Z))
	fmt.Fprintf(&b, "Content-Type: text/plain; charset=GBK\r\nContent-Transfer-Encoding: base64\r\n\r\n%s\r\n",
		base64.StdEncoding.EncodeToString(gbk(t, "您好，升级后数据库服务无法启动，请尽快处理。\r\n")))
	return b.Bytes()
}

func bodyOf(t *testing.T, raw []byte) string {
	r, err := mail.CreateReader(bytes.NewReader(raw))
	if err != nil {
		t.Fatal(err)
	}
	p, err := r.NextPart()
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(p.Body)
	return string(b)
}

func header(t *testing.T, raw []byte, k string) string {
	r, err := mail.CreateReader(bytes.NewReader(raw))
	if err != nil {
		t.Fatal(err)
	}
	if k == "Subject" {
		s, _ := r.Header.Subject()
		return s
	}
	return r.Header.Get(k)
}

func resetMailboxes(t *testing.T, s *MailStack) {
	for _, u := range strings.Fields(os.Getenv("E2E_USERS")) {
		s.Clear(t, u)
	}
}

// TestAcknowledgementOnRealStack: a GBK mail through Postfix to support@
// is answered in the customer's Dovecot mailbox with the token,
// In-Reply-To, Auto-Submitted and the Chinese text intact; the staff are
// notified; the reply schedule and a respond escalation arrive with short
// wall-clock settings.
func TestAcknowledgementOnRealStack(t *testing.T) {
	s := Stack(t)
	resetMailboxes(t, s)
	d := startDaemon(t, s, "6s")
	msgID := fmt.Sprintf("e2e-%d@acme.test", time.Now().UnixNano())
	sent := time.Now()
	s.Send(t, "alice@acme.test", []string{"support@example.test"}, customerMail(t, msgID))

	ack := s.WaitFor(t, "alice@acme.test", 20*time.Second, func(f Fetched) bool {
		return strings.Contains(header(t, f.Raw, "Subject"), "[Case#1]") && header(t, f.Raw, "Auto-Submitted") == "auto-replied"
	})
	t.Logf("acknowledgement in the customer's mailbox %v after the mail was sent", time.Since(sent).Round(time.Millisecond))
	if got := header(t, ack.Raw, "In-Reply-To"); got != "<"+msgID+">" {
		t.Errorf("In-Reply-To = %q, want <%s>", got, msgID)
	}
	if got := header(t, ack.Raw, "Subject"); got != "[Case#1] 数据库服务无法启动" {
		t.Errorf("Subject = %q", got)
	}
	if body := bodyOf(t, ack.Raw); !strings.Contains(body, "已为您开启服务单 [Case#1]") || !strings.Contains(body, "Alice，您好") {
		t.Errorf("acknowledgement body:\n%s", body)
	}
	for _, u := range []string{"eng1@example.test", "desk@example.test", "csm@example.test", "quality@example.test"} {
		s.WaitFor(t, u, 20*time.Second, func(f Fetched) bool { return strings.Contains(header(t, f.Raw, "Subject"), "[Case#1]") })
	}

	// The schedule with short settings: the second reply at 4s, then every 3s.
	s.WaitFor(t, "alice@acme.test", 30*time.Second, func(f Fetched) bool {
		return strings.Contains(bodyOf(t, f.Raw), "故障情况和处理状态")
	})
	s.WaitFor(t, "alice@acme.test", 30*time.Second, func(f Fetched) bool {
		return strings.Contains(bodyOf(t, f.Raw), "当前处理进度")
	})
	// No staff response within 6s: escalation to the customer service manager.
	s.WaitFor(t, "csm@example.test", 30*time.Second, func(f Fetched) bool {
		return strings.HasPrefix(header(t, f.Raw, "Subject"), "升级 [Case#1]")
	})
	c := d.show(t, 1)
	if c["priority"] != "high" || c["status"] != "open" || c["engineer"] != "eng1@example.test" {
		t.Errorf("case = %v", c)
	}
	found := false
	for _, e := range c["events"].([]any) {
		if ev := e.(map[string]any); ev["kind"] == "escalated" && strings.Contains(ev["detail"].(string), "respond_by") {
			found = true
		}
	}
	if !found {
		t.Errorf("no escalated event in %v", c["events"])
	}
}

// TestStaffWorkflowOnRealStack: an engineer's reply from their own mailbox
// is relayed without the quote; /note reaches staff only; a bad command is
// answered; /resolve asks the customer, who answers 已解决 and the case closes.
func TestStaffWorkflowOnRealStack(t *testing.T) {
	s := Stack(t)
	resetMailboxes(t, s)
	d := startDaemon(t, s, "1h")
	msgID := fmt.Sprintf("e2e-%d@acme.test", time.Now().UnixNano())
	s.Send(t, "alice@acme.test", []string{"support@example.test"}, customerMail(t, msgID))
	notice := s.WaitFor(t, "eng1@example.test", 20*time.Second, func(f Fetched) bool {
		return strings.Contains(header(t, f.Raw, "Subject"), "[Case#1]")
	})
	noticeID := header(t, notice.Raw, "Message-Id")

	reply := func(body string) []byte {
		return []byte("From: Wang Wei <eng1@example.test>\r\nTo: support@example.test\r\n" +
			"Subject: " + mime.BEncoding.Encode("UTF-8", "Re: "+header(t, notice.Raw, "Subject")) + "\r\n" +
			fmt.Sprintf("Message-ID: <r%d@example.test>\r\n", time.Now().UnixNano()) +
			"In-Reply-To: " + noticeID + "\r\nMIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n" + body)
	}
	s.Send(t, "eng1@example.test", []string{"support@example.test"}, reply(
		"请重启数据库服务后再试。\r\n\r\n在 2026-11-26 10:00:00，\"Support\" <support@example.test> 写道：\r\n> 新服务单已开启\r\n> 故障描述\r\n"))
	relay := s.WaitFor(t, "alice@acme.test", 20*time.Second, func(f Fetched) bool {
		return strings.Contains(bodyOf(t, f.Raw), "请重启数据库服务后再试")
	})
	if body := bodyOf(t, relay.Raw); strings.Contains(body, "写道") || strings.Contains(body, "新服务单已开启") || !strings.Contains(body, "Wang Wei") {
		t.Errorf("relayed reply:\n%s", body)
	}
	if header(t, relay.Raw, "Auto-Submitted") != "" || header(t, relay.Raw, "In-Reply-To") != "<"+msgID+">" {
		t.Errorf("relay headers: Auto-Submitted %q In-Reply-To %q", header(t, relay.Raw, "Auto-Submitted"), header(t, relay.Raw, "In-Reply-To"))
	}

	s.Send(t, "eng1@example.test", []string{"support@example.test"}, reply("/note 客户环境是 RHEL 8，端口 5432 被占用\r\n"))
	s.WaitFor(t, "csm@example.test", 20*time.Second, func(f Fetched) bool {
		return strings.Contains(bodyOf(t, f.Raw), "端口 5432 被占用")
	})

	s.Send(t, "eng1@example.test", []string{"support@example.test"}, reply("/severity 9\r\n"))
	s.WaitFor(t, "eng1@example.test", 20*time.Second, func(f Fetched) bool {
		return strings.Contains(bodyOf(t, f.Raw), "/severity 9: \"9\" is not a configured severity")
	})

	s.Send(t, "eng1@example.test", []string{"support@example.test"}, reply("/resolve\r\n"))
	confirm := s.WaitFor(t, "alice@acme.test", 20*time.Second, func(f Fetched) bool {
		return strings.Contains(bodyOf(t, f.Raw), "请回复本邮件确认故障已解决")
	})
	s.Send(t, "alice@acme.test", []string{"support@example.test"}, []byte("From: Alice <alice@acme.test>\r\nTo: support@example.test\r\n"+
		"Subject: "+mime.BEncoding.Encode("UTF-8", "Re: "+header(t, confirm.Raw, "Subject"))+"\r\n"+fmt.Sprintf("Message-ID: <c%d@acme.test>\r\n", time.Now().UnixNano())+
		"MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n已解决，谢谢！\r\n"))
	s.WaitFor(t, "csm@example.test", 20*time.Second, func(f Fetched) bool {
		return strings.Contains(header(t, f.Raw, "Subject"), "客户已确认")
	})
	c := d.show(t, 1)
	var kinds []string
	for _, e := range c["events"].([]any) {
		kinds = append(kinds, e.(map[string]any)["kind"].(string))
	}
	sort.Strings(kinds)
	if c["status"] != "closed" || !strings.Contains(strings.Join(kinds, ","), "confirmed") || !strings.Contains(strings.Join(kinds, ","), "note") {
		t.Errorf("case = %v %v", c["status"], kinds)
	}
}

var _ = context.Background

// TestAckLatencyOnRealStack measures, on the real stack with IDLE, the time
// from handing a customer mail to Postfix until the acknowledgement is in
// the customer's Dovecot mailbox, over several mails, and logs the median.
// It asserts the flow, not the time (figures belong in the closing note).
func TestAckLatencyOnRealStack(t *testing.T) {
	s := Stack(t)
	resetMailboxes(t, s)
	startDaemon(t, s, "1h")
	var lat []time.Duration
	for i := 1; i <= 9; i++ {
		msgID := fmt.Sprintf("lat-%d-%d@acme.test", i, time.Now().UnixNano())
		sent := time.Now()
		s.Send(t, "alice@acme.test", []string{"support@example.test"}, customerMail(t, msgID))
		s.WaitFor(t, "alice@acme.test", 20*time.Second, func(f Fetched) bool {
			return header(t, f.Raw, "In-Reply-To") == "<"+msgID+">" && header(t, f.Raw, "Auto-Submitted") == "auto-replied"
		})
		lat = append(lat, time.Since(sent))
	}
	sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
	t.Logf("acknowledgement latency over %d mails: median %v, min %v, max %v", len(lat),
		lat[len(lat)/2].Round(time.Millisecond), lat[0].Round(time.Millisecond), lat[len(lat)-1].Round(time.Millisecond))
}

// TestHotlineCaseOnRealStack: a case taken on the phone with `case open`
// while the daemon runs gets the customer the same acknowledgement.
func TestHotlineCaseOnRealStack(t *testing.T) {
	s := Stack(t)
	resetMailboxes(t, s)
	d := startDaemon(t, s, "1h")
	out, err := exec.Command(d.bin, "case", "open", "--config", d.cfgPath, "--company", "ACME", "--contact", "Alice",
		"--phone", "+86 10 1234", "--email", "alice@acme.test", "--severity", "2", "--subject", "热线：打印服务中断",
		"--body", "客户来电：打印服务中断。").CombinedOutput()
	if err != nil || strings.TrimSpace(string(out)) != "1" {
		t.Fatalf("case open: %v %q", err, out)
	}
	ack := s.WaitFor(t, "alice@acme.test", 20*time.Second, func(f Fetched) bool {
		return header(t, f.Raw, "Subject") == "[Case#1] 热线：打印服务中断" && header(t, f.Raw, "Auto-Submitted") == "auto-replied"
	})
	if body := bodyOf(t, ack.Raw); !strings.Contains(body, "故障级别：2 级") {
		t.Errorf("hotline acknowledgement:\n%s", body)
	}
	c := d.show(t, 1)
	if c["severity"].(float64) != 2 || c["contact_email"] != "alice@acme.test" {
		t.Errorf("case = %v", c)
	}
}
