//go:build e2e

// Package e2e holds the end-to-end tests of helpdeskd against a real mail
// stack: Postfix (SMTP) delivering over LMTP to Dovecot (IMAP), both started
// on loopback ports by e2e/mailstack.sh. Run everything with
//
//	bash e2e/run.sh
//
// or start the stack yourself and run the tests against it:
//
//	e2e/mailstack.sh start /tmp/e2e && . /tmp/e2e/env
//	go test -tags e2e -count=1 -v ./e2e/...
//	e2e/mailstack.sh stop /tmp/e2e
package e2e

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"mime"
	"net"
	"net/mail"
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
	"github.com/emersion/go-message"
	_ "github.com/emersion/go-message/charset" // non-UTF-8 charsets for TextBody and Subject
	gomessage "github.com/emersion/go-message/mail"
	"github.com/emersion/go-smtp"
)

// Timeouts for single network operations against the local stack.
const (
	dialTimeout = 10 * time.Second
	ioTimeout   = 60 * time.Second
)

// MailStack is a running Postfix + Dovecot pair, as described by the
// environment written by `e2e/mailstack.sh start DIR` to DIR/env.
type MailStack struct {
	IMAP     string // E2E_IMAP host:port, plain IMAP (no TLS), login = full address
	SMTP     string // E2E_SMTP host:port, Postfix smtpd, no auth, relay from loopback
	Submit   string // E2E_SUBMIT host:port, a second smtpd (same policy); "" if unset
	Password string // E2E_PASSWORD, the password of every user
	Dir      string // E2E_DIR, the stack's directory; "" if unset
}

// Users are the mailboxes the stack provisions (all with MailStack.Password).
// mallory@evil.test is deliberately not one: mail to evil.test is accepted
// from loopback and discarded; mail to unknown users of the local domains is
// rejected at RCPT time (550 5.1.1).
var Users = []string{
	"support@example.test", "eng1@example.test", "eng2@example.test",
	"csm@example.test", "scm@example.test", "quality@example.test",
	"desk@example.test", "impl@example.test", "liaison@example.test",
	"alice@acme.test", "bob@acme.test", "carol@globex.test",
}

// Stack returns the mail stack from the environment. It fails the test
// (never skips) if the stack has not been started.
func Stack(t testing.TB) *MailStack {
	t.Helper()
	s := &MailStack{
		IMAP:     os.Getenv("E2E_IMAP"),
		SMTP:     os.Getenv("E2E_SMTP"),
		Submit:   os.Getenv("E2E_SUBMIT"),
		Password: os.Getenv("E2E_PASSWORD"),
		Dir:      os.Getenv("E2E_DIR"),
	}
	var missing []string
	for _, kv := range [][2]string{{"E2E_IMAP", s.IMAP}, {"E2E_SMTP", s.SMTP}, {"E2E_PASSWORD", s.Password}} {
		if kv[1] == "" {
			missing = append(missing, kv[0])
		}
	}
	if len(missing) > 0 {
		t.Fatalf("e2e mail stack not configured (%s unset): run `bash e2e/run.sh`, or "+
			"`e2e/mailstack.sh start DIR` and `. DIR/env` before `go test -tags e2e ./e2e/...`",
			strings.Join(missing, ", "))
	}
	return s
}

// ---------------------------------------------------------------- SMTP ----

// Send submits raw (a complete RFC 5322 message; bare LF is fine) to Postfix
// over plain SMTP with the given envelope. It fails the test on any error,
// including a rejected recipient.
func (s *MailStack) Send(t testing.TB, from string, to []string, raw []byte) {
	t.Helper()
	if err := s.TrySend(from, to, raw); err != nil {
		t.Fatalf("send %s -> %v: %v", from, to, err)
	}
}

// TrySend is Send returning the error instead (e.g. to assert that Postfix
// rejects an unknown recipient: the error is a *smtp.SMTPError with Code 550).
func (s *MailStack) TrySend(from string, to []string, raw []byte) error {
	return sendMail(s.SMTP, from, to, raw)
}

func sendMail(addr, from string, to []string, raw []byte) error {
	conn, err := net.DialTimeout("tcp", addr, dialTimeout)
	if err != nil {
		return err
	}
	_ = conn.SetDeadline(time.Now().Add(ioTimeout))
	c := smtp.NewClient(conn)
	defer c.Close()
	if err := c.Hello("e2e.test"); err != nil {
		return err
	}
	if err := c.SendMail(from, to, bytes.NewReader(raw)); err != nil {
		return err
	}
	return c.Quit()
}

// ---------------------------------------------------------------- IMAP ----

// Fetched is one message read back over IMAP.
type Fetched struct {
	Mailbox string
	UID     imap.UID
	Flags   []string
	Raw     []byte      // exactly as stored (CRLF line ends, incl. Return-Path/Received)
	Header  mail.Header // parsed with net/mail; values are not RFC 2047 decoded
	Body    []byte      // raw body after the header, still transfer-encoded
}

// Subject returns the RFC 2047-decoded Subject.
func (f Fetched) Subject() string { return decodeHeader(f.Header.Get("Subject")) }

// MessageID returns the Message-ID without angle brackets.
func (f Fetched) MessageID() string {
	return strings.Trim(strings.TrimSpace(f.Header.Get("Message-Id")), "<>")
}

// HeaderDecoded returns the named header field RFC 2047-decoded.
func (f Fetched) HeaderDecoded(name string) string { return decodeHeader(f.Header.Get(name)) }

// TextBody returns the first text/plain part (or, failing that, the first
// text/html part), transfer-decoded and converted to UTF-8.
func (f Fetched) TextBody() (string, error) {
	mr, err := gomessage.CreateReader(bytes.NewReader(f.Raw))
	if mr == nil {
		return "", err
	}
	var html string
	for {
		p, err := mr.NextPart()
		if err == io.EOF {
			break
		}
		if p == nil {
			return "", err
		}
		h, ok := p.Header.(*gomessage.InlineHeader)
		if !ok {
			continue
		}
		ct, _, _ := h.ContentType()
		if ct == "" {
			ct = "text/plain"
		}
		if ct != "text/plain" && (ct != "text/html" || html != "") {
			continue
		}
		b, err := io.ReadAll(p.Body)
		if err != nil {
			return "", err
		}
		if ct == "text/plain" {
			return string(b), nil
		}
		html = string(b)
	}
	if html != "" {
		return html, nil
	}
	return "", errors.New("no text/plain or text/html part")
}

// String is a one-line summary, used in failure listings.
func (f Fetched) String() string {
	return fmt.Sprintf("%s uid=%d from=%q to=%q subject=%q message-id=<%s> flags=%v",
		f.Mailbox, f.UID, f.Header.Get("From"), f.Header.Get("To"), f.Subject(), f.MessageID(), f.Flags)
}

func decodeHeader(v string) string {
	d := mime.WordDecoder{CharsetReader: message.CharsetReader}
	if s, err := d.DecodeHeader(v); err == nil {
		return s
	}
	return v
}

func parseFetched(mailbox string, uid imap.UID, flags []imap.Flag, raw []byte) Fetched {
	f := Fetched{Mailbox: mailbox, UID: uid, Raw: raw}
	for _, fl := range flags {
		f.Flags = append(f.Flags, string(fl))
	}
	if m, err := mail.ReadMessage(bufio.NewReader(bytes.NewReader(raw))); err == nil {
		f.Header = m.Header
		f.Body, _ = io.ReadAll(m.Body)
	} else {
		f.Header = mail.Header{}
		f.Body = raw
	}
	return f
}

// Login opens an IMAP connection logged in as user (full address). The
// connection is logged out when the test ends. opts may be nil.
func (s *MailStack) Login(t testing.TB, user string, opts *imapclient.Options) *imapclient.Client {
	t.Helper()
	c, err := s.login(user, opts)
	if err != nil {
		t.Fatalf("imap login %s at %s: %v", user, s.IMAP, err)
	}
	t.Cleanup(func() { closeIMAP(c) })
	return c
}

func (s *MailStack) login(user string, opts *imapclient.Options) (*imapclient.Client, error) {
	conn, err := net.DialTimeout("tcp", s.IMAP, dialTimeout)
	if err != nil {
		return nil, err
	}
	c := imapclient.New(conn, opts)
	if err := c.Login(user, s.Password).Wait(); err != nil {
		c.Close()
		return nil, err
	}
	return c, nil
}

func closeIMAP(c *imapclient.Client) {
	done := make(chan struct{})
	go func() {
		_ = c.Logout().Wait()
		close(done)
	}()
	select {
	case <-done:
	case <-time.After(2 * time.Second):
	}
	_ = c.Close()
}

var bodyPeek = &imap.FetchItemBodySection{Peek: true} // BODY.PEEK[]

// fetch returns the messages of the selected mailbox with UID >= from, in
// UID order.
func fetch(c *imapclient.Client, mailbox string, from imap.UID) ([]Fetched, error) {
	var set imap.UIDSet
	set.AddRange(from, 0) // from:*
	bufs, err := c.Fetch(set, &imap.FetchOptions{
		UID: true, Flags: true, BodySection: []*imap.FetchItemBodySection{bodyPeek},
	}).Collect()
	if err != nil {
		return nil, err
	}
	var out []Fetched
	for _, b := range bufs {
		if b.UID < from { // "n:*" always matches the highest UID
			continue
		}
		out = append(out, parseFetched(mailbox, b.UID, b.Flags, b.FindBodySection(bodyPeek)))
	}
	return out, nil
}

// Messages returns all messages in user's INBOX, in UID order, without
// changing their flags.
func (s *MailStack) Messages(t testing.TB, user string) []Fetched {
	t.Helper()
	return s.MessagesIn(t, user, "INBOX")
}

// MessagesIn is Messages for any mailbox (e.g. "Processed"). A mailbox that
// does not exist fails the test.
func (s *MailStack) MessagesIn(t testing.TB, user, mailbox string) []Fetched {
	t.Helper()
	c, err := s.login(user, nil)
	if err != nil {
		t.Fatalf("imap login %s: %v", user, err)
	}
	defer closeIMAP(c)
	sel, err := c.Select(mailbox, &imap.SelectOptions{ReadOnly: true}).Wait()
	if err != nil {
		t.Fatalf("imap %s: select %q: %v", user, mailbox, err)
	}
	if sel.NumMessages == 0 {
		return nil
	}
	msgs, err := fetch(c, mailbox, 1)
	if err != nil {
		t.Fatalf("imap %s: fetch %q: %v", user, mailbox, err)
	}
	return msgs
}

// Mailboxes lists user's selectable mailboxes.
func (s *MailStack) Mailboxes(t testing.TB, user string) []string {
	t.Helper()
	c, err := s.login(user, nil)
	if err != nil {
		t.Fatalf("imap login %s: %v", user, err)
	}
	defer closeIMAP(c)
	names, err := listMailboxes(c)
	if err != nil {
		t.Fatalf("imap %s: list: %v", user, err)
	}
	return names
}

func listMailboxes(c *imapclient.Client) ([]string, error) {
	list, err := c.List("", "*", nil).Collect()
	if err != nil {
		return nil, err
	}
	var names []string
outer:
	for _, l := range list {
		for _, a := range l.Attrs {
			if a == imap.MailboxAttrNoSelect || a == imap.MailboxAttrNonExistent {
				continue outer
			}
		}
		names = append(names, l.Mailbox)
	}
	return names, nil
}

// Append stores raw directly in user's mailbox (bypassing SMTP), creating
// the mailbox if needed, and returns its UID.
func (s *MailStack) Append(t testing.TB, user, mailbox string, raw []byte) imap.UID {
	t.Helper()
	return s.AppendAt(t, user, mailbox, raw, time.Time{})
}

// AppendAt is Append with the message's INTERNALDATE set to date (zero:
// the server's clock), as mail that has waited in a mailbox for a while.
func (s *MailStack) AppendAt(t testing.TB, user, mailbox string, raw []byte, date time.Time) imap.UID {
	t.Helper()
	c, err := s.login(user, nil)
	if err != nil {
		t.Fatalf("imap login %s: %v", user, err)
	}
	defer closeIMAP(c)
	if !strings.EqualFold(mailbox, "INBOX") {
		_ = c.Create(mailbox, nil).Wait() // exists already: fine
	}
	uid, err := appendOn(c, mailbox, raw, date)
	if err != nil {
		t.Fatalf("imap %s: %v", user, err)
	}
	return uid
}

// appendOn APPENDs raw to mailbox over an open connection, with its
// INTERNALDATE set to date (zero: the server's clock).
func appendOn(c *imapclient.Client, mailbox string, raw []byte, date time.Time) (imap.UID, error) {
	var opts *imap.AppendOptions
	if !date.IsZero() {
		opts = &imap.AppendOptions{Time: date}
	}
	cmd := c.Append(mailbox, int64(len(raw)), opts)
	if _, err := cmd.Write(raw); err != nil {
		return 0, fmt.Errorf("append to %q: %w", mailbox, err)
	}
	if err := cmd.Close(); err != nil {
		return 0, fmt.Errorf("append to %q: %w", mailbox, err)
	}
	ad, err := cmd.Wait()
	if err != nil {
		return 0, fmt.Errorf("append to %q: %w", mailbox, err)
	}
	return ad.UID, nil
}

// Clear deletes every message in every mailbox of user (INBOX, "Processed",
// ...). The mailboxes themselves are kept.
func (s *MailStack) Clear(t testing.TB, user string) {
	t.Helper()
	c, err := s.login(user, nil)
	if err != nil {
		t.Fatalf("imap login %s: %v", user, err)
	}
	defer closeIMAP(c)
	names, err := listMailboxes(c)
	if err != nil {
		t.Fatalf("imap %s: list: %v", user, err)
	}
	for _, name := range names {
		sel, err := c.Select(name, nil).Wait()
		if err != nil {
			t.Fatalf("imap %s: select %q: %v", user, name, err)
		}
		if sel.NumMessages == 0 {
			continue
		}
		all := imap.SeqSet{}
		all.AddRange(1, 0) // 1:*
		if err := c.Store(all, &imap.StoreFlags{
			Op: imap.StoreFlagsAdd, Silent: true, Flags: []imap.Flag{imap.FlagDeleted},
		}, nil).Close(); err != nil {
			t.Fatalf("imap %s: flag %q deleted: %v", user, name, err)
		}
		if err := c.Expunge().Close(); err != nil {
			t.Fatalf("imap %s: expunge %q: %v", user, name, err)
		}
	}
}

// ClearAll runs Clear for every provisioned user.
func (s *MailStack) ClearAll(t testing.TB) {
	t.Helper()
	for _, u := range Users {
		s.Clear(t, u)
	}
}

// WaitFor waits until a message in user's INBOX satisfies match (messages
// already there count) and returns it. It uses IMAP IDLE, re-checking at
// least every 500 ms. On timeout it fails the test with a listing of what
// arrived. Call it from the test goroutine.
func (s *MailStack) WaitFor(t testing.TB, user string, timeout time.Duration, match func(Fetched) bool) Fetched {
	t.Helper()
	return s.WaitForIn(t, user, "INBOX", timeout, match)
}

// WaitForIn is WaitFor for any mailbox; a mailbox that does not exist yet
// (e.g. "Processed" before helpdeskd creates it) is waited for as well.
func (s *MailStack) WaitForIn(t testing.TB, user, mailbox string, timeout time.Duration, match func(Fetched) bool) Fetched {
	t.Helper()
	deadline := time.Now().Add(timeout)
	notify := make(chan struct{}, 1)
	opts := &imapclient.Options{UnilateralDataHandler: &imapclient.UnilateralDataHandler{
		Mailbox: func(d *imapclient.UnilateralDataMailbox) {
			if d.NumMessages != nil {
				select {
				case notify <- struct{}{}:
				default:
				}
			}
		},
	}}
	c, err := s.login(user, opts)
	if err != nil {
		t.Fatalf("imap login %s: %v", user, err)
	}
	defer closeIMAP(c)

	// The mailbox may not exist yet.
	var selErr error
	for {
		if _, selErr = c.Select(mailbox, &imap.SelectOptions{ReadOnly: true}).Wait(); selErr == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("WaitFor %s %q: timeout after %v: mailbox never became selectable: %v (mailboxes: %v)",
				user, mailbox, timeout, selErr, s.Mailboxes(t, user))
		}
		time.Sleep(200 * time.Millisecond)
	}

	var seen []Fetched
	next := imap.UID(1)
	canIdle := c.Caps().Has(imap.CapIdle)
	for {
		msgs, err := fetch(c, mailbox, next)
		if err != nil {
			t.Fatalf("WaitFor %s %q: fetch: %v", user, mailbox, err)
		}
		for _, m := range msgs {
			seen = append(seen, m)
			next = m.UID + 1
			if match(m) {
				return m
			}
		}
		remaining := time.Until(deadline)
		if remaining <= 0 {
			var b strings.Builder
			fmt.Fprintf(&b, "WaitFor %s %q: no matching message after %v; %d arrived while waiting:", user, mailbox, timeout, len(seen))
			for _, m := range seen {
				fmt.Fprintf(&b, "\n  %s", m)
			}
			t.Fatal(b.String())
		}
		wait := min(remaining, 500*time.Millisecond)
		if !canIdle {
			time.Sleep(wait)
			continue
		}
		idle, err := c.Idle()
		if err != nil {
			t.Fatalf("WaitFor %s %q: idle: %v", user, mailbox, err)
		}
		timer := time.NewTimer(wait)
		select {
		case <-notify:
		case <-timer.C:
		}
		timer.Stop()
		if err := idle.Close(); err != nil {
			t.Fatalf("WaitFor %s %q: idle done: %v", user, mailbox, err)
		}
		if err := idle.Wait(); err != nil {
			t.Fatalf("WaitFor %s %q: idle: %v", user, mailbox, err)
		}
	}
}

// --------------------------------------------------------------- build ----

var (
	buildOnce sync.Once
	buildPath string
	buildErr  error
)

// BuildBinary builds ./cmd/helpdeskd once per test process and returns the
// path of the binary (under $E2E_DIR/bin when set, else a temp dir).
func BuildBinary(t testing.TB) string {
	t.Helper()
	buildOnce.Do(func() { buildPath, buildErr = buildHelpdeskd() })
	if buildErr != nil {
		t.Fatalf("building helpdeskd: %v", buildErr)
	}
	return buildPath
}

func buildHelpdeskd() (string, error) {
	root, err := repoRoot()
	if err != nil {
		return "", err
	}
	var dir string
	if d := os.Getenv("E2E_DIR"); d != "" {
		dir = filepath.Join(d, "bin")
		err = os.MkdirAll(dir, 0o755)
	} else {
		dir, err = os.MkdirTemp("", "helpdeskd-e2e-bin-")
	}
	if err != nil {
		return "", err
	}
	goBin, err := exec.LookPath("go")
	if err != nil {
		goBin = filepath.Join(runtime.GOROOT(), "bin", "go")
	}
	out := filepath.Join(dir, "helpdeskd")
	cmd := exec.Command(goBin, "build", "-o", out, "./cmd/helpdeskd")
	cmd.Dir = root
	if output, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("go build ./cmd/helpdeskd in %s: %v\n%s", root, err, output)
	}
	return out, nil
}

// repoRoot finds the module root: the nearest parent of the working
// directory (go test runs in e2e/) or of this source file holding go.mod.
func repoRoot() (string, error) {
	var starts []string
	if wd, err := os.Getwd(); err == nil {
		starts = append(starts, wd)
	}
	if _, file, _, ok := runtime.Caller(0); ok {
		starts = append(starts, filepath.Dir(file))
	}
	for _, dir := range starts {
		for d := dir; ; d = filepath.Dir(d) {
			if _, err := os.Stat(filepath.Join(d, "go.mod")); err == nil {
				return d, nil
			}
			if filepath.Dir(d) == d {
				break
			}
		}
	}
	return "", fmt.Errorf("go.mod not found above %v", starts)
}
