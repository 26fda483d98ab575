package mailin

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapclient"

	"helpdeskd/internal/testmail"
)

// memSink is a Sink and State in memory, like the desk's but without SQL.
type memSink struct {
	mu          sync.Mutex
	validity    uint32
	last        uint32
	delivered   []uint32
	places      []Place
	quarantined map[uint32]bool
	failUID     uint32 // Deliver fails for this UID
	fsStart     time.Time
	fsEnd       uint32
	outcome     func(p Place) Outcome // nil: Answered
}

func (s *memSink) Deliver(ctx context.Context, mails []Mail) ([]Outcome, error) {
	return deliverEach(ctx, mails, s.deliver)
}

// deliverEach delivers mails one at a time with deliver, stopping at the
// first error, as a Sink does.
func deliverEach(ctx context.Context, mails []Mail, deliver func(context.Context, Place, []byte) (Outcome, error)) ([]Outcome, error) {
	var outs []Outcome
	for _, m := range mails {
		out, err := deliver(ctx, m.Place, m.Raw)
		if err != nil {
			return outs, err
		}
		outs = append(outs, out)
	}
	return outs, nil
}

func (s *memSink) deliver(_ context.Context, p Place, raw []byte) (Outcome, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if p.UID == s.failUID {
		return "", fmt.Errorf("database down")
	}
	s.delivered = append(s.delivered, p.UID)
	s.places = append(s.places, p)
	s.validity, s.last = p.UIDValidity, max(s.last, p.UID)
	if len(raw) < 20 {
		s.quarantined[p.UID] = true
		return Quarantined, nil
	}
	if s.outcome != nil {
		return s.outcome(p), nil
	}
	return Answered, nil
}

func (s *memSink) FirstSync(context.Context, string) (time.Time, uint32, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.fsStart, s.fsEnd, nil
}

func (s *memSink) BeginFirstSync(_ context.Context, _ string, v uint32, start time.Time, end uint32) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.validity, s.last, s.fsStart, s.fsEnd = v, 0, start, end
	return nil
}

func (s *memSink) EndFirstSync(context.Context, string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.fsStart = time.Time{}
	return nil
}

func (s *memSink) MailboxState(context.Context, string) (uint32, uint32, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.validity, s.last, nil
}

func (s *memSink) ResetMailbox(_ context.Context, _ string, v uint32) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.validity, s.last = v, 0
	return nil
}

func (s *memSink) Quarantined(_ context.Context, p Place) (bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.quarantined[p.UID], nil
}

func mailN(i int) []byte {
	return fmt.Appendf(nil, "From: a@acme.test\r\nSubject: m%d\r\nMessage-ID: <m%d@acme.test>\r\n\r\nbody %d\r\n", i, i, i)
}

// runOnce runs a fetcher until it has caught up, then stops it.
func runOnce(t *testing.T, srv *testmail.Servers, sink *memSink) {
	t.Helper()
	runWith(t, srv, sink, &Fetcher{})
}

// runWith is runOnce with the fields set in f (clock, logger, batch, a
// Sink wrapping sink).
func runWith(t *testing.T, srv *testmail.Servers, sink *memSink, f *Fetcher) {
	t.Helper()
	ready := make(chan struct{}, 1)
	f.Address, f.TLS, f.Username, f.Password = srv.IMAPAddr, "none", "support@example.com", "pw"
	f.ProcessedFolder, f.QuarantineFolder, f.State = "Processed", "Quarantine", sink
	if f.Sink == nil {
		f.Sink = sink
	}
	if f.Logger == nil {
		f.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	f.OnReady = func(bool) {
		select {
		case ready <- struct{}{}:
		default:
		}
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- f.Run(ctx) }()
	select {
	case <-ready:
	case <-time.After(10 * time.Second):
		t.Fatal("fetcher did not catch up")
	}
	cancel()
	<-done
}

func folderUIDs(t *testing.T, srv *testmail.Servers, folder string) int {
	t.Helper()
	c, err := imapclient.DialInsecure(srv.IMAPAddr, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if err := c.Login("support@example.com", "pw").Wait(); err != nil {
		t.Fatal(err)
	}
	sel, err := c.Select(folder, nil).Wait()
	if err != nil {
		return 0
	}
	return int(sel.NumMessages)
}

func TestFetchMovesAndRecoversLeftovers(t *testing.T) {
	for _, opts := range []testmail.Options{{}, {NoMove: true}} {
		t.Run(fmt.Sprintf("nomove=%v", opts.NoMove), func(t *testing.T) {
			srv, err := testmail.Start(opts)
			if err != nil {
				t.Fatal(err)
			}
			defer srv.Close()
			srv.AddUser("support@example.com", "pw")
			for i := 1; i <= 3; i++ {
				srv.Append("support@example.com", "INBOX", mailN(i))
			}
			srv.Append("support@example.com", "INBOX", []byte("garbage")) // uid 4: "unreadable"
			sink := &memSink{quarantined: map[uint32]bool{}}
			runOnce(t, srv, sink)
			if !slices.Equal(sink.delivered, []uint32{1, 2, 3, 4}) {
				t.Fatalf("delivered %v", sink.delivered)
			}
			if opts.NoMove {
				// Without UIDPLUS the originals stay, flagged \Deleted, and
				// must not be delivered or copied again on the next run.
				runOnce(t, srv, sink)
				if len(sink.delivered) != 4 || folderUIDs(t, srv, "Processed") != 3 {
					t.Fatalf("second run: delivered %v, processed %d", sink.delivered, folderUIDs(t, srv, "Processed"))
				}
				return
			}
			if folderUIDs(t, srv, "INBOX") != 0 || folderUIDs(t, srv, "Processed") != 3 || folderUIDs(t, srv, "Quarantine") != 1 {
				t.Fatalf("inbox %d processed %d quarantine %d", folderUIDs(t, srv, "INBOX"), folderUIDs(t, srv, "Processed"), folderUIDs(t, srv, "Quarantine"))
			}
		})
	}
}

// A crash after the commit but before the move leaves committed mail in
// the INBOX: the next start moves it by its disposition, without
// delivering it again.
func TestLeftoversAfterCrash(t *testing.T) {
	srv, err := testmail.Start(testmail.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	srv.AddUser("support@example.com", "pw")
	srv.Append("support@example.com", "INBOX", mailN(1))
	srv.Append("support@example.com", "INBOX", []byte("garbage"))
	srv.Append("support@example.com", "INBOX", mailN(3))
	c, _ := imapclient.DialInsecure(srv.IMAPAddr, nil)
	c.Login("support@example.com", "pw").Wait()
	sel, _ := c.Select("INBOX", nil).Wait()
	c.Close()
	// The database says UIDs 1 and 2 were committed (2 quarantined).
	sink := &memSink{validity: sel.UIDValidity, last: 2, quarantined: map[uint32]bool{2: true}}
	runOnce(t, srv, sink)
	if !slices.Equal(sink.delivered, []uint32{3}) {
		t.Fatalf("delivered %v, want only uid 3", sink.delivered)
	}
	if folderUIDs(t, srv, "Processed") != 2 || folderUIDs(t, srv, "Quarantine") != 1 || folderUIDs(t, srv, "INBOX") != 0 {
		t.Fatalf("processed %d quarantine %d inbox %d", folderUIDs(t, srv, "Processed"), folderUIDs(t, srv, "Quarantine"), folderUIDs(t, srv, "INBOX"))
	}
}

// A failing Sink leaves the message (and every later one) in place, to be
// delivered again; UIDVALIDITY changes make everything be offered again.
func TestSinkFailureAndUIDValidity(t *testing.T) {
	srv, err := testmail.Start(testmail.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	srv.AddUser("support@example.com", "pw")
	for i := 1; i <= 3; i++ {
		srv.Append("support@example.com", "INBOX", mailN(i))
	}
	sink := &memSink{quarantined: map[uint32]bool{}, failUID: 2}
	ready := make(chan struct{}, 1)
	f := &Fetcher{Address: srv.IMAPAddr, TLS: "none", Username: "support@example.com", Password: "pw",
		Sink: sink, State: sink, Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
		OnReady: func(bool) { ready <- struct{}{} }}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- f.Run(ctx) }()
	// The session fails at uid 2 and reconnects after a second; let the
	// database "recover" after the first failure.
	deadline := time.After(15 * time.Second)
	for {
		sink.mu.Lock()
		n := len(sink.delivered)
		if n == 1 {
			sink.failUID = 0
		}
		sink.mu.Unlock()
		if n == 3 {
			break
		}
		select {
		case <-ready:
		case <-deadline:
			t.Fatalf("delivered %v", sink.delivered)
		case <-time.After(50 * time.Millisecond):
		}
	}
	cancel()
	<-done
	if !slices.Equal(sink.delivered, []uint32{1, 2, 3}) {
		t.Fatalf("delivered %v, want 1 2 3 in order", sink.delivered)
	}
	// A different stored UIDVALIDITY: the mailbox is offered again (the
	// desk deduplicates by Message-ID).
	sink.mu.Lock()
	sink.validity, sink.delivered = 12345, nil
	sink.mu.Unlock()
	runOnce(t, srv, sink)
	if len(sink.delivered) != 3 {
		t.Fatalf("after a UIDVALIDITY change: delivered %v", sink.delivered)
	}
}

var _ = imap.UID(0)

// A server that is down when the fetcher starts is retried with backoff;
// mail is fetched once it comes up.
func TestServerDownAtStart(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	sink := &memSink{quarantined: map[uint32]bool{}}
	ready := make(chan struct{}, 1)
	failed := make(chan struct{}, 1)
	f := &Fetcher{Address: addr, TLS: "none", Username: "support@example.com", Password: "pw", Sink: sink, State: sink,
		Logger: slog.New(slog.NewTextHandler(signalWriter{"reconnecting", failed}, nil)),
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
	// The first attempt fails and is logged; the server appears afterwards.
	select {
	case <-failed:
	case <-time.After(10 * time.Second):
		t.Fatal("no failed attempt logged")
	}
	srv, err := testmail.Start(testmail.Options{IMAPAddr: addr})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	srv.AddUser("support@example.com", "pw")
	srv.Append("support@example.com", "INBOX", mailN(1))
	select {
	case <-ready:
	case err := <-done:
		t.Fatalf("fetcher gave up: %v", err)
	case <-time.After(15 * time.Second):
		t.Fatal("fetcher did not reconnect")
	}
	cancel()
	<-done
	if len(sink.delivered) != 1 {
		t.Fatalf("delivered %v", sink.delivered)
	}
}

// signalWriter signals c when a log line containing word is written.
type signalWriter struct {
	word string
	c    chan struct{}
}

func (w signalWriter) Write(p []byte) (int, error) {
	if strings.Contains(string(p), w.word) {
		select {
		case w.c <- struct{}{}:
		default:
		}
	}
	return len(p), nil
}
