// Package testmail runs in-process mail servers for tests and the demo: an
// IMAP server (go-imap's imapmemserver) and an SMTP server (go-smtp) that
// records every message and delivers it to the IMAP user of each local
// recipient, so a test can read a customer's mailbox like a real one.
package testmail

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"strings"
	"sync"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapserver"
	"github.com/emersion/go-imap/v2/imapserver/imapmemserver"
	"github.com/emersion/go-smtp"
)

// Captured is one message the SMTP server accepted.
type Captured struct {
	From string
	To   []string
	Data []byte
}

// Servers is a running pair of mail servers on 127.0.0.1.
type Servers struct {
	IMAPAddr string
	SMTPAddr string

	mem   *imapmemserver.Server
	imap  *imapserver.Server
	smtp  *smtp.Server
	mu    sync.Mutex
	users map[string]*imapmemserver.User
	msgs  []Captured
	fail  func(rcpt string) error
	sent  chan Captured
}

// Options for Start. NoMove offers IMAP4rev1 only (no MOVE, no UIDPLUS),
// to exercise the copy fallback.
type Options struct {
	NoMove bool
	// IMAPAddr, if set, is the address the IMAP server listens on
	// (default 127.0.0.1:0).
	IMAPAddr string
}

// Start starts both servers. Users are added with AddUser.
func Start(opts Options) (*Servers, error) {
	s := &Servers{mem: imapmemserver.New(), users: map[string]*imapmemserver.User{}, sent: make(chan Captured, 1000)}
	caps := imap.CapSet{imap.CapIMAP4rev1: {}, imap.CapIMAP4rev2: {}}
	if opts.NoMove {
		caps = imap.CapSet{imap.CapIMAP4rev1: {}, imap.CapIdle: {}}
	}
	s.imap = imapserver.New(&imapserver.Options{
		NewSession: func(*imapserver.Conn) (imapserver.Session, *imapserver.GreetingData, error) {
			return s.mem.NewSession(), nil, nil
		},
		Caps:         caps,
		InsecureAuth: true,
		Logger:       log.New(io.Discard, "", 0),
	})
	addr := opts.IMAPAddr
	if addr == "" {
		addr = "127.0.0.1:0"
	}
	iln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, err
	}
	go s.imap.Serve(iln)
	s.IMAPAddr = iln.Addr().String()

	s.smtp = smtp.NewServer(&backend{s: s})
	s.smtp.Domain = "localhost"
	s.smtp.AllowInsecureAuth = true
	s.smtp.ErrorLog = log.New(io.Discard, "", 0)
	sln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		s.imap.Close()
		return nil, err
	}
	go s.smtp.Serve(sln)
	s.SMTPAddr = sln.Addr().String()
	return s, nil
}

// Close stops both servers.
func (s *Servers) Close() {
	s.smtp.Close()
	s.imap.Close()
}

// AddUser adds an IMAP user (login = address) with an INBOX.
func (s *Servers) AddUser(addr, password string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	u := imapmemserver.NewUser(addr, password)
	u.Create("INBOX", nil)
	s.mem.AddUser(u)
	s.users[strings.ToLower(addr)] = u
}

// Append puts a raw message into a user's folder, as if delivered.
func (s *Servers) Append(addr, folder string, raw []byte) error {
	s.mu.Lock()
	u := s.users[strings.ToLower(addr)]
	s.mu.Unlock()
	if u == nil {
		return fmt.Errorf("no user %s", addr)
	}
	_, err := u.Append(folder, bytes.NewReader(raw), &imap.AppendOptions{})
	return err
}

// Sent returns every message accepted so far.
func (s *Servers) Sent() []Captured {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Captured(nil), s.msgs...)
}

// Delivered is a channel that receives every accepted message.
func (s *Servers) Delivered() <-chan Captured { return s.sent }

// FailRcpt makes the SMTP server answer RCPT TO with the error fn returns
// (nil = accept). Use *smtp.SMTPError for 4xx/5xx.
func (s *Servers) FailRcpt(fn func(rcpt string) error) {
	s.mu.Lock()
	s.fail = fn
	s.mu.Unlock()
}

type backend struct{ s *Servers }

func (b *backend) NewSession(*smtp.Conn) (smtp.Session, error) { return &session{s: b.s}, nil }

type session struct {
	s   *Servers
	cur Captured
}

func (x *session) AuthMechanisms() []string { return nil }

func (x *session) Mail(from string, _ *smtp.MailOptions) error {
	x.cur = Captured{From: from}
	return nil
}

func (x *session) Rcpt(to string, _ *smtp.RcptOptions) error {
	x.s.mu.Lock()
	fail := x.s.fail
	x.s.mu.Unlock()
	if fail != nil {
		if err := fail(to); err != nil {
			return err
		}
	}
	x.cur.To = append(x.cur.To, to)
	return nil
}

func (x *session) Data(r io.Reader) error {
	b, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	x.cur.Data = b
	x.s.mu.Lock()
	x.s.msgs = append(x.s.msgs, x.cur)
	var errs []error
	for _, rcpt := range x.cur.To {
		if u := x.s.users[strings.ToLower(rcpt)]; u != nil {
			if _, err := u.Append("INBOX", bytes.NewReader(b), &imap.AppendOptions{}); err != nil {
				errs = append(errs, err)
			}
		}
	}
	x.s.mu.Unlock()
	select {
	case x.s.sent <- x.cur:
	default:
	}
	return errors.Join(errs...)
}

func (x *session) Reset()        { x.cur = Captured{} }
func (x *session) Logout() error { return nil }
