package mailin

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapclient"

	"helpdeskd/internal/testmail"
)

// appendAt appends raw to the INBOX with the given INTERNALDATE.
func appendAt(t *testing.T, srv *testmail.Servers, raw []byte, at time.Time) {
	t.Helper()
	c, err := imapclient.DialInsecure(srv.IMAPAddr, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if err := c.Login("support@example.com", "pw").Wait(); err != nil {
		t.Fatal(err)
	}
	cmd := c.Append("INBOX", int64(len(raw)), &imap.AppendOptions{Time: at})
	if _, err := cmd.Write(raw); err != nil {
		t.Fatal(err)
	}
	if err := cmd.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := cmd.Wait(); err != nil {
		t.Fatal(err)
	}
}

// syncBuffer is a log destination safe for the fetcher's goroutines.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}

func stampClock(t time.Time) func() time.Time { return func() time.Time { return t } }

// The first sync of a folder stamps every message it finds with its start
// and the message's INTERNALDATE, counts the outcomes in one summary line,
// and a later sync stamps nothing.
func TestFirstSyncStampsBacklog(t *testing.T) {
	srv, err := testmail.Start(testmail.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	srv.AddUser("support@example.com", "pw")
	dates := []time.Time{
		time.Date(2026, 10, 20, 8, 0, 0, 0, time.UTC),
		time.Date(2026, 11, 30, 9, 30, 0, 0, time.UTC),
		time.Date(2026, 12, 1, 7, 15, 0, 0, time.UTC),
	}
	for i, d := range dates {
		appendAt(t, srv, mailN(i+1), d)
	}
	appendAt(t, srv, []byte("garbage"), dates[2]) // uid 4, quarantined
	outcomes := map[uint32]Outcome{1: Archived, 2: Threaded, 3: Answered}
	sink := &memSink{quarantined: map[uint32]bool{}, outcome: func(p Place) Outcome { return outcomes[p.UID] }}
	start := time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)
	var logs syncBuffer
	runWith(t, srv, sink, &Fetcher{Now: stampClock(start), Batch: 2, Logger: slog.New(slog.NewTextHandler(&logs, nil))})

	if len(sink.places) != 4 {
		t.Fatalf("delivered %v", sink.delivered)
	}
	for i, p := range sink.places {
		if !p.FirstSync.Equal(start) {
			t.Errorf("uid %d: FirstSync %v, want %v", p.UID, p.FirstSync, start)
		}
		if i < len(dates) && !p.InternalDate.Equal(dates[i]) {
			t.Errorf("uid %d: InternalDate %v, want %v", p.UID, p.InternalDate, dates[i])
		}
	}
	summary := regexp.MustCompile(`msg="first sync done".*archived=1 answered=1 threaded=1 quarantined=1`)
	if n := len(summary.FindAllString(logs.String(), -1)); n != 1 {
		t.Fatalf("want one summary line with the counts, got %d in:\n%s", n, logs.String())
	}
	if !sink.fsStart.IsZero() {
		t.Fatalf("first sync not ended: %v", sink.fsStart)
	}

	// A later delivery is new mail, whatever its date.
	appendAt(t, srv, mailN(5), dates[0])
	logs = syncBuffer{}
	runWith(t, srv, sink, &Fetcher{Now: stampClock(start.Add(time.Hour)), Logger: slog.New(slog.NewTextHandler(&logs, nil))})
	last := sink.places[len(sink.places)-1]
	if last.UID != 5 || !last.FirstSync.IsZero() || !last.InternalDate.Equal(dates[0]) {
		t.Fatalf("later sync: %+v", last)
	}
	if strings.Contains(logs.String(), "first sync done") {
		t.Fatalf("a later sync logged a first-sync summary:\n%s", logs.String())
	}
}

// A first sync cut off in the middle (here: the Sink fails, as when the
// daemon is killed) goes on after a restart with its original start, for
// the UIDs it covered; mail that arrived after it began is new mail.
func TestFirstSyncResumesAfterCrash(t *testing.T) {
	srv, err := testmail.Start(testmail.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	srv.AddUser("support@example.com", "pw")
	old := time.Date(2026, 10, 1, 8, 0, 0, 0, time.UTC)
	for i := 1; i <= 4; i++ {
		appendAt(t, srv, mailN(i), old)
	}
	sink := &memSink{quarantined: map[uint32]bool{}, failUID: 3}
	t0 := time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)
	f := &Fetcher{Address: srv.IMAPAddr, TLS: "none", Username: "support@example.com", Password: "pw",
		ProcessedFolder: "Processed", Sink: sink, State: sink, Now: stampClock(t0), Batch: 1,
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- f.Run(ctx) }()
	deadline := time.After(10 * time.Second)
	for {
		sink.mu.Lock()
		n := len(sink.delivered)
		sink.mu.Unlock()
		if n == 2 {
			break
		}
		select {
		case <-deadline:
			t.Fatalf("delivered %v", sink.delivered)
		case <-time.After(20 * time.Millisecond):
		}
	}
	cancel()
	<-done
	if sink.fsStart != t0 || sink.fsEnd != 4 || sink.last != 2 {
		t.Fatalf("state after the crash: start %v end %d last %d", sink.fsStart, sink.fsEnd, sink.last)
	}

	appendAt(t, srv, mailN(5), old) // uid 5 arrives after the first sync began
	sink.mu.Lock()
	sink.failUID = 0
	sink.mu.Unlock()
	var logs syncBuffer
	runWith(t, srv, sink, &Fetcher{Now: stampClock(t0.Add(time.Hour)), Logger: slog.New(slog.NewTextHandler(&logs, nil))})
	got := map[uint32]time.Time{}
	for _, p := range sink.places {
		got[p.UID] = p.FirstSync
	}
	if len(sink.delivered) != 5 {
		t.Fatalf("delivered %v, want each of 1-5 once", sink.delivered)
	}
	for u := uint32(1); u <= 4; u++ {
		if !got[u].Equal(t0) {
			t.Errorf("uid %d: FirstSync %v, want the original start %v", u, got[u], t0)
		}
	}
	if !got[5].IsZero() {
		t.Errorf("uid 5 arrived after the first sync began but got FirstSync %v", got[5])
	}
	if !strings.Contains(logs.String(), "first sync done") || !sink.fsStart.IsZero() {
		t.Fatalf("resumed first sync not finished:\n%s", logs.String())
	}
}

// With one message per FETCH the next chunk is fetched while the current
// one is delivered; a Sink failure must still stop delivery at the failed
// UID (the chunk fetched behind it is not delivered), so that everything
// is delivered once and in order after the reconnect.
func TestPipelinedFetchStopsAtFailure(t *testing.T) {
	srv, err := testmail.Start(testmail.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	srv.AddUser("support@example.com", "pw")
	for i := 1; i <= 6; i++ {
		srv.Append("support@example.com", "INBOX", mailN(i))
	}
	sink := &memSink{quarantined: map[uint32]bool{}, failUID: 3}
	failed := make(chan struct{}, 1)
	f := &Fetcher{Address: srv.IMAPAddr, TLS: "none", Username: "support@example.com", Password: "pw",
		ProcessedFolder: "Processed", Sink: sink, State: sink, Batch: 1,
		Logger: slog.New(slog.NewTextHandler(signalWriter{"reconnecting", failed}, nil))}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- f.Run(ctx) }()
	select {
	case <-failed: // the session ended at uid 3
	case <-time.After(10 * time.Second):
		t.Fatal("the failure did not end the session")
	}
	sink.mu.Lock()
	before := slices.Clone(sink.delivered)
	sink.failUID = 0
	sink.mu.Unlock()
	if !slices.Equal(before, []uint32{1, 2}) {
		t.Fatalf("delivered %v before the reconnect, want 1 2", before)
	}
	deadline := time.After(15 * time.Second)
	for {
		sink.mu.Lock()
		n := len(sink.delivered)
		sink.mu.Unlock()
		if n >= 6 {
			break
		}
		select {
		case <-deadline:
			t.Fatalf("delivered %v", sink.delivered)
		case <-time.After(20 * time.Millisecond):
		}
	}
	cancel()
	<-done
	if !slices.Equal(sink.delivered, []uint32{1, 2, 3, 4, 5, 6}) {
		t.Fatalf("delivered %v, want 1-6 once each, in order", sink.delivered)
	}
}

// Messages larger than a chunk are fetched one at a time between small
// ones, and every one arrives whole and in order.
func TestLargeMessagesFetchedAlone(t *testing.T) {
	srv, err := testmail.Start(testmail.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	srv.AddUser("support@example.com", "pw")
	sizes := map[uint32]int{}
	for i := 1; i <= 7; i++ {
		raw := mailN(i)
		if i%2 == 0 {
			raw = append(raw, bytes.Repeat([]byte("0123456789abcdef\r\n"), (chunkBytes+1<<20)/18)...)
		}
		sizes[uint32(i)] = len(raw)
		srv.Append("support@example.com", "INBOX", raw)
	}
	sink := &sizeSink{memSink: memSink{quarantined: map[uint32]bool{}}, got: map[uint32]int{}}
	runWith(t, srv, &sink.memSink, &Fetcher{Sink: sink})
	if !slices.Equal(sink.delivered, []uint32{1, 2, 3, 4, 5, 6, 7}) || !maps.Equal(sink.got, sizes) {
		t.Fatalf("delivered %v, sizes %v, want %v", sink.delivered, sink.got, sizes)
	}
}

// sizeSink is a memSink that also records the size of each message.
type sizeSink struct {
	memSink
	got map[uint32]int
}

func (s *sizeSink) Deliver(ctx context.Context, mails []Mail) ([]Outcome, error) {
	s.mu.Lock()
	for _, m := range mails {
		s.got[m.UID] = len(m.Raw)
	}
	s.mu.Unlock()
	return s.memSink.Deliver(ctx, mails)
}

// A Preparer's Prepare sees every chunk before its Deliver, and what it
// leaves in Mail.Prepared reaches Deliver.
func TestPreparerSeesEachChunkFirst(t *testing.T) {
	srv, err := testmail.Start(testmail.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	srv.AddUser("support@example.com", "pw")
	for i := 1; i <= 9; i++ {
		srv.Append("support@example.com", "INBOX", mailN(i))
	}
	sink := &prepSink{memSink: memSink{quarantined: map[uint32]bool{}}}
	runWith(t, srv, &sink.memSink, &Fetcher{Sink: sink, Batch: 2})
	if !slices.Equal(sink.delivered, []uint32{1, 2, 3, 4, 5, 6, 7, 8, 9}) {
		t.Fatalf("delivered %v", sink.delivered)
	}
	if sink.unprepared != nil {
		t.Fatalf("delivered without Prepare: %v", sink.unprepared)
	}
}

// prepSink is a memSink that is a Preparer: Prepare marks each mail, and
// Deliver notes any mail that reaches it unmarked.
type prepSink struct {
	memSink
	unprepared []uint32
}

func (s *prepSink) Prepare(mails []Mail) {
	for i := range mails {
		mails[i].Prepared = fmt.Sprint("uid ", mails[i].UID)
	}
}

func (s *prepSink) Deliver(ctx context.Context, mails []Mail) ([]Outcome, error) {
	s.mu.Lock()
	for _, m := range mails {
		if m.Prepared != fmt.Sprint("uid ", m.UID) {
			s.unprepared = append(s.unprepared, m.UID)
		}
	}
	s.mu.Unlock()
	return s.memSink.Deliver(ctx, mails)
}
