package mailout

import (
	"context"
	"errors"
	"fmt"
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
)

// memOutbox is an in-memory Outbox that records what the sender reports,
// in order, and can fail on request.
type memOutbox struct {
	mu       sync.Mutex
	items    map[int64]*Item
	order    []int64
	due      map[int64]time.Time // pending mails only
	log      []string            // "attempt 1#1", "sent 1", "retry 1", "failed 1"
	results  map[int64][]Result
	files    map[int64]File
	fileErr  error
	failNext map[string]int // "attempt"/"sent"/"retry"/"failed" -> how many calls fail
}

func newOutbox(items ...cases.Outgoing) *memOutbox {
	o := &memOutbox{items: map[int64]*Item{}, due: map[int64]time.Time{}, results: map[int64][]Result{},
		files: map[int64]File{}, failNext: map[string]int{}}
	for _, m := range items {
		o.add(Item{Mail: m})
	}
	return o
}

func (o *memOutbox) add(it Item) {
	o.items[it.Mail.ID] = &it
	o.order = append(o.order, it.Mail.ID)
	o.due[it.Mail.ID] = time.Time{}
}

// fault reports whether call op must fail now.
func (o *memOutbox) fault(op string) error {
	if o.failNext[op+" panic"] > 0 {
		o.failNext[op+" panic"]--
		panic("outbox " + op + " panics")
	}
	if o.failNext[op] > 0 {
		o.failNext[op]--
		return fmt.Errorf("outbox %s: disk I/O error", op)
	}
	return nil
}

func (o *memOutbox) Due(_ context.Context, now time.Time, limit int) ([]Item, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	var out []Item
	for _, id := range o.order {
		if due, ok := o.due[id]; ok && !due.After(now) && len(out) < limit {
			out = append(out, *o.items[id])
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

func (o *memOutbox) Attempt(_ context.Context, as []Attempt) ([]bool, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if err := o.fault("attempt"); err != nil {
		return nil, err
	}
	ok := make([]bool, len(as))
	for i, a := range as {
		it := o.items[a.ID]
		if _, pending := o.due[a.ID]; !pending || it.Attempts != a.N-1 {
			continue
		}
		it.Attempts = a.N
		o.due[a.ID] = a.Next
		o.log = append(o.log, fmt.Sprintf("attempt %d#%d", a.ID, a.N))
		ok[i] = true
	}
	return ok, nil
}

func (o *memOutbox) Sent(_ context.Context, sent []SentMail) error {
	err := func() error {
		o.mu.Lock()
		defer o.mu.Unlock() // fault may panic
		return o.fault("sent")
	}()
	if err != nil {
		return err
	}
	for _, m := range sent {
		if err := o.outcome("sent", m.ID, m.Result, nil); err != nil {
			return err
		}
	}
	return nil
}

func (o *memOutbox) Retry(_ context.Context, id int64, r Result, next time.Time) error {
	return o.outcome("retry", id, r, &next)
}

func (o *memOutbox) Failed(_ context.Context, it Item, r Result) error {
	return o.outcome("failed", it.Mail.ID, r, nil)
}

func (o *memOutbox) outcome(op string, id int64, r Result, next *time.Time) error {
	o.mu.Lock()
	defer o.mu.Unlock()
	if err := o.fault(op); err != nil {
		return err
	}
	o.log = append(o.log, fmt.Sprintf("%s %d", op, id))
	o.results[id] = append(o.results[id], r)
	if next != nil {
		o.due[id] = *next
	} else {
		delete(o.due, id)
	}
	return nil
}

func (o *memOutbox) Attachment(_ context.Context, id int64) (File, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.fileErr != nil {
		return File{}, o.fileErr
	}
	f, ok := o.files[id]
	if !ok {
		return File{}, fmt.Errorf("attachment %d: %w", id, ErrNoAttachment)
	}
	return f, nil
}

func (o *memOutbox) calls(op string) []string {
	o.mu.Lock()
	defer o.mu.Unlock()
	var out []string
	for _, l := range o.log {
		if strings.HasPrefix(l, op+" ") {
			out = append(out, l)
		}
	}
	return out
}

func (o *memOutbox) last(id int64) Result {
	o.mu.Lock()
	defer o.mu.Unlock()
	rs := o.results[id]
	if len(rs) == 0 {
		return Result{}
	}
	return rs[len(rs)-1]
}

// racedOutbox is an outbox on which another sender attempts mail 1 just
// before this one does.
type racedOutbox struct{ *memOutbox }

func (o racedOutbox) Attempt(ctx context.Context, as []Attempt) ([]bool, error) {
	o.mu.Lock()
	o.items[1].Attempts++
	o.mu.Unlock()
	return o.memOutbox.Attempt(ctx, as)
}

// testClock is a clock that moves only when told.
type testClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *testClock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *testClock) Add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

func newSender(fs *faultServer, o Outbox, clk *testClock) *Sender {
	return &Sender{Server: fs.server(), From: &mail.Address{Name: "Support", Address: "support@example.com"},
		Outbox: o, Now: clk.Now, Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
		Jitter: func(d time.Duration) time.Duration { return d }}
}

func outgoing(id int64, to string) cases.Outgoing {
	return cases.Outgoing{ID: id, Case: 7, Kind: "ack", To: []string{to}, Subject: "[Case#7] 打印机故障",
		Text: "您好，已收到。\n", MessageID: "case-7.ack." + strconv.FormatInt(id, 10) + "@example.com",
		InReplyTo: "orig@acme.test", References: []string{"root@acme.test", "orig@acme.test"},
		Headers: map[string]string{"Auto-Submitted": "auto-replied", "X-Auto-Response-Suppress": "All"}}
}

func start() *testClock { return &testClock{t: time.Date(2026, 11, 26, 9, 0, 0, 0, time.UTC)} }

func drain(t *testing.T, s *Sender) time.Duration {
	t.Helper()
	wait, err := s.Drain(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return wait
}

func TestSendHeadersAndAttachment(t *testing.T) {
	fs := startFaultServer(t)
	m := outgoing(1, "alice@acme.test")
	m.Attachments = []int64{5}
	o := newOutbox(m, outgoing(2, "bob@acme.test"))
	o.files[5] = File{Name: "日志.txt", ContentType: "text/plain", Data: []byte("log line")}
	s := newSender(fs, o, start())
	drain(t, s)
	if got := o.calls("sent"); len(got) != 2 {
		t.Fatalf("sent %v, log %v", got, o.log)
	}
	got := fs.messages()
	var raw string
	for _, c := range got {
		if c.To[0] == "alice@acme.test" {
			raw = string(c.Data)
		}
	}
	for _, want := range []string{"Message-ID: <case-7.ack.1@example.com>", "In-Reply-To: <orig@acme.test>",
		"References: <root@acme.test> <orig@acme.test>", "Auto-Submitted: auto-replied", "X-Auto-Response-Suppress: All"} {
		if !strings.Contains(raw, want) {
			t.Errorf("mail lacks %q:\n%s", want, raw)
		}
	}
	if strings.Count(raw, "Message-ID:") != 1 {
		t.Errorf("Message-ID appears %d times", strings.Count(raw, "Message-ID:"))
	}
	if !strings.Contains(raw, "filename") {
		t.Errorf("attachment missing:\n%s", raw)
	}
	if r := o.last(1); r.Code != 250 || r.Err != nil || r.Attempt != 1 {
		t.Errorf("result of a sent mail: %+v", r)
	}
}

// TestFaultsAtEachStage injects a temporary and a permanent reply at MAIL,
// RCPT and DATA: each is recorded with its code, enhanced status and
// stage, as a retry or a failure, and the mail queued behind it is sent
// in the same drain.
func TestFaultsAtEachStage(t *testing.T) {
	for _, tc := range []struct {
		name     string
		stage    Stage
		code     int
		enhanced smtp.EnhancedCode
		outcome  string
	}{
		{"mail 451", StageMail, 451, smtp.EnhancedCode{4, 3, 0}, "retry"},
		{"mail 550", StageMail, 550, smtp.EnhancedCode{5, 7, 1}, "failed"},
		{"rcpt 452", StageRcpt, 452, smtp.EnhancedCode{4, 2, 2}, "retry"},
		{"rcpt 550", StageRcpt, 550, smtp.EnhancedCode{5, 1, 1}, "failed"},
		{"data 451", StageData, 451, smtp.EnhancedCode{4, 3, 0}, "retry"},
		{"data 554", StageData, 554, smtp.EnhancedCode{5, 6, 0}, "failed"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			fs := startFaultServer(t)
			bad := "bad@acme.test"
			fail := &smtp.SMTPError{Code: tc.code, EnhancedCode: tc.enhanced, Message: "injected"}
			switch tc.stage {
			case StageMail:
				// MAIL comes before RCPT: fail the sender's first transaction.
				first := true
				fs.mail = func(string) error {
					if first {
						first = false
						return fail
					}
					return nil
				}
			case StageRcpt:
				fs.rcpt = func(to string) error {
					if to == bad {
						return fail
					}
					return nil
				}
			case StageData:
				fs.data = func(to []string, _ []byte) error {
					if to[0] == bad {
						return fail
					}
					return nil
				}
			}
			s := newSender(fs, nil, start())
			o := newOutbox(outgoing(1, bad), outgoing(2, "alice@acme.test"))
			s.Outbox = o
			s.Connections = 1 // one connection: the failure must not spoil it for mail 2
			drain(t, s)
			if got := o.calls(tc.outcome); len(got) != 1 || got[0] != tc.outcome+" 1" {
				t.Fatalf("log %v, want %s 1", o.log, tc.outcome)
			}
			if got := o.calls("sent"); len(got) != 1 || got[0] != "sent 2" {
				t.Fatalf("the mail behind the failure: log %v", o.log)
			}
			r := o.last(1)
			want := fmt.Sprintf("%d.%d.%d", tc.enhanced[0], tc.enhanced[1], tc.enhanced[2])
			if r.Err == nil || r.Err.Stage != tc.stage || r.Code != tc.code || r.Err.Code != tc.code ||
				r.Enhanced != want || r.Err.Temporary != (tc.outcome == "retry") {
				t.Fatalf("result %+v, err %+v", r, r.Err)
			}
			if d := Describe(r.Err); d != fmt.Sprintf("%d %s injected (%s)", tc.code, want, tc.stage) {
				t.Errorf("Describe = %q", d)
			}
			if sessions, _ := fs.counts(); sessions != 1 {
				t.Errorf("%d sessions, want 1 (the connection is kept after a reply)", sessions)
			}
		})
	}
}

// TestConnectionLostDuringDataIsTemporary: the server goes away in the
// middle of a mail: the attempt is a temporary failure with no reply
// code, and the next mail goes out over a new connection.
func TestConnectionLostDuringDataIsTemporary(t *testing.T) {
	fs := startFaultServer(t)
	first := true
	fs.data = func([]string, []byte) error {
		if first {
			first = false
			fs.dropAll()
			return errors.New("gone")
		}
		return nil
	}
	o := newOutbox(outgoing(1, "alice@acme.test"), outgoing(2, "bob@acme.test"))
	s := newSender(fs, o, start())
	s.Connections = 1
	drain(t, s)
	if got := strings.Join(o.log, ","); got != "attempt 1#1,attempt 2#1,retry 1,sent 2" {
		t.Fatalf("log %s", got)
	}
	if r := o.last(1); r.Err == nil || !r.Err.Temporary || r.Code != 0 || r.Err.Stage != StageData {
		t.Fatalf("result %+v", r.Err)
	}
	if sessions, _ := fs.counts(); sessions != 2 {
		t.Errorf("%d sessions, want 2", sessions)
	}
}

// TestAttemptRecordedBeforeSend: by the time the server has the mail, the
// outbox knows an attempt started (count and next try), as in mox.
func TestAttemptRecordedBeforeSend(t *testing.T) {
	fs := startFaultServer(t)
	o := newOutbox(outgoing(1, "alice@acme.test"))
	clk := start()
	var seen []string
	fs.data = func([]string, []byte) error {
		o.mu.Lock()
		defer o.mu.Unlock()
		seen = append([]string(nil), o.log...)
		if it := o.items[1]; it.Attempts != 1 || !o.due[1].Equal(clk.Now().Add(30*time.Second)) {
			t.Errorf("at DATA: attempts %d, next %v", it.Attempts, o.due[1])
		}
		return nil
	}
	drain(t, newSender(fs, o, clk))
	if len(seen) != 1 || seen[0] != "attempt 1#1" {
		t.Fatalf("outbox at DATA: %v", seen)
	}
	if got := o.calls("sent"); len(got) != 1 {
		t.Fatalf("log %v", o.log)
	}
}

func TestTemporaryFailureRetriesThenSends(t *testing.T) {
	fs := startFaultServer(t)
	fail := true
	var mu sync.Mutex
	fs.rcpt = func(string) error {
		mu.Lock()
		defer mu.Unlock()
		if fail {
			return &smtp.SMTPError{Code: 451, EnhancedCode: smtp.EnhancedCode{4, 3, 0}, Message: "try later"}
		}
		return nil
	}
	clk := start()
	o := newOutbox(outgoing(1, "alice@acme.test"))
	s := newSender(fs, o, clk)
	if wait := drain(t, s); wait != 5*time.Second {
		t.Errorf("wait = %v, want the 5s idle poll (the retry is 30s away)", wait)
	}
	if got := strings.Join(o.log, ","); got != "attempt 1#1,retry 1" {
		t.Fatalf("after 451: %s", got)
	}
	if _, open := fs.counts(); open != 1 {
		t.Errorf("%d connections open while a retry is 30s away, want 1 kept", open)
	}
	// Not due again before the backoff.
	clk.Add(29 * time.Second)
	drain(t, s)
	if len(o.log) != 2 {
		t.Fatalf("retried before the backoff: %v", o.log)
	}
	mu.Lock()
	fail = false
	mu.Unlock()
	clk.Add(time.Second)
	drain(t, s)
	if got := strings.Join(o.log, ","); got != "attempt 1#1,retry 1,attempt 1#2,sent 1" {
		t.Fatalf("after the backoff: %s", got)
	}
	// Nothing queued any more: the connection is closed (QUIT).
	fs.waitAllClosed(t)
}

func TestGivesUpAfterMaxAttempts(t *testing.T) {
	fs := startFaultServer(t)
	fs.rcpt = func(string) error {
		return &smtp.SMTPError{Code: 421, EnhancedCode: smtp.EnhancedCode{4, 4, 2}, Message: "busy"}
	}
	clk := start()
	o := newOutbox(outgoing(1, "alice@acme.test"))
	s := newSender(fs, o, clk)
	s.MaxAttempts = 3
	for range 3 {
		drain(t, s)
		clk.Add(4 * time.Hour)
	}
	if got := strings.Join(o.log, ","); got != "attempt 1#1,retry 1,attempt 1#2,retry 1,attempt 1#3,failed 1" {
		t.Fatalf("log %s", got)
	}
	if r := o.last(1); r.Code != 421 || r.Attempt != 3 {
		t.Errorf("last result %+v", r)
	}
}

func TestServerDownIsTemporary(t *testing.T) {
	ln, _ := net.Listen("tcp", "127.0.0.1:0")
	addr := ln.Addr().(*net.TCPAddr)
	ln.Close() // nothing listens here now
	o := newOutbox(outgoing(1, "alice@acme.test"))
	s := &Sender{Server: Server{Host: "127.0.0.1", Port: addr.Port, TLS: "none", Timeout: 2 * time.Second},
		From: &mail.Address{Address: "support@example.com"}, Outbox: o, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}
	drain(t, s)
	if got := strings.Join(o.log, ","); got != "attempt 1#1,retry 1" {
		t.Fatalf("a refused connection: %s", got)
	}
	if r := o.last(1); r.Err.Stage != StageConnect || !r.Err.Temporary || r.Code != 0 {
		t.Errorf("result %+v", r.Err)
	}
}

// TestMailThatCannotBeBuiltFailsOnce: a row the outbox cannot read, a
// mail without recipient and a missing attachment each fail once and are
// never sent nor tried again; the good mail behind them goes out.
func TestMailThatCannotBeBuiltFailsOnce(t *testing.T) {
	fs := startFaultServer(t)
	noRcpt := outgoing(2, "x@acme.test")
	noRcpt.To = nil
	noFile := outgoing(3, "carol@acme.test")
	noFile.Attachments = []int64{99}
	o := newOutbox(noRcpt, noFile, outgoing(4, "alice@acme.test"))
	o.add(Item{Mail: cases.Outgoing{ID: 1}, Broken: errors.New("outbox 1: mail: unexpected end of JSON input")})
	clk := start()
	s := newSender(fs, o, clk)
	for range 3 {
		drain(t, s)
		clk.Add(time.Hour)
	}
	if len(o.calls("attempt")) != 4 || len(o.calls("failed")) != 3 || len(o.calls("sent")) != 1 {
		t.Fatalf("log %v", o.log)
	}
	for _, id := range []int64{1, 2, 3} {
		if r := o.last(id); r.Err == nil || r.Err.Temporary || (r.Err.Stage != StageBuild && r.Err.Stage != StageOutbox) {
			t.Errorf("mail %d: %+v", id, r.Err)
		}
	}
	if n := len(fs.messages()); n != 1 {
		t.Errorf("%d messages reached the server, want 1", n)
	}
}

// TestOutboxFaults: store faults at each call. An attempt that cannot be
// recorded is not sent; an attachment that cannot be loaded is retried
// later; a sent mail whose outcome cannot be recorded is never sent again
// and is recorded once the outbox answers. Nothing holds up the others.
func TestOutboxFaults(t *testing.T) {
	t.Run("attempt", func(t *testing.T) {
		fs := startFaultServer(t)
		o := newOutbox(outgoing(1, "alice@acme.test"), outgoing(2, "bob@acme.test"))
		o.failNext["attempt"] = 1
		s := newSender(fs, o, start())
		drain(t, s)
		if len(o.log) != 0 || len(fs.messages()) != 0 {
			t.Fatalf("sent without a recorded attempt: log %v, %d delivered", o.log, len(fs.messages()))
		}
		drain(t, s) // the outbox answers again: both go out
		if got := o.calls("sent"); len(got) != 2 || len(fs.messages()) != 2 {
			t.Fatalf("log %v", o.log)
		}
	})
	t.Run("not pending", func(t *testing.T) {
		// Mail 1 was attempted by someone else meanwhile: its attempt is
		// refused, it is not sent, and mail 2 is.
		fs := startFaultServer(t)
		o := newOutbox(outgoing(1, "alice@acme.test"), outgoing(2, "bob@acme.test"))
		s := newSender(fs, o, start())
		s.Outbox = racedOutbox{o}
		drain(t, s)
		if got := strings.Join(o.log, ","); got != "attempt 2#1,sent 2" || len(fs.messages()) != 1 {
			t.Fatalf("log %s, %d delivered", got, len(fs.messages()))
		}
	})
	t.Run("attachment", func(t *testing.T) {
		fs := startFaultServer(t)
		m := outgoing(1, "alice@acme.test")
		m.Attachments = []int64{5}
		o := newOutbox(m, outgoing(2, "bob@acme.test"))
		o.files[5] = File{Name: "a.txt", Data: []byte("x")}
		o.fileErr = errors.New("database is locked")
		clk := start()
		s := newSender(fs, o, clk)
		drain(t, s)
		if r := o.last(1); r.Err == nil || !r.Err.Temporary || r.Err.Stage != StageOutbox || len(o.calls("sent")) != 1 {
			t.Fatalf("log %v, result %+v", o.log, r.Err)
		}
		drain(t, s) // not due again before its backoff
		if len(o.calls("attempt")) != 2 {
			t.Fatalf("retried in a loop: %v", o.log)
		}
		o.mu.Lock()
		o.fileErr = nil
		o.mu.Unlock()
		clk.Add(30 * time.Second)
		drain(t, s)
		if got := o.calls("sent"); len(got) != 2 {
			t.Fatalf("log %v", o.log)
		}
	})
	t.Run("sent", func(t *testing.T) {
		fs := startFaultServer(t)
		o := newOutbox(outgoing(1, "alice@acme.test"), outgoing(2, "bob@acme.test"))
		o.failNext["sent"] = 3
		clk := start()
		s := newSender(fs, o, clk)
		s.Connections = 1
		var onSent []int64
		s.OnSent = func(m cases.Outgoing) { onSent = append(onSent, m.ID) }
		drain(t, s)
		// Both reached the server although recording failed: the
		// outbox fault held up neither.
		if n := len(fs.messages()); n != 2 {
			t.Fatalf("%d reached the server, want 2", n)
		}
		for range 3 {
			clk.Add(time.Hour) // long past the attempt's next try
			drain(t, s)
		}
		if n := len(fs.messages()); n != 2 {
			t.Fatalf("a sent mail went out again: %d copies", n)
		}
		if got := o.calls("sent"); len(got) != 2 {
			t.Fatalf("outcomes not recorded: %v", o.log)
		}
		if len(onSent) != 2 {
			t.Errorf("OnSent for %v", onSent)
		}
	})
}

// TestPanicInOutboxIsContained: an outbox that panics while recording one
// outcome neither stops the sender nor makes it send that mail again.
func TestPanicInOutboxIsContained(t *testing.T) {
	fs := startFaultServer(t)
	o := newOutbox(outgoing(1, "alice@acme.test"), outgoing(2, "bob@acme.test"))
	o.failNext["sent panic"] = 1
	clk := start()
	s := newSender(fs, o, clk)
	s.Connections = 1
	drain(t, s)
	clk.Add(time.Hour)
	drain(t, s)
	if n := len(fs.messages()); n != 2 {
		t.Errorf("%d deliveries, want 2 (the panicking one not again)", n)
	}
	if got := o.calls("sent"); len(got) != 1 || got[0] != "sent 2" {
		t.Errorf("log %v", o.log)
	}
}

// TestConnectionReuse: consecutive mails share one connection, and a
// connection the server dropped while idle is replaced within the same
// attempt instead of costing the mail a retry.
func TestConnectionReuse(t *testing.T) {
	fs := startFaultServer(t)
	var ms []cases.Outgoing
	for i := range 20 {
		ms = append(ms, outgoing(int64(i+1), fmt.Sprintf("u%d@acme.test", i)))
	}
	o := newOutbox(ms...)
	clk := start()
	// Mail 21 is due in 10s: the connection stays open meanwhile.
	o.add(Item{Mail: outgoing(21, "late@acme.test")})
	o.due[21] = clk.Now().Add(10 * time.Second)
	s := newSender(fs, o, clk)
	s.Connections = 1
	drain(t, s)
	if sessions, open := fs.counts(); sessions != 1 || open != 1 || len(fs.messages()) != 20 {
		t.Fatalf("%d sessions (%d open) for %d mails, want 1", sessions, open, len(fs.messages()))
	}
	fs.dropAll()
	clk.Add(10 * time.Second)
	drain(t, s)
	if got := strings.Join(o.calls("sent"), ","); !strings.HasSuffix(got, "sent 21") || len(o.calls("retry")) != 0 {
		t.Fatalf("after the server dropped the connection: %v", o.log)
	}
	if sessions, _ := fs.counts(); sessions != 2 {
		t.Errorf("%d sessions, want 2 (one redial)", sessions)
	}
	s.Close()
}

// TestSlowRecipientDoesNotHoldBackOthers: while the server keeps one
// mail's RCPT waiting, the mails queued behind it are delivered over the
// other connections.
func TestSlowRecipientDoesNotHoldBackOthers(t *testing.T) {
	fs := startFaultServer(t)
	release := make(chan struct{})
	arrived := make(chan struct{})
	fs.rcpt = func(to string) error {
		if to == "slow@acme.test" {
			close(arrived)
			<-release
		}
		return nil
	}
	ms := []cases.Outgoing{outgoing(1, "slow@acme.test")}
	for i := range 10 {
		ms = append(ms, outgoing(int64(i+2), fmt.Sprintf("u%d@acme.test", i)))
	}
	o := newOutbox(ms...)
	s := newSender(fs, o, start())
	done := make(chan error, 1)
	go func() { _, err := s.Drain(context.Background()); done <- err }()
	select {
	case <-arrived:
	case <-time.After(10 * time.Second):
		t.Fatal("the slow mail never reached RCPT")
	}
	for i := range 10 {
		select {
		case c := <-fs.accepted:
			if c.To[0] == "slow@acme.test" {
				t.Fatal("the slow mail was accepted while held")
			}
		case <-time.After(10 * time.Second):
			t.Fatalf("only %d of 10 mails behind the slow one were delivered", i)
		}
	}
	close(release)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if got := o.calls("sent"); len(got) != 11 {
		t.Fatalf("log %v", o.log)
	}
	s.Close()
	// No connection is left open once the sender is closed.
	fs.waitAllClosed(t)
}

func TestBackoff(t *testing.T) {
	for n, want := range map[int]time.Duration{1: 30 * time.Second, 2: time.Minute, 3: 2 * time.Minute, 20: 4 * time.Hour} {
		if got := Backoff(n); got != want {
			t.Errorf("Backoff(%d) = %v, want %v", n, got, want)
		}
	}
}

func TestJitterSpreadsRetries(t *testing.T) {
	s := &Sender{}
	seen := map[time.Duration]bool{}
	for range 50 {
		d := s.jitter(time.Minute)
		if d < time.Minute || d > time.Minute+6*time.Second {
			t.Fatalf("jitter(1m) = %v, want within [1m, 1m6s]", d)
		}
		seen[d] = true
	}
	if len(seen) < 2 {
		t.Error("jitter always gives the same wait")
	}
}

func TestClassify(t *testing.T) {
	if !Temporary(errors.New("dial tcp: connection refused")) {
		t.Error("a dial error is temporary")
	}
	if Temporary(buildError("no recipient")) {
		t.Error("a build error is permanent")
	}
	if d := Describe(nil); d != "" {
		t.Errorf("Describe(nil) = %q", d)
	}
}
