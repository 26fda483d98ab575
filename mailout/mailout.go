// Package mailout builds outgoing MIME mail with go-mail and sends the
// outbox over SMTP (SPEC §7).
//
// It owns the SMTP connection (kept open and reused between mails), the
// decision whether a failure is temporary (4xx, network: retried with
// backoff) or permanent (5xx: reported to the Outbox), and the headers
// every outgoing mail carries. What to send, and what a permanent failure
// means for a case, belong to the Outbox implementation.
package mailout

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"mime"
	"net"
	"net/mail"
	"runtime/debug"
	"strconv"
	"strings"
	"time"

	gomail "github.com/wneessen/go-mail"

	"helpdeskd/cases"
)

// Item is one mail due for sending.
type Item struct {
	Mail     cases.Outgoing
	Attempts int // failed attempts so far
}

// File is an attachment to include.
type File struct {
	Name, ContentType string
	Data              []byte
}

// Outbox is where the sender takes mail from and reports results.
type Outbox interface {
	Due(ctx context.Context, now time.Time, limit int) ([]Item, error)
	Next(ctx context.Context) (time.Time, bool, error)
	Sent(ctx context.Context, id int64, now time.Time) error
	Retry(ctx context.Context, id int64, next time.Time, reason string) error
	Failed(ctx context.Context, item Item, reason string, now time.Time) error
	Attachment(ctx context.Context, id int64) (File, error)
}

// Server says how to reach the SMTP server.
type Server struct {
	Host     string
	Port     int
	TLS      string // implicit | starttls | none
	Username string // "" = no AUTH
	Password string
	HELO     string // "" = go-mail's default
	// InsecureSkipVerify disables certificate checks (tests only).
	InsecureSkipVerify bool
	Timeout            time.Duration // zero value: 30s
}

// ParseServer splits "host:port" and fills a Server.
func ParseServer(address, tlsMode, user, pass, helo string, insecure bool) (Server, error) {
	host, port, err := net.SplitHostPort(address)
	if err != nil {
		return Server{}, fmt.Errorf("smtp address %q: %w", address, err)
	}
	p, err := strconv.Atoi(port)
	if err != nil {
		return Server{}, fmt.Errorf("smtp port %q: %w", port, err)
	}
	return Server{Host: host, Port: p, TLS: tlsMode, Username: user, Password: pass, HELO: helo, InsecureSkipVerify: insecure}, nil
}

// Sender sends the outbox. The zero values of Now, Logger and Batch are
// time.Now, slog.Default() and 50.
type Sender struct {
	Server Server
	From   *mail.Address
	Outbox Outbox
	Now    func() time.Time
	Logger *slog.Logger
	Batch  int
	// MaxAttempts is how many temporary failures a mail gets before it is
	// treated as permanent; zero value: 20 (about two days of backoff).
	MaxAttempts int
	// OnSent, if set, is called after each mail is sent (for metrics and the demo).
	OnSent func(cases.Outgoing)

	wake   chan struct{}
	client *gomail.Client
}

// Kick wakes the sender: new mail is in the outbox. It never blocks.
func (s *Sender) Kick() {
	select {
	case s.wakeCh() <- struct{}{}:
	default:
	}
}

func (s *Sender) wakeCh() chan struct{} {
	if s.wake == nil {
		s.wake = make(chan struct{}, 1)
	}
	return s.wake
}

func (s *Sender) now() time.Time {
	if s.Now == nil {
		return time.Now()
	}
	return s.Now()
}

func (s *Sender) log() *slog.Logger {
	if s.Logger == nil {
		return slog.Default()
	}
	return s.Logger
}

// Run sends due mail until ctx is done. Call Kick before Run or Init first
// if Kick may be called concurrently with Run's start.
func (s *Sender) Run(ctx context.Context) error {
	wake := s.wakeCh()
	defer s.closeClient()
	for {
		wait := s.safeDrain(ctx)
		timer := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			timer.Stop()
			return nil
		case <-wake:
		case <-timer.C:
		}
		timer.Stop()
	}
}

// Init prepares the wake channel; call it before Kick may race with Run.
func (s *Sender) Init() { s.wakeCh() }

// safeDrain sends everything due and returns how long to sleep.
func (s *Sender) safeDrain(ctx context.Context) (wait time.Duration) {
	defer func() {
		if r := recover(); r != nil {
			s.log().Error("sender panic", "panic", r, "stack", string(debug.Stack()))
			wait = 5 * time.Second
		}
	}()
	wait, err := s.Drain(ctx)
	if err != nil && ctx.Err() == nil {
		s.log().Error("send outbox", "err", err)
		return 5 * time.Second
	}
	return wait
}

// Drain sends all mail due now and returns how long until the next is due
// (at most 5 seconds). It is exported for tests that drive the clock.
func (s *Sender) Drain(ctx context.Context) (time.Duration, error) {
	batch := s.Batch
	if batch == 0 {
		batch = 50
	}
	for {
		items, err := s.Outbox.Due(ctx, s.now(), batch)
		if err != nil {
			return 0, err
		}
		if len(items) == 0 {
			break
		}
		for _, it := range items {
			if ctx.Err() != nil {
				return 0, nil
			}
			if err := s.sendOne(ctx, it); err != nil {
				return 0, err
			}
		}
		if len(items) < batch {
			break
		}
	}
	next, ok, err := s.Outbox.Next(ctx)
	if err != nil {
		return 0, err
	}
	// Mail queued by another process (`helpdeskd case open`, a replay)
	// wakes no one here, so an idle sender looks again every 5 seconds.
	wait := 5 * time.Second
	if ok {
		if d := next.Sub(s.now()); d < wait {
			wait = max(d, 10*time.Millisecond)
		}
	}
	if !ok {
		s.closeClient() // nothing queued: don't hold the connection open
	}
	return wait, nil
}

func (s *Sender) sendOne(ctx context.Context, it Item) error {
	// Once a mail may have gone out, its result is recorded even if
	// shutdown cancels ctx meanwhile; otherwise it would be sent again.
	rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
	defer cancel()
	log := s.log().With("case", it.Mail.Case, "msgid", it.Mail.MessageID, "kind", it.Mail.Kind)
	var files []File
	for _, id := range it.Mail.Attachments {
		f, err := s.Outbox.Attachment(ctx, id)
		if err != nil {
			return fmt.Errorf("attachment %d: %w", id, err)
		}
		files = append(files, f)
	}
	m, err := Build(it.Mail, s.From, files)
	if err != nil {
		log.Error("build mail", "err", err)
		return s.Outbox.Failed(ctx, it, "cannot build mail: "+err.Error(), s.now())
	}
	err = s.send(ctx, m)
	if err == nil {
		log.Info("mail sent", "rcpt", it.Mail.To)
		if err := s.Outbox.Sent(rctx, it.Mail.ID, s.now()); err != nil {
			return err
		}
		if s.OnSent != nil {
			s.OnSent(it.Mail)
		}
		return nil
	}
	temp := Temporary(err)
	maxAttempts := s.MaxAttempts
	if maxAttempts == 0 {
		maxAttempts = 20
	}
	if !temp || it.Attempts+1 >= maxAttempts {
		log.Error("mail failed", "err", err, "attempt", it.Attempts+1)
		return s.Outbox.Failed(rctx, it, err.Error(), s.now())
	}
	next := s.now().Add(Backoff(it.Attempts + 1))
	log.Warn("mail deferred", "err", err, "attempt", it.Attempts+1, "next", next)
	return s.Outbox.Retry(rctx, it.Mail.ID, next, err.Error())
}

// Backoff is the wait after the nth temporary failure: 30s doubling, at
// most 4h.
func Backoff(n int) time.Duration {
	d := 30 * time.Second
	for i := 1; i < n && d < 4*time.Hour; i++ {
		d *= 2
	}
	return min(d, 4*time.Hour)
}

// Temporary reports whether a send error is worth retrying: a 4xx reply,
// or anything that is not an SMTP reply (dial, dropped connection).
func Temporary(err error) bool {
	var se *gomail.SendError
	if errors.As(err, &se) {
		if se.ErrorCode() == 0 {
			return true
		}
		return se.ErrorCode() >= 400 && se.ErrorCode() < 500
	}
	return true
}

func (s *Sender) send(ctx context.Context, m *gomail.Msg) error {
	if s.client == nil {
		c, err := s.dial(ctx)
		if err != nil {
			return err
		}
		s.client = c
	}
	err := s.client.Send(m)
	if err != nil {
		var se *gomail.SendError
		if !errors.As(err, &se) || se.ErrorCode() == 0 {
			// The connection may be gone: reconnect next time.
			s.closeClient()
		}
	}
	return err
}

// Close closes the SMTP connection, if one is open.
func (s *Sender) Close() { s.closeClient() }

func (s *Sender) closeClient() {
	if s.client != nil {
		s.client.Close()
		s.client = nil
	}
}

func (s *Sender) dial(ctx context.Context) (*gomail.Client, error) {
	c, err := NewClient(s.Server)
	if err != nil {
		return nil, err
	}
	dctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	if err := c.DialWithContext(dctx); err != nil {
		return nil, fmt.Errorf("connect smtp %s:%d: %w", s.Server.Host, s.Server.Port, err)
	}
	return c, nil
}

// NewClient returns a go-mail client for the server (not yet connected).
func NewClient(srv Server) (*gomail.Client, error) {
	timeout := srv.Timeout
	if timeout == 0 {
		timeout = 30 * time.Second
	}
	opts := []gomail.Option{gomail.WithPort(srv.Port), gomail.WithTimeout(timeout)}
	tc := &tls.Config{ServerName: srv.Host, InsecureSkipVerify: srv.InsecureSkipVerify, MinVersion: tls.VersionTLS12}
	switch srv.TLS {
	case "implicit":
		opts = append(opts, gomail.WithSSL(), gomail.WithTLSConfig(tc))
	case "none":
		opts = append(opts, gomail.WithTLSPolicy(gomail.NoTLS))
	default: // starttls: required, never silently plain
		opts = append(opts, gomail.WithTLSPolicy(gomail.TLSMandatory), gomail.WithTLSConfig(tc))
	}
	if srv.HELO != "" {
		opts = append(opts, gomail.WithHELO(srv.HELO))
	}
	if srv.Username != "" {
		opts = append(opts, gomail.WithSMTPAuth(gomail.SMTPAuthAutoDiscover),
			gomail.WithUsername(srv.Username), gomail.WithPassword(srv.Password))
	}
	return gomail.NewClient(srv.Host, opts...)
}

// Build turns an outbox entry into a MIME message. Every mail gets the
// case token in its subject (set by the caller), its own Message-ID, and
// In-Reply-To/References (RFC 5322 3.6.4) when it answers a message.
// EncodeSubject writes a subject for the header: RFC 2047 encoded words
// for non-ASCII text, folded between words (RFC 5322 2.2.3), the first
// word on the "Subject:" line itself. go-mail folds right after the colon,
// and readers that do not unfold that exactly show the subject with a
// leading space (issue 13). Surrounding white space is dropped.
func EncodeSubject(s string) string {
	s = strings.Join(strings.Fields(s), " ")
	enc := mime.QEncoding.Encode("UTF-8", s)
	if enc == s {
		return s // plain ASCII
	}
	var b strings.Builder
	line := len("Subject: ")
	for i, w := range strings.Split(enc, " ") {
		if i > 0 {
			if line+1+len(w) > 76 {
				b.WriteString("\r\n ")
				line = 1
			} else {
				b.WriteString(" ")
				line++
			}
		}
		b.WriteString(w)
		line += len(w)
	}
	return b.String()
}

func Build(o cases.Outgoing, from *mail.Address, files []File) (*gomail.Msg, error) {
	m := gomail.NewMsg(gomail.WithNoDefaultUserAgent())
	sender := from.String()
	if o.From != "" {
		sender = o.From
	}
	if err := m.From(sender); err != nil {
		return nil, fmt.Errorf("from: %w", err)
	}
	if len(o.To) == 0 {
		return nil, errors.New("no recipient")
	}
	if err := m.To(o.To...); err != nil {
		return nil, fmt.Errorf("to: %w", err)
	}
	if len(o.Cc) > 0 {
		if err := m.Cc(o.Cc...); err != nil {
			return nil, fmt.Errorf("cc: %w", err)
		}
	}
	m.SetGenHeaderPreformatted(gomail.HeaderSubject, EncodeSubject(o.Subject))
	m.SetMessageIDWithValue(o.MessageID)
	m.SetDate()
	if o.InReplyTo != "" {
		m.SetGenHeader(gomail.HeaderInReplyTo, "<"+o.InReplyTo+">")
	}
	if len(o.References) > 0 {
		refs := ""
		for i, r := range o.References {
			if i > 0 {
				refs += " "
			}
			refs += "<" + r + ">"
		}
		m.SetGenHeader(gomail.HeaderReferences, refs) // one string: several args are joined with ", "
	}
	for k, v := range o.Headers {
		m.SetGenHeader(gomail.Header(k), v)
	}
	m.SetBodyString(gomail.TypeTextPlain, o.Text)
	for _, f := range files {
		ct := f.ContentType
		if ct == "" {
			ct = "application/octet-stream"
		}
		if err := m.AttachReader(f.Name, bytesReader(f.Data), gomail.WithFileContentType(gomail.ContentType(ct))); err != nil {
			return nil, fmt.Errorf("attach %q: %w", f.Name, err)
		}
	}
	return m, nil
}
