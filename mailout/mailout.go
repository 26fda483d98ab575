// Package mailout builds outgoing MIME mail with go-mail and sends the
// outbox over SMTP (SPEC §7).
//
// It owns the SMTP connections (a few, each kept open and reused between
// mails), the order of a delivery in the manner of mox's queue (the
// attempt is recorded before anything is sent, then its outcome), and the
// decision whether a failure is temporary (4xx, network: retried with
// backoff and jitter) or permanent (5xx, a mail that cannot be built:
// failed once), carried by a DeliveryError with the server's reply code
// and enhanced status. What to send, and what a permanent failure means
// for a case, belong to the Outbox implementation.
package mailout

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"mime"
	"net"
	"net/mail"
	"runtime/debug"
	"strconv"
	"strings"
	"sync"
	"time"

	gomail "github.com/wneessen/go-mail"

	"helpdeskd/cases"
)

// Item is one mail due for sending.
type Item struct {
	Mail     cases.Outgoing
	Attempts int // attempts made so far
	// Broken, if set, is why the outbox could not read the mail: it is
	// failed once, never sent.
	Broken error
}

// File is an attachment to include: its bytes in Data, or, for a large
// one, in Body.
type File struct {
	Name, ContentType string
	Data              []byte
	// Body, when set, is read instead of Data while the mail is written to
	// the server (a large attachment in a temporary file, never held in
	// memory). The sender closes it after the attempt.
	Body io.ReadSeekCloser
}

// Attempt is a delivery attempt, recorded before it is made (as mox's
// queue does): if it never reports back, because the process died, the
// mail is due again at Next and is not lost.
type Attempt struct {
	ID   int64 // the mail
	N    int   // 1 for the first attempt
	At   time.Time
	Next time.Time
}

// Result is how an attempt ended.
type Result struct {
	Attempt  int
	At       time.Time
	Code     int    // 250 when sent, else the failure's SMTP code (0: none)
	Enhanced string // RFC 3463 enhanced status code, "" if the server gave none
	Response string // the server's reply to an accepted mail ("2.0.0 Ok: queued as …")
	// Err is why the attempt failed; nil when the mail was sent.
	Err *DeliveryError
}

// Outbox is where the sender takes mail from and records what became of
// it. Attempt is called before a mail is sent; exactly one of Sent, Retry
// or Failed after.
type Outbox interface {
	// Due returns up to limit mails due at now, earliest first.
	Due(ctx context.Context, now time.Time, limit int) ([]Item, error)
	// Next returns when the next mail is due.
	Next(ctx context.Context) (time.Time, bool, error)
	// Attempt records that the attempts start, all in one transaction;
	// ok[i] reports whether as[i] was recorded (not when its mail is no
	// longer pending). A mail is not sent unless its attempt was.
	Attempt(ctx context.Context, as []Attempt) (ok []bool, err error)
	// Sent records that the server accepted the mails, all in one
	// transaction: the sender records the mails accepted while the last
	// record was being written together (a group commit).
	Sent(ctx context.Context, sent []SentMail) error
	// Retry records a temporary failure; the mail is due again at next.
	Retry(ctx context.Context, id int64, r Result, next time.Time) error
	// Failed records a permanent failure (r.Err says why).
	Failed(ctx context.Context, item Item, r Result) error
	// Attachment loads an attachment; an error wrapping ErrNoAttachment
	// fails the mail, any other is retried.
	Attachment(ctx context.Context, id int64) (File, error)
}

// SentMail is a mail the server accepted, and the attempt's result.
type SentMail struct {
	ID     int64
	Result Result
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
//
// Each mail is sent over one of at most Connections SMTP connections,
// which stay open for the mails that follow; a mail whose server is slow
// to answer holds up only its own connection, and a mail that fails,
// whatever the reason, is recorded and never holds up the others.
type Sender struct {
	Server Server
	From   *mail.Address
	Outbox Outbox
	Now    func() time.Time
	Logger *slog.Logger
	Batch  int
	// MaxAttempts is how many attempts a mail gets before a temporary
	// failure is treated as permanent; zero value: 20 (about two days of
	// backoff).
	MaxAttempts int
	// Connections is how many mails are sent at once, each over its own
	// SMTP connection; zero value: 4.
	Connections int
	// Jitter turns a backoff into the wait actually used, so that mails
	// failed together are not retried together; zero value: the backoff
	// plus up to 10% more at random.
	Jitter func(backoff time.Duration) time.Duration
	// OnSent, if set, is called after each mail is sent and recorded (for
	// metrics and the demo), by one goroutine at a time.
	OnSent func(cases.Outgoing)

	initOnce  sync.Once
	onSent    sync.Mutex // serializes OnSent
	wake      chan struct{}
	slots     chan struct{} // one per connection in use
	recording chan struct{} // one per outcome being recorded
	wg        sync.WaitGroup
	mu        sync.Mutex
	inflight  map[int64]bool   // attempted, outcome not yet recorded
	idle      []*gomail.Client // open connections not in use
	// unrecorded are outcomes the outbox could not take: retried before
	// anything else, and their mails are never sent again meanwhile.
	unrecorded []outcome
	// group is the sent mails waiting to be recorded together; recordMu
	// is held while a group is written (see recordSent).
	group    *sentGroup
	recordMu sync.Mutex
	// downUntil is when the server, which refused a connection, is tried
	// again; downFor is the current pause (see markDown).
	downUntil time.Time
	downFor   time.Duration
}

// outcome is a Result waiting to be recorded.
type outcome struct {
	item Item
	r    Result
	next time.Time // for a retry
}

// Kick wakes the sender: new mail is in the outbox. It never blocks.
func (s *Sender) Kick() {
	s.Init()
	select {
	case s.wake <- struct{}{}:
	default:
	}
}

// Init prepares the sender; Run and Drain call it, call it first if Kick
// may race with their start.
func (s *Sender) Init() {
	s.initOnce.Do(func() {
		s.wake = make(chan struct{}, 1)
		n := s.Connections
		if n <= 0 {
			n = 4
		}
		s.slots = make(chan struct{}, n)
		s.recording = make(chan struct{}, n)
		s.inflight = map[int64]bool{}
	})
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

// Run sends due mail until ctx is done, then waits for the mails being
// sent (each bounded by the server timeout) and returns.
func (s *Sender) Run(ctx context.Context) error {
	s.Init()
	defer s.wg.Wait()
	for {
		wait := s.safeDispatch(ctx)
		timer := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			timer.Stop()
			return nil
		case <-s.wake:
		case <-timer.C:
		}
		timer.Stop()
	}
}

// safeDispatch starts everything due and returns how long to sleep.
func (s *Sender) safeDispatch(ctx context.Context) (wait time.Duration) {
	defer func() {
		if r := recover(); r != nil {
			s.log().Error("sender panic", "panic", r, "stack", string(debug.Stack()))
			wait = 5 * time.Second
		}
	}()
	wait, err := s.dispatch(ctx)
	if err != nil && ctx.Err() == nil {
		s.log().Error("send outbox", "err", err)
		return 5 * time.Second
	}
	return wait
}

// Drain sends all mail due now, waits until each has its outcome, and
// returns how long until the next is due (at most 5 seconds). It is used
// for the bounded drain at shutdown and by tests that drive the clock.
func (s *Sender) Drain(ctx context.Context) (time.Duration, error) {
	s.Init()
	if _, err := s.dispatch(ctx); err != nil {
		s.wg.Wait()
		return 0, err
	}
	s.wg.Wait()
	return s.nextWait(ctx)
}

// dispatch records an attempt for each due mail and starts sending it as
// soon as a connection is free. It returns how long until the next mail is
// due without waiting for the sends.
func (s *Sender) dispatch(ctx context.Context) (time.Duration, error) {
	batch := s.Batch
	if batch == 0 {
		batch = 50
	}
	s.flush(ctx)
	seen := map[int64]bool{}
	for {
		if wait, down := s.down(); down {
			return wait, nil
		}
		items, err := s.Outbox.Due(ctx, s.now(), batch)
		if err != nil {
			return 0, err
		}
		var fresh []Item
		for _, it := range items {
			id := it.Mail.ID
			if seen[id] || s.busy(id) {
				continue
			}
			seen[id] = true
			fresh = append(fresh, it)
		}
		nfresh := len(fresh)
		// Attempts are recorded a batch at a time, while the
		// connections are still busy with the mails before them, so
		// that the database is not in the way of the next send.
		for len(fresh) > 0 {
			if _, down := s.down(); down {
				return s.nextWait(ctx)
			}
			group := fresh[:min(len(fresh), attemptGroup)]
			fresh = fresh[len(group):]
			for _, st := range s.attempt(ctx, group) {
				select {
				case s.slots <- struct{}{}:
				case <-ctx.Done():
					// Not sent: due again at the attempt's next try.
					s.done(st.it.Mail.ID)
					continue
				}
				s.wg.Add(1)
				go s.sendAndRecord(ctx, st.it, st.a)
			}
			if ctx.Err() != nil {
				return 0, nil
			}
		}
		if nfresh == 0 || len(items) < batch {
			break
		}
	}
	return s.nextWait(ctx)
}

// nextWait returns how long until the next mail is due (at most 5
// seconds), and closes the idle connections when none is due soon.
func (s *Sender) nextWait(ctx context.Context) (time.Duration, error) {
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
	if !ok || next.Sub(s.now()) > idleKeep {
		s.closeIdle() // nothing due soon: don't hold connections open
	}
	return wait, nil
}

// down reports whether the server refused a connection lately, and how
// long until it is tried again.
func (s *Sender) down() (time.Duration, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	wait := s.downUntil.Sub(s.now())
	return wait, wait > 0
}

// markDown pauses sending after the server refused a connection (the
// connect stage: dial, TLS, AUTH): for 2 s, doubling up to a minute while
// it stays down. Without the pause every queued mail would get an attempt
// and a deferral of its own — a write each, thousands while an import
// fills the queue — for a failure that is the server's, not the mail's.
func (s *Sender) markDown(err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.now().Before(s.downUntil) {
		return // the connections of one round fail together
	}
	s.downFor = min(max(2*s.downFor, 2*time.Second), time.Minute)
	s.downUntil = s.now().Add(s.downFor)
	s.log().Warn("smtp server unreachable, outbox paused", "err", err, "retry_in", s.downFor)
}

// markUp ends the pauses once a mail went through.
func (s *Sender) markUp() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.downFor, s.downUntil = 0, time.Time{}
}

// attemptGroup is how many attempts are recorded in one transaction: a
// mail's attempt may be recorded that many sends before it is made.
const attemptGroup = 16

// idleKeep is how far off the next mail may be for idle connections to
// stay open (servers drop idle ones after a few minutes: Postfix's
// smtpd_timeout is 300 s).
const idleKeep = 30 * time.Second

// busy reports whether mail id is being sent or its outcome is waiting
// to be recorded.
func (s *Sender) busy(id int64) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.inflight[id]
}

// started is a mail whose attempt is recorded.
type started struct {
	it Item
	a  Attempt
}

// attempt records the attempts about to start. Until its attempt is
// recorded a mail is not sent; once it is, the mail is not due again
// before the backoff, so a mail that fails in any way (or takes the
// process down) cannot be retried in a loop or hold up the ones behind
// it.
func (s *Sender) attempt(ctx context.Context, items []Item) []started {
	now := s.now()
	as := make([]Attempt, len(items))
	for i, it := range items {
		n := it.Attempts + 1
		as[i] = Attempt{ID: it.Mail.ID, N: n, At: now, Next: now.Add(s.jitter(Backoff(n)))}
	}
	ok, err := s.Outbox.Attempt(ctx, as)
	if err != nil {
		s.log().Error("record attempts", "mails", len(as), "err", err)
		return nil
	}
	var out []started
	for i, it := range items {
		if i >= len(ok) || !ok[i] {
			s.log().Warn("mail not pending", "case", it.Mail.Case, "msgid", it.Mail.MessageID, "attempt", as[i].N)
			continue
		}
		s.mu.Lock()
		s.inflight[it.Mail.ID] = true
		s.mu.Unlock()
		out = append(out, started{it, as[i]})
	}
	return out
}

// sendAndRecord sends a mail whose attempt is recorded and records the
// outcome; it holds one of the slots.
func (s *Sender) sendAndRecord(ctx context.Context, it Item, a Attempt) {
	defer s.wg.Done()
	if _, down := s.down(); down {
		// Attempted before the server refused a connection: not sent,
		// due again at the attempt's next try.
		<-s.slots
		s.done(it.Mail.ID)
		return
	}
	o := s.deliver(ctx, it, a)
	if e := o.r.Err; e != nil && e.Stage == StageConnect {
		s.markDown(e)
	} else if e == nil {
		s.markUp()
	}
	// The connection is free again as soon as the outcome waits among
	// at most as many as there are connections: recording it does not
	// delay the next mail.
	s.recording <- struct{}{}
	<-s.slots
	defer func() { <-s.recording }()
	defer func() {
		if r := recover(); r != nil {
			// The mail stays busy: this process does not send it again.
			s.log().Error("sender panic", "panic", r, "stack", string(debug.Stack()), "msgid", it.Mail.MessageID)
		}
	}()
	s.record(ctx, o)
}

func (s *Sender) jitter(d time.Duration) time.Duration {
	if s.Jitter != nil {
		return s.Jitter(d)
	}
	return d + rand.N(d/10+1)
}

// deliver builds and sends one mail whose attempt is recorded, and
// returns the outcome to record.
func (s *Sender) deliver(ctx context.Context, it Item, a Attempt) (o outcome) {
	log := s.log().With("case", it.Mail.Case, "msgid", it.Mail.MessageID, "kind", it.Mail.Kind, "attempt", a.N)
	defer func() {
		if r := recover(); r != nil {
			log.Error("sender panic", "panic", r, "stack", string(debug.Stack()))
			o = outcome{item: it, r: Result{Attempt: a.N, At: s.now(),
				Err: &DeliveryError{Stage: StageBuild, Err: fmt.Errorf("panic: %v", r)}}}
		}
	}()
	resp, err := s.buildAndSend(ctx, it)
	r := Result{Attempt: a.N, At: s.now()}
	if err == nil {
		r.Code, r.Enhanced = accepted(resp)
		r.Response = resp
		log.Info("mail sent", "rcpt", it.Mail.To)
		return outcome{item: it, r: r}
	}
	r.Err = classify(err)
	r.Code, r.Enhanced = r.Err.Code, r.Err.Enhanced
	maxAttempts := s.MaxAttempts
	if maxAttempts == 0 {
		maxAttempts = 20
	}
	if !r.Err.Temporary || a.N >= maxAttempts {
		log.Error("mail failed", "rcpt", it.Mail.To, "err", err)
		return outcome{item: it, r: r}
	}
	next := r.At.Add(s.jitter(Backoff(a.N)))
	log.Warn("mail deferred", "rcpt", it.Mail.To, "err", err, "next", next)
	return outcome{item: it, r: r, next: next}
}

// buildAndSend returns the server's reply to the accepted mail.
func (s *Sender) buildAndSend(ctx context.Context, it Item) (string, error) {
	if it.Broken != nil {
		return "", &DeliveryError{Stage: StageBuild, Err: it.Broken}
	}
	var files []File
	defer func() {
		for _, f := range files {
			if f.Body != nil {
				f.Body.Close()
			}
		}
	}()
	for _, id := range it.Mail.Attachments {
		f, err := s.Outbox.Attachment(ctx, id)
		if err != nil {
			return "", &DeliveryError{Stage: StageOutbox, Temporary: !errors.Is(err, ErrNoAttachment),
				Err: fmt.Errorf("attachment %d: %w", id, err)}
		}
		files = append(files, f)
	}
	if hasBody(files) {
		return s.sendStreaming(ctx, it, files)
	}
	m, err := Build(it.Mail, s.From, files)
	if err != nil {
		return "", &DeliveryError{Stage: StageBuild, Err: err}
	}
	return s.send(ctx, m)
}

// record hands an outcome to the outbox. Once a mail may have gone out
// its outcome is recorded even if shutdown cancels ctx meanwhile; if the
// outbox fails, the outcome is kept and recorded later, and the mail is
// not sent again by this process (it stays busy).
func (s *Sender) record(ctx context.Context, o outcome) {
	if err := s.recordNow(ctx, o); err != nil {
		s.log().Error("record outcome", "case", o.item.Mail.Case, "msgid", o.item.Mail.MessageID, "attempt", o.r.Attempt, "err", err)
		s.mu.Lock()
		s.unrecorded = append(s.unrecorded, o)
		s.mu.Unlock()
		return
	}
	s.done(o.item.Mail.ID)
	if o.r.Err == nil && s.OnSent != nil {
		s.onSent.Lock()
		defer s.onSent.Unlock()
		s.OnSent(o.item.Mail)
	}
}

// done forgets mail id: its outcome is recorded, or it was not sent.
func (s *Sender) done(id int64) {
	s.mu.Lock()
	delete(s.inflight, id)
	s.mu.Unlock()
}

func (s *Sender) recordNow(ctx context.Context, o outcome) error {
	rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
	defer cancel()
	id := o.item.Mail.ID
	switch {
	case o.r.Err == nil:
		return s.recordSent(rctx, o)
	case o.next.IsZero():
		return s.Outbox.Failed(rctx, o.item, o.r)
	default:
		return s.Outbox.Retry(rctx, id, o.r, o.next)
	}
}

// sentGroup is the sent mails recorded in one transaction, and how that
// went.
type sentGroup struct {
	mails []SentMail
	done  chan struct{}
	err   error
}

// recordSent records a sent mail together with the others accepted
// meanwhile (a group commit): the first mail of a group waits for the
// record before it to be written, while mails sent in that time join its
// group; then it records them all in one transaction. Each mail's
// goroutine returns once its group is recorded, with the group's error.
func (s *Sender) recordSent(ctx context.Context, o outcome) error {
	s.mu.Lock()
	g := s.group
	if g == nil {
		g = &sentGroup{done: make(chan struct{})}
		s.group = g
	}
	g.mails = append(g.mails, SentMail{ID: o.item.Mail.ID, Result: o.r})
	leader := len(g.mails) == 1
	s.mu.Unlock()
	if !leader {
		<-g.done
		return g.err
	}
	s.recordMu.Lock()
	s.mu.Lock()
	s.group = nil // mails sent from now on form the next group
	s.mu.Unlock()
	var panicked any
	func() {
		// The group is released however the outbox returns; a panic
		// goes on to the leader's caller (sendAndRecord keeps its mail
		// busy), the others get it as their error.
		defer func() {
			if panicked = recover(); panicked != nil {
				g.err = fmt.Errorf("record sent mail: panic: %v", panicked)
			}
			s.recordMu.Unlock()
			close(g.done)
		}()
		g.err = s.Outbox.Sent(ctx, g.mails)
	}()
	if panicked != nil {
		panic(panicked)
	}
	return g.err
}

// flush records the outcomes the outbox could not take before. One that
// still cannot be recorded is kept for the next round; it does not stop
// the others, nor the mail behind it.
func (s *Sender) flush(ctx context.Context) {
	s.mu.Lock()
	todo := s.unrecorded
	s.unrecorded = nil
	s.mu.Unlock()
	for _, o := range todo {
		s.record(ctx, o)
	}
}

// Backoff is the wait after the nth attempt failed temporarily: 30s
// doubling, at most 4h.
func Backoff(n int) time.Duration {
	d := 30 * time.Second
	for i := 1; i < n && d < 4*time.Hour; i++ {
		d *= 2
	}
	return min(d, 4*time.Hour)
}

// send sends m over an open connection (dialling one if none is idle) and
// returns the server's reply to the accepted mail. A connection found
// dead before anything was sent (the server closed it while idle) is
// replaced once within the attempt.
func (s *Sender) send(ctx context.Context, m *gomail.Msg) (string, error) {
	for try := 0; ; try++ {
		c, reused, err := s.take(ctx)
		if err != nil {
			return "", err
		}
		err = c.Send(m)
		if m.IsDelivered() {
			// Accepted; an error can only be the RSET after it.
			if err != nil {
				c.Close()
			} else {
				s.put(c)
			}
			return m.ServerResponse(), nil
		}
		var se *gomail.SendError
		if errors.As(err, &se) && se.Reason == gomail.ErrConnCheck && reused && try == 0 {
			c.Close()
			continue
		}
		if err != nil && (!errors.As(err, &se) || se.ErrorCode() == 0) {
			c.Close() // the connection may be gone
		} else {
			s.put(c)
		}
		return "", err
	}
}

func (s *Sender) take(ctx context.Context) (c *gomail.Client, reused bool, err error) {
	s.mu.Lock()
	if n := len(s.idle); n > 0 {
		c = s.idle[n-1]
		s.idle = s.idle[:n-1]
	}
	s.mu.Unlock()
	if c != nil {
		return c, true, nil
	}
	c, err = s.dial(ctx)
	return c, false, err
}

func (s *Sender) put(c *gomail.Client) {
	s.mu.Lock()
	s.idle = append(s.idle, c)
	s.mu.Unlock()
}

// Close closes the idle SMTP connections.
func (s *Sender) Close() { s.closeIdle() }

func (s *Sender) closeIdle() {
	s.mu.Lock()
	idle := s.idle
	s.idle = nil
	s.mu.Unlock()
	for _, c := range idle {
		c.Close()
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

// encodeSubject writes a subject for the header: RFC 2047 encoded words
// for non-ASCII text, folded between words (RFC 5322 2.2.3), the first
// word on the "Subject:" line itself. go-mail folds right after the colon,
// and readers that do not unfold that exactly show the subject with a
// leading space (issue 13). Surrounding white space is dropped.
func encodeSubject(s string) string {
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

// Build turns an outbox entry into a MIME message. Every mail gets the
// case token in its subject (set by the caller), its own Message-ID, and
// In-Reply-To/References (RFC 5322 3.6.4) when it answers a message.
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
		return nil, buildError("no recipient")
	}
	if err := m.To(o.To...); err != nil {
		return nil, fmt.Errorf("to: %w", err)
	}
	if len(o.Cc) > 0 {
		if err := m.Cc(o.Cc...); err != nil {
			return nil, fmt.Errorf("cc: %w", err)
		}
	}
	m.SetGenHeaderPreformatted(gomail.HeaderSubject, encodeSubject(o.Subject))
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
		if f.Body != nil {
			m.AttachReadSeeker(f.Name, f.Body, gomail.WithFileContentType(gomail.ContentType(ct)))
			continue
		}
		if err := m.AttachReader(f.Name, bytesReader(f.Data), gomail.WithFileContentType(gomail.ContentType(ct))); err != nil {
			return nil, fmt.Errorf("attach %q: %w", f.Name, err)
		}
	}
	return m, nil
}
