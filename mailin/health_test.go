package mailin

import (
	"context"
	"errors"
	"io"
	"log"
	"log/slog"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapserver"
	"github.com/emersion/go-imap/v2/imapserver/imapmemserver"

	"helpdeskd/internal/testmail"
)

// until waits for cond, checking every few milliseconds, for at most 10s.
func until(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within 10s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// fixedClock returns a clock standing at t, and a setter.
func fixedClock(t time.Time) (func() time.Time, func(time.Time)) {
	var mu sync.Mutex
	return func() time.Time {
			mu.Lock()
			defer mu.Unlock()
			return t
		}, func(n time.Time) {
			mu.Lock()
			t = n
			mu.Unlock()
		}
}

func TestHealthReportsLoginSyncAndLoss(t *testing.T) {
	srv, err := testmail.Start(testmail.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	srv.AddUser("support@example.com", "pw")
	t0 := time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)
	now, set := fixedClock(t0)

	t.Run("wrong password", func(t *testing.T) {
		sink := &memSink{quarantined: map[uint32]bool{}}
		f := &Fetcher{Address: srv.IMAPAddr, TLS: "none", Username: "support@example.com", Password: "wrong",
			Sink: sink, State: sink, Now: now, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}
		if h := f.Health(); h.LoggedIn || !h.Since.IsZero() {
			t.Fatalf("before the first attempt: %+v", h)
		}
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error, 1)
		go func() { done <- f.Run(ctx) }()
		until(t, "login failure recorded", func() bool { return f.Health().Stage != "" })
		set(t0.Add(time.Hour)) // later retries keep the first failure's time
		h := f.Health()
		cancel()
		<-done
		if h.LoggedIn || h.Stage != StageLogin || !h.Since.Equal(t0) || !h.LastSync.IsZero() {
			t.Errorf("health = %+v", h)
		}
		if !strings.Contains(h.LastError, "AUTHENTICATIONFAILED") && !strings.Contains(strings.ToLower(h.LastError), "invalid") {
			t.Errorf("last error %q does not carry the server's answer", h.LastError)
		}
		// check sees the same stage.
		var se *SessionError
		if err := f.Check(); !errors.As(err, &se) || se.Stage != StageLogin {
			t.Errorf("Check() = %v, want a login SessionError", err)
		}
	})

	t.Run("logged in, synced, then lost", func(t *testing.T) {
		set(t0.Add(2 * time.Hour))
		sink := &memSink{quarantined: map[uint32]bool{}}
		ready := make(chan struct{}, 1)
		f := &Fetcher{Address: srv.IMAPAddr, TLS: "none", Username: "support@example.com", Password: "pw",
			Sink: sink, State: sink, Now: now, Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
			OnReady: func(bool) {
				select {
				case ready <- struct{}{}:
				default:
				}
			}}
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		done := make(chan error, 1)
		go func() { done <- f.Run(ctx) }()
		select {
		case <-ready:
		case <-time.After(10 * time.Second):
			t.Fatal("fetcher did not catch up")
		}
		h := f.Health()
		if !h.LoggedIn || !h.Since.Equal(t0.Add(2*time.Hour)) || !h.LastSync.Equal(t0.Add(2*time.Hour)) || h.LastError != "" {
			t.Errorf("after login: %+v", h)
		}
		set(t0.Add(3 * time.Hour))
		srv.Close() // the server goes away
		until(t, "session loss recorded", func() bool { return !f.Health().LoggedIn })
		h = f.Health()
		if h.Stage == "" || h.LastError == "" || !h.Since.Equal(t0.Add(3*time.Hour)) || !h.LastSync.Equal(t0.Add(2*time.Hour)) {
			t.Errorf("after loss: %+v", h)
		}
		cancel()
		<-done
	})
}

// deafSession never reports anything during IDLE: the worst case of a
// server that drops the EXISTS for mail arriving as IDLE begins.
type deafSession struct{ imapserver.SessionIMAP4rev2 }

func (deafSession) Idle(_ *imapserver.UpdateWriter, stop <-chan struct{}) error {
	<-stop
	return nil
}

// TestFirstIdleSyncsAgain: mail that arrives just as the first IDLE
// begins is fetched at once, not after the poll interval (issue 13.4).
func TestFirstIdleSyncsAgain(t *testing.T) {
	mem := imapmemserver.New()
	u := imapmemserver.NewUser("support@example.com", "pw")
	u.Create("INBOX", nil)
	mem.AddUser(u)
	s := imapserver.New(&imapserver.Options{
		NewSession: func(*imapserver.Conn) (imapserver.Session, *imapserver.GreetingData, error) {
			return deafSession{mem.NewSession().(imapserver.SessionIMAP4rev2)}, nil, nil
		},
		Caps:         imap.CapSet{imap.CapIMAP4rev1: {}, imap.CapIMAP4rev2: {}},
		InsecureAuth: true,
		Logger:       log.New(io.Discard, "", 0),
	})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go s.Serve(ln)
	defer s.Close()

	delivered := make(chan uint32, 10)
	sink := &notifySink{memSink: memSink{quarantined: map[uint32]bool{}}, delivered: delivered}
	var once sync.Once
	f := &Fetcher{Address: ln.Addr().String(), TLS: "none", Username: "support@example.com", Password: "pw",
		PollInterval: time.Hour, Sink: sink, State: sink, Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
		OnReady: func(idle bool) {
			if !idle {
				t.Error("the server offers IDLE, but the fetcher polls")
			}
			once.Do(func() {
				// The mail lands once IDLE has begun, and the server says nothing.
				if _, err := u.Append("INBOX", strings.NewReader(string(mailN(1))), &imap.AppendOptions{}); err != nil {
					t.Error(err)
				}
			})
		}}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- f.Run(ctx) }()
	defer func() { cancel(); <-done }()
	select {
	case uid := <-delivered:
		if uid != 1 {
			t.Errorf("delivered uid %d", uid)
		}
	case <-time.After(10 * time.Second): // the poll interval is an hour
		t.Fatal("mail that arrived as IDLE began was not fetched")
	}
}

// notifySink is a memSink that reports each delivery on a channel.
type notifySink struct {
	memSink
	delivered chan uint32
}

func (s *notifySink) Deliver(ctx context.Context, mails []Mail) ([]Outcome, error) {
	return deliverEach(ctx, mails, s.deliver)
}

func (s *notifySink) deliver(ctx context.Context, p Place, raw []byte) (Outcome, error) {
	out, err := s.memSink.deliver(ctx, p, raw)
	if err == nil {
		s.delivered <- p.UID
	}
	return out, err
}
