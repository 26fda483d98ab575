package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"mime"
	"net/smtp"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/emersion/go-message/mail"

	"helpdeskd/cases"
	"helpdeskd/config"
	"helpdeskd/daemon"
	"helpdeskd/internal/testmail"
)

const demoPassword = "demo"

const demoConfig = `
[mailbox]
address = "%s"
tls = "none"
username = "support@example.com"
password = "demo"
processed_folder = "Processed"
poll_interval = "5s"

[smtp]
address = "%s"
tls = "none"
from = "Support <support@example.com>"

[database]
path = "%s"

[http]
listen = ""

[calendars.office]
timezone = "Asia/Shanghai"
days = ["mon", "tue", "wed", "thu", "fri"]
hours = ["09:00-12:00", "13:30-18:00"]

[plans.5x8]
calendar = "office"
priority = "normal"

[plans.7x24]
calendar = "always"
priority = "high"
respond_within = "4h"

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

[[staff]]
name = "Sun Hao"
email = "scm@example.com"
roles = ["service_centre_manager"]

[[customers]]
company = "ACME"
domains = ["acme.test"]
contacts = [{ name = "Alice", email = "alice@acme.test", phone = "+86 10 1234" }]
plan = "7x24"
region = "north"
language = "zh"
`

const demoMail = "From: Alice <alice@acme.test>\r\n" +
	"To: support@example.com\r\n" +
	"Subject: =?UTF-8?B?5pWw5o2u5bqT5pyN5Yqh5peg5rOV5ZCv5Yqo?=\r\n" + // 数据库服务无法启动
	"Message-ID: <demo-1@acme.test>\r\n" +
	"Date: %s\r\n" +
	"MIME-Version: 1.0\r\n" +
	"Content-Type: text/plain; charset=utf-8\r\n" +
	"Content-Transfer-Encoding: 8bit\r\n" +
	"\r\n" +
	"您好，\r\n\r\n今天上午升级后，数据库服务无法启动，日志显示端口被占用。\r\n请尽快协助处理。\r\n\r\nAlice\r\n"

func cmdDemo(args []string, stdout io.Writer) error {
	fs, _ := newFlags("demo")
	keep := fs.Bool("keep", false, "keep running after the demo; point a mail client at the servers")
	verbose := fs.Bool("v", false, "show the daemon's log")
	if err := noArgs(fs, args); err != nil {
		return err
	}
	srv, err := testmail.Start(testmail.Options{})
	if err != nil {
		return fmt.Errorf("start demo mail servers: %w", err)
	}
	defer srv.Close()
	for _, u := range []string{"support@example.com", "alice@acme.test", "eng1@example.com", "desk@example.com",
		"csm@example.com", "quality@example.com", "scm@example.com"} {
		srv.AddUser(u, demoPassword)
	}
	dir, err := os.MkdirTemp("", "helpdeskd-demo-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	cfg, err := config.Parse("demo.toml", fmt.Appendf(nil, demoConfig, srv.IMAPAddr, srv.SMTPAddr, filepath.Join(dir, "demo.db")))
	if err != nil {
		return fmt.Errorf("demo config: %w", err)
	}

	var mu sync.Mutex
	say := func(format string, a ...any) {
		mu.Lock()
		defer mu.Unlock()
		fmt.Fprintf(stdout, "%s  %s\n", time.Now().Format("15:04:05.000"), fmt.Sprintf(format, a...))
	}
	logOut := io.Discard
	if *verbose {
		logOut = os.Stderr
	}
	ready := make(chan struct{}, 1)
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	done := make(chan error, 1)
	closed := make(chan struct{}, 1) // the case's closed event was printed
	go func() {
		done <- daemon.Run(ctx, cfg, daemon.Options{
			Logger: slog.New(slog.NewTextHandler(logOut, nil)),
			OnEvent: func(e cases.Event) {
				detail := strings.Join(strings.Fields(e.Detail), " ")
				if r := []rune(detail); len(r) > 90 {
					detail = string(r[:90]) + "…"
				}
				say("%s", strings.TrimRight(fmt.Sprintf("case %d: %-14s %s %s", e.Case, e.Kind, e.Actor, detail), " "))
				if e.Kind == cases.EvClosed {
					select {
					case closed <- struct{}{}:
					default:
					}
				}
			},
			OnReady: func(idle bool) {
				select {
				case ready <- struct{}{}:
				default:
				}
			},
		})
	}()
	say("embedded IMAP server on %s, SMTP server on %s", srv.IMAPAddr, srv.SMTPAddr)
	select {
	case <-ready:
	case err := <-done:
		return fmt.Errorf("daemon stopped: %v", err)
	case <-time.After(10 * time.Second):
		return fmt.Errorf("daemon did not connect to the embedded IMAP server")
	}
	say("helpdeskd is watching support@example.com (IMAP IDLE)")

	raw := fmt.Sprintf(demoMail, time.Now().Format(time.RFC1123Z))
	if err := smtp.SendMail(srv.SMTPAddr, nil, "alice@acme.test", []string{"support@example.com"}, []byte(raw)); err != nil {
		return fmt.Errorf("send demo mail: %w", err)
	}
	say("customer mail sent: alice@acme.test -> support@example.com, \"数据库服务无法启动\"")

	// Watch what the daemon sends. Mail written by the demo's "people"
	// (customer and engineer) is not printed again.
	deadline := time.After(20 * time.Second)
	people := map[string]bool{"alice@acme.test": true, "eng1@example.com": true}
	await := func(what string, want map[string]string) error {
		for len(want) > 0 {
			select {
			case m := <-srv.Delivered():
				if people[m.From] {
					continue
				}
				printMail(say, stdout, &mu, m)
				subj := subjectOf(m.Data)
				for _, r := range m.To {
					if w, ok := want[strings.ToLower(r)]; ok && strings.Contains(subj, w) {
						delete(want, strings.ToLower(r))
					}
				}
			case err := <-done:
				return fmt.Errorf("daemon stopped: %v", err)
			case <-deadline:
				return fmt.Errorf("demo: %s did not happen within 20s", what)
			}
		}
		return nil
	}
	send := func(from, subject, body string) error {
		raw := fmt.Sprintf("From: %s\r\nTo: support@example.com\r\nSubject: %s\r\nMessage-ID: <demo-%d@%s>\r\n"+
			"Date: %s\r\nMIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n%s",
			from, mime.BEncoding.Encode("UTF-8", subject), time.Now().UnixNano(), strings.SplitN(from, "@", 2)[1],
			time.Now().Format(time.RFC1123Z), strings.ReplaceAll(body, "\n", "\r\n"))
		return smtp.SendMail(srv.SMTPAddr, nil, from, []string{"support@example.com"}, []byte(raw))
	}
	steps := []struct {
		say, from, subject, body, what string
		want                           map[string]string
	}{
		{"", "", "", "", "the acknowledgement and the staff notifications",
			map[string]string{"alice@acme.test": "[Case#1]", "desk@example.com": "[Case#1]", "csm@example.com": "[Case#1]",
				"quality@example.com": "[Case#1]", "eng1@example.com": "[Case#1]"}},
		{"engineer eng1@example.com replies from their own mail client (with the quoted history below)",
			"eng1@example.com", "Re: 已分派给您 [Case#1] 数据库服务无法启动",
			"您好，请先停止占用 5432 端口的旧进程（systemctl stop legacy-db），再启动数据库服务。\n\nWang Wei\n\n" +
				"------------------ 原始邮件 ------------------\n发件人: Support <support@example.com>\n主题: 已分派给您 [Case#1]\n\n服务单 [Case#1] 已分派给您。\n",
			"the engineer's reply relayed to the customer", map[string]string{"alice@acme.test": "[Case#1]"}},
		{"engineer marks the case resolved: /resolve", "eng1@example.com", "Re: [Case#1] 数据库服务无法启动", "/resolve\n",
			"the confirmation request", map[string]string{"alice@acme.test": "[Case#1]", "scm@example.com": "[Case#1]"}},
		{"customer confirms: 已解决", "alice@acme.test", "Re: [Case#1] 数据库服务无法启动", "已解决，谢谢！\n\nAlice\n",
			"the confirmation", map[string]string{"csm@example.com": "客户已确认"}},
	}
	for _, st := range steps {
		if st.from != "" {
			say("%s", st.say)
			if err := send(st.from, st.subject, st.body); err != nil {
				return fmt.Errorf("send demo mail: %w", err)
			}
		}
		if err := await(st.what, st.want); err != nil {
			return err
		}
	}
	// The confirmation notice can be delivered before the closed event
	// is printed; say "done" only after it.
	select {
	case <-closed:
	case err := <-done:
		return fmt.Errorf("daemon stopped: %v", err)
	case <-deadline:
		return fmt.Errorf("demo: the case did not close within 20s")
	}
	say("done: case 1 was opened, acknowledged, answered by the engineer, resolved, confirmed by the customer and closed")
	if *keep {
		say("still running (Ctrl-C to stop). Point a mail client at it:")
		say("  IMAP %s, SMTP %s, no TLS; users support@example.com, alice@acme.test, eng1@example.com, csm@example.com ... password %q", srv.IMAPAddr, srv.SMTPAddr, demoPassword)
		say("  write to support@example.com as alice@acme.test to open a case; reply as eng1@example.com to answer it")
		<-ctx.Done()
	}
	cancel()
	return <-done
}

func subjectOf(raw []byte) string {
	r, err := mail.CreateReader(bytes.NewReader(raw))
	if err != nil {
		return ""
	}
	s, _ := r.Header.Subject()
	return s
}

func missing(m map[string]bool) int {
	n := 0
	for _, ok := range m {
		if !ok {
			n++
		}
	}
	return n
}

func printMail(say func(string, ...any), stdout io.Writer, mu *sync.Mutex, m testmail.Captured) {
	r, err := mail.CreateReader(bytes.NewReader(m.Data))
	if err != nil {
		say("mail out to %v (unreadable: %v)", m.To, err)
		return
	}
	subj, _ := r.Header.Subject()
	say("mail out to %s: %s", strings.Join(m.To, ", "), subj)
	mu.Lock()
	defer mu.Unlock()
	for _, k := range []string{"Message-Id", "In-Reply-To", "References", "Auto-Submitted", "X-Auto-Response-Suppress"} {
		if v := r.Header.Get(k); v != "" {
			fmt.Fprintf(stdout, "      %s: %s\n", k, v)
		}
	}
	if strings.EqualFold(m.To[0], "alice@acme.test") {
		if p, err := r.NextPart(); err == nil {
			b, _ := io.ReadAll(p.Body)
			for _, l := range strings.Split(strings.TrimSpace(string(b)), "\n") {
				fmt.Fprintf(stdout, "      | %s\n", strings.TrimRight(l, "\r"))
			}
		}
	}
}
