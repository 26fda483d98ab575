//go:build e2e

// Package e2e drives the built helpdeskd binary against real Dovecot and
// Postfix started by e2e/mailstack.sh (see e2e/run.sh).
package e2e

import (
	"bytes"
	"io"
	"net/smtp"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapclient"
)

// MailStack is the running Dovecot + Postfix pair.
type MailStack struct {
	IMAP, SMTP, Password string
}

// Fetched is one message read from a mailbox.
type Fetched struct {
	UID imap.UID
	Raw []byte
}

// Stack returns the mail stack from the environment; it fails (never
// skips) when the stack is not running.
func Stack(t testing.TB) *MailStack {
	s := &MailStack{IMAP: os.Getenv("E2E_IMAP"), SMTP: os.Getenv("E2E_SMTP"), Password: os.Getenv("E2E_PASSWORD")}
	if s.IMAP == "" || s.SMTP == "" || s.Password == "" {
		t.Fatal("E2E_IMAP/E2E_SMTP/E2E_PASSWORD not set: run `bash e2e/run.sh`, or `e2e/mailstack.sh start DIR` and source DIR/env")
	}
	return s
}

// Send submits raw bytes to Postfix.
func (s *MailStack) Send(t testing.TB, from string, to []string, raw []byte) {
	t.Helper()
	if err := smtp.SendMail(s.SMTP, nil, from, to, raw); err != nil {
		t.Fatalf("send via postfix: %v", err)
	}
}

func (s *MailStack) login(t testing.TB, user string) *imapclient.Client {
	t.Helper()
	c, err := imapclient.DialInsecure(s.IMAP, nil)
	if err != nil {
		t.Fatalf("imap dial: %v", err)
	}
	if err := c.Login(user, s.Password).Wait(); err != nil {
		c.Close()
		t.Fatalf("imap login %s: %v", user, err)
	}
	return c
}

// Messages returns every message in user's INBOX.
func (s *MailStack) Messages(t testing.TB, user string) []Fetched {
	t.Helper()
	c := s.login(t, user)
	defer c.Close()
	sel, err := c.Select("INBOX", nil).Wait()
	if err != nil {
		t.Fatalf("select: %v", err)
	}
	if sel.NumMessages == 0 {
		return nil
	}
	sec := &imap.FetchItemBodySection{Peek: true}
	var all imap.UIDSet
	all.AddRange(1, 0)
	bufs, err := c.Fetch(all, &imap.FetchOptions{UID: true, BodySection: []*imap.FetchItemBodySection{sec}}).Collect()
	if err != nil {
		t.Fatalf("fetch: %v", err)
	}
	var out []Fetched
	for _, b := range bufs {
		out = append(out, Fetched{UID: b.UID, Raw: b.FindBodySection(sec)})
	}
	return out
}

// WaitFor waits until a message in user's INBOX matches.
func (s *MailStack) WaitFor(t testing.TB, user string, timeout time.Duration, match func(Fetched) bool) Fetched {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		msgs := s.Messages(t, user)
		for _, m := range msgs {
			if match(m) {
				return m
			}
		}
		if time.Now().After(deadline) {
			var subj []string
			for _, m := range msgs {
				raw := m.Raw
				if i := bytes.Index(raw, []byte("\r\n\r\n")); i > 0 {
					raw = raw[:i]
				}
				for _, l := range strings.Split(string(raw), "\r\n") {
					if strings.HasPrefix(strings.ToLower(l), "subject:") {
						subj = append(subj, l)
					}
				}
			}
			t.Fatalf("no matching mail for %s within %v; %d arrived: %v", user, timeout, len(msgs), subj)
		}
		time.Sleep(100 * time.Millisecond) // polling an external server, bounded by timeout
	}
}

// Clear deletes every message in user's INBOX and Processed folders.
func (s *MailStack) Clear(t testing.TB, user string) {
	t.Helper()
	c := s.login(t, user)
	defer c.Close()
	for _, folder := range []string{"INBOX", "Processed", "Quarantine"} {
		sel, err := c.Select(folder, nil).Wait()
		if err != nil || sel.NumMessages == 0 {
			continue
		}
		var all imap.UIDSet
		all.AddRange(1, 0)
		if err := c.Store(all, &imap.StoreFlags{Op: imap.StoreFlagsAdd, Silent: true, Flags: []imap.Flag{imap.FlagDeleted}}, nil).Close(); err != nil {
			t.Fatalf("clear %s/%s: %v", user, folder, err)
		}
		if err := c.Expunge().Close(); err != nil {
			t.Fatalf("expunge %s/%s: %v", user, folder, err)
		}
	}
}

var (
	buildOnce sync.Once
	binPath   string
	buildErr  error
	buildOut  []byte
)

// BuildBinary builds cmd/helpdeskd once per test process.
func BuildBinary(t testing.TB) string {
	t.Helper()
	buildOnce.Do(func() {
		_, file, _, _ := runtime.Caller(0)
		root := filepath.Dir(filepath.Dir(file))
		dir, err := os.MkdirTemp("", "helpdeskd-e2e-bin-")
		if err != nil {
			buildErr = err
			return
		}
		binPath = filepath.Join(dir, "helpdeskd")
		cmd := exec.Command("go", "build", "-o", binPath, "./cmd/helpdeskd")
		cmd.Dir = root
		buildOut, buildErr = cmd.CombinedOutput()
	})
	if buildErr != nil {
		t.Fatalf("build: %v\n%s", buildErr, buildOut)
	}
	return binPath
}

var _ = io.EOF
