package daemon

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/smtp"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-message/mail"
	"golang.org/x/text/encoding/simplifiedchinese"

	"helpdeskd/config"
	"helpdeskd/internal/testmail"
	"helpdeskd/store"
)

// testConfig polls every 2s as well as using IDLE: imapmemserver (beta.8)
// does not deliver an EXISTS that is queued between a session's last poll
// and the start of its IDLE, so a test relying on IDLE alone can wait for
// a whole poll interval. IDLE latency is measured on Dovecot in e2e.
const testConfig = `
[mailbox]
address = "%s"
tls = "none"
username = "support@example.com"
password = "pw"
processed_folder = "Processed"
poll_interval = "2s"

[smtp]
address = "%s"
tls = "none"
from = "Support <support@example.com>"

[database]
path = "%s"

[http]
listen = ""

[plans.5x8]
calendar = "always"

[[staff]]
name = "Wang Wei"
email = "eng1@example.com"
roles = ["engineer"]
regions = ["north"]

[[staff]]
name = "Li Na"
email = "desk@example.com"
roles = ["specialist"]

[[staff]]
name = "Zhao Min"
email = "csm@example.com"
roles = ["customer_service_manager"]

[[staff]]
name = "Chen Jie"
email = "quality@example.com"
roles = ["quality"]

[[customers]]
company = "ACME"
domains = ["acme.test"]
contacts = [{ name = "Alice", email = "alice@acme.test" }]
plan = "5x8"
region = "north"
`

// gbkMail is a Chinese customer mail in GBK, as Outlook and Foxmail send it.
func gbkMail(t *testing.T, msgID, subject, body string) []byte {
	enc := simplifiedchinese.GBK.NewEncoder()
	b, err := enc.Bytes([]byte(body))
	if err != nil {
		t.Fatal(err)
	}
	s, err := enc.String(subject)
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	fmt.Fprintf(&buf, "From: =?GBK?B?%s?= <alice@acme.test>\r\n", b64([]byte(mustGBK(t, "张丽"))))
	fmt.Fprintf(&buf, "To: support@example.com\r\nSubject: =?GBK?B?%s?=\r\n", b64([]byte(s)))
	fmt.Fprintf(&buf, "Message-ID: <%s>\r\nDate: Thu, 26 Nov 2026 09:00:00 +0800\r\nMIME-Version: 1.0\r\n", msgID)
	fmt.Fprintf(&buf, "Content-Type: text/plain; charset=GBK\r\nContent-Transfer-Encoding: base64\r\n\r\n%s\r\n", b64(b))
	return buf.Bytes()
}

type env struct {
	srv *testmail.Servers
	cfg *config.Config
}

func start(t *testing.T, opts testmail.Options) (*env, context.CancelFunc, chan error) {
	t.Helper()
	srv, err := testmail.Start(opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(srv.Close)
	for _, u := range []string{"support@example.com", "alice@acme.test", "eng1@example.com", "desk@example.com", "csm@example.com", "quality@example.com"} {
		srv.AddUser(u, "pw")
	}
	cfg, err := config.Parse("t.toml", fmt.Appendf(nil, testConfig, srv.IMAPAddr, srv.SMTPAddr, filepath.Join(t.TempDir(), "t.db")))
	if err != nil {
		t.Fatal(err)
	}
	cancel, done := runReady(t, cfg, Options{Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	return &env{srv: srv, cfg: cfg}, cancel, done
}

// runReady runs the daemon until it has caught up with the mailbox; the
// returned channel gets Run's result after cancel.
func runReady(t *testing.T, cfg *config.Config, opts Options) (context.CancelFunc, chan error) {
	t.Helper()
	ready := make(chan struct{}, 1)
	opts.OnReady = func(bool) {
		select {
		case ready <- struct{}{}:
		default:
		}
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- Run(ctx, cfg, opts) }()
	select {
	case <-ready:
	case err := <-done:
		t.Fatalf("daemon stopped: %v", err)
	case <-time.After(10 * time.Second):
		t.Fatal("daemon did not connect")
	}
	return cancel, done
}

// waitMail waits for a mail to rcpt (bounded; the servers are in-process).
func waitMail(t *testing.T, srv *testmail.Servers, rcpt string) *mail.Reader {
	t.Helper()
	deadline := time.After(30 * time.Second)
	for {
		for _, m := range srv.Sent() {
			for _, r := range m.To {
				if strings.EqualFold(r, rcpt) {
					mr, err := mail.CreateReader(bytes.NewReader(m.Data))
					if err != nil {
						t.Fatal(err)
					}
					return mr
				}
			}
		}
		select {
		case <-srv.Delivered(): // something new: look again
		case <-deadline:
			t.Fatalf("no mail to %s within 30s; sent: %d", rcpt, len(srv.Sent()))
		}
	}
}

func TestAcknowledgementOverIMAPAndSMTP(t *testing.T) {
	for _, tc := range []struct {
		name string
		opts testmail.Options
	}{{"move", testmail.Options{}}, {"no move (copy fallback)", testmail.Options{NoMove: true}}} {
		t.Run(tc.name, func(t *testing.T) {
			e, cancel, done := start(t, tc.opts)
			raw := gbkMail(t, "gbk-1@acme.test", "数据库无法启动", "您好，数据库服务无法启动，请尽快处理。\r\n")
			if err := smtp.SendMail(e.srv.SMTPAddr, nil, "alice@acme.test", []string{"support@example.com"}, raw); err != nil {
				t.Fatal(err)
			}
			ack := waitMail(t, e.srv, "alice@acme.test")
			subj, _ := ack.Header.Subject()
			if subj != "[Case#1] 数据库无法启动" {
				t.Errorf("subject = %q", subj)
			}
			if got := ack.Header.Get("In-Reply-To"); got != "<gbk-1@acme.test>" {
				t.Errorf("In-Reply-To = %q", got)
			}
			if got := ack.Header.Get("Auto-Submitted"); got != "auto-replied" {
				t.Errorf("Auto-Submitted = %q", got)
			}
			if id := ack.Header.Get("Message-Id"); !strings.HasPrefix(id, "<case-1.ack.") || !strings.HasSuffix(id, "@example.com>") {
				t.Errorf("Message-Id = %q", id)
			}
			p, err := ack.NextPart()
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(p.Body)
			if !strings.Contains(string(body), "Alice，您好") || !strings.Contains(string(body), "[Case#1]") {
				t.Errorf("ack body lacks the greeting or token:\n%s", body)
			}
			for _, staff := range []string{"eng1@example.com", "desk@example.com", "csm@example.com", "quality@example.com"} {
				n := waitMail(t, e.srv, staff)
				if s, _ := n.Header.Subject(); !strings.Contains(s, "[Case#1]") {
					t.Errorf("notification to %s: subject %q", staff, s)
				}
				if got := n.Header.Get("Auto-Submitted"); got != "auto-generated" {
					t.Errorf("notification Auto-Submitted = %q", got)
				}
			}
			cancel()
			if err := <-done; err != nil {
				t.Fatal(err)
			}
			// The case is stored with the decoded description, and the
			// message moved out of the INBOX.
			db, err := store.Open(context.Background(), e.cfg.Database.Path)
			if err != nil {
				t.Fatal(err)
			}
			defer db.Close()
			err = db.Read(context.Background(), func(tx *store.Txn) error {
				c, err := tx.Case(1)
				if err != nil {
					return err
				}
				if c.Description != "您好，数据库服务无法启动，请尽快处理。" || c.ContactName != "Alice" || c.Engineer != "eng1@example.com" {
					t.Errorf("case = %+v", c)
				}
				v, last, err := tx.MailboxState("INBOX")
				if v == 0 || last != 1 {
					t.Errorf("mailbox state = %d %d", v, last)
				}
				return err
			})
			if err != nil {
				t.Fatal(err)
			}
		})
	}
}
