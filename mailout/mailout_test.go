package mailout

import (
	"bytes"
	"context"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/mail"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-smtp"

	"helpdeskd/cases"
	"helpdeskd/internal/testmail"
)

// memOutbox is an in-memory Outbox recording what the sender reports.
type memOutbox struct {
	mu      sync.Mutex
	items   []Item
	due     map[int64]time.Time
	sent    []int64
	retried []int64
	failed  map[int64]string
	files   map[int64]File
}

func newOutbox(items ...cases.Outgoing) *memOutbox {
	o := &memOutbox{due: map[int64]time.Time{}, failed: map[int64]string{}, files: map[int64]File{}}
	for _, m := range items {
		o.items = append(o.items, Item{Mail: m})
		o.due[m.ID] = time.Time{}
	}
	return o
}

func (o *memOutbox) Due(_ context.Context, now time.Time, limit int) ([]Item, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	var out []Item
	for _, it := range o.items {
		if due, ok := o.due[it.Mail.ID]; ok && !due.After(now) && len(out) < limit {
			out = append(out, it)
		}
	}
	return out, nil
}

func (o *memOutbox) Next(context.Context) (time.Time, bool, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	var next time.Time
	ok := false
	for _, d := range o.due {
		if !ok || d.Before(next) {
			next, ok = d, true
		}
	}
	return next, ok, nil
}

func (o *memOutbox) Sent(_ context.Context, id int64, _ time.Time) error {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.sent = append(o.sent, id)
	delete(o.due, id)
	return nil
}

func (o *memOutbox) Retry(_ context.Context, id int64, next time.Time, _ string) error {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.retried = append(o.retried, id)
	o.due[id] = next
	for i := range o.items {
		if o.items[i].Mail.ID == id {
			o.items[i].Attempts++
		}
	}
	return nil
}

func (o *memOutbox) Failed(_ context.Context, it Item, reason string, _ time.Time) error {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.failed[it.Mail.ID] = reason
	delete(o.due, it.Mail.ID)
	return nil
}

func (o *memOutbox) Attachment(_ context.Context, id int64) (File, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	f, ok := o.files[id]
	if !ok {
		return File{}, errors.New("no such attachment")
	}
	return f, nil
}

func sender(t *testing.T, srv *testmail.Servers, o *memOutbox, now func() time.Time) *Sender {
	host, port, _ := net.SplitHostPort(srv.SMTPAddr)
	p, _ := strconv.Atoi(port)
	return &Sender{Server: Server{Host: host, Port: p, TLS: "none", Timeout: 5 * time.Second},
		From: &mail.Address{Name: "Support", Address: "support@example.com"}, Outbox: o, Now: now,
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}
}

func outgoing(id int64, to string) cases.Outgoing {
	return cases.Outgoing{ID: id, Case: 7, Kind: "ack", To: []string{to}, Subject: "[Case#7] 打印机故障",
		Text: "您好，已收到。\n", MessageID: "case-7.ack." + strconv.FormatInt(id, 10) + "@example.com",
		InReplyTo: "orig@acme.test", References: []string{"root@acme.test", "orig@acme.test"},
		Headers: map[string]string{"Auto-Submitted": "auto-replied", "X-Auto-Response-Suppress": "All"}}
}

func TestSendHeadersAndAttachment(t *testing.T) {
	srv, err := testmail.Start(testmail.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	m := outgoing(1, "alice@acme.test")
	m.Attachments = []int64{5}
	o := newOutbox(m, outgoing(2, "bob@acme.test"))
	o.files[5] = File{Name: "日志.txt", ContentType: "text/plain", Data: []byte("log line")}
	s := sender(t, srv, o, time.Now)
	if _, err := s.Drain(context.Background()); err != nil {
		t.Fatal(err)
	}
	if len(o.sent) != 2 {
		t.Fatalf("sent %v, failed %v", o.sent, o.failed)
	}
	got := srv.Sent()
	raw := string(got[0].Data)
	for _, want := range []string{"Message-ID: <case-7.ack.1@example.com>", "In-Reply-To: <orig@acme.test>",
		"References: <root@acme.test> <orig@acme.test>", "Auto-Submitted: auto-replied", "X-Auto-Response-Suppress: All"} {
		if !strings.Contains(raw, want) {
			t.Errorf("mail lacks %q:\n%s", want, raw)
		}
	}
	if strings.Count(raw, "Message-ID:") != 1 {
		t.Errorf("Message-ID appears %d times", strings.Count(raw, "Message-ID:"))
	}
	if !bytes.Contains(got[0].Data, []byte("filename")) {
		t.Errorf("attachment missing:\n%s", raw)
	}
}

func TestTemporaryFailureRetriesThenSends(t *testing.T) {
	srv, err := testmail.Start(testmail.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	fail := true
	srv.FailRcpt(func(string) error {
		if fail {
			return &smtp.SMTPError{Code: 451, EnhancedCode: smtp.EnhancedCode{4, 3, 0}, Message: "try later"}
		}
		return nil
	})
	now := time.Date(2026, 11, 26, 9, 0, 0, 0, time.UTC)
	o := newOutbox(outgoing(1, "alice@acme.test"))
	s := sender(t, srv, o, func() time.Time { return now })
	wait, err := s.Drain(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if len(o.retried) != 1 || len(o.sent) != 0 || len(o.failed) != 0 {
		t.Fatalf("after 451: retried %v sent %v failed %v", o.retried, o.sent, o.failed)
	}
	if wait != 5*time.Second {
		t.Errorf("wait = %v, want the 5s idle poll (the retry is 30s away)", wait)
	}
	fail = false
	now = now.Add(30 * time.Second)
	if _, err := s.Drain(context.Background()); err != nil {
		t.Fatal(err)
	}
	if len(o.sent) != 1 {
		t.Fatalf("not sent after the retry: %v", o.failed)
	}
}

func TestPermanentFailureIsReported(t *testing.T) {
	srv, err := testmail.Start(testmail.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	srv.FailRcpt(func(rcpt string) error {
		if rcpt == "nobody@acme.test" {
			return &smtp.SMTPError{Code: 550, EnhancedCode: smtp.EnhancedCode{5, 1, 1}, Message: "no such user"}
		}
		return nil
	})
	o := newOutbox(outgoing(1, "nobody@acme.test"), outgoing(2, "alice@acme.test"))
	s := sender(t, srv, o, time.Now)
	if _, err := s.Drain(context.Background()); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(o.failed[1], "550") || len(o.sent) != 1 || o.sent[0] != 2 {
		t.Fatalf("failed %v sent %v", o.failed, o.sent)
	}
}

func TestServerDownIsTemporary(t *testing.T) {
	ln, _ := net.Listen("tcp", "127.0.0.1:0")
	addr := ln.Addr().(*net.TCPAddr)
	ln.Close() // nothing listens here now
	o := newOutbox(outgoing(1, "alice@acme.test"))
	s := &Sender{Server: Server{Host: "127.0.0.1", Port: addr.Port, TLS: "none", Timeout: 2 * time.Second},
		From: &mail.Address{Address: "support@example.com"}, Outbox: o, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}
	if _, err := s.Drain(context.Background()); err != nil {
		t.Fatal(err)
	}
	if len(o.retried) != 1 || len(o.failed) != 0 {
		t.Fatalf("a refused connection: retried %v failed %v", o.retried, o.failed)
	}
}

func TestBackoff(t *testing.T) {
	for n, want := range map[int]time.Duration{1: 30 * time.Second, 2: time.Minute, 3: 2 * time.Minute, 20: 4 * time.Hour} {
		if got := Backoff(n); got != want {
			t.Errorf("Backoff(%d) = %v, want %v", n, got, want)
		}
	}
}
