package mailout

import (
	"io"
	"log/slog"
	"net"
	"net/mail"
	"strings"
	"testing"
	"time"

	"helpdeskd/cases"
)

// A server that refuses connections pauses the outbox: a few mails get
// an attempt, not every queued one, until the pause is over; a mail that
// goes through ends the pauses.
func TestServerDownPausesTheOutbox(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	ln.Close() // nothing listens here now
	var items []cases.Outgoing
	for i := range 200 {
		items = append(items, outgoing(int64(i+1), "alice@acme.test"))
	}
	o := newOutbox(items...)
	clk := start()
	s := &Sender{Server: Server{Host: "127.0.0.1", Port: port, TLS: "none", Timeout: 2 * time.Second},
		From: &mail.Address{Address: "support@example.com"}, Outbox: o, Now: clk.Now,
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil)), Jitter: func(d time.Duration) time.Duration { return d }}
	attempts := func() int { return strings.Count(strings.Join(o.log, ","), "attempt ") }

	wait := drain(t, s)
	first := attempts()
	if first == 0 || first > attemptGroup {
		t.Fatalf("%d attempts while the server refused connections, want 1 to %d", first, attemptGroup)
	}
	if wait <= 0 || wait > 2*time.Second {
		t.Fatalf("wait %v, want the 2 s pause", wait)
	}
	drain(t, s)
	if n := attempts(); n != first {
		t.Fatalf("%d attempts during the pause, want still %d", n, first)
	}
	clk.Add(2 * time.Second)
	drain(t, s)
	second := attempts() - first
	if second == 0 || second > attemptGroup {
		t.Fatalf("%d attempts after the pause, want 1 to %d", second, attemptGroup)
	}
	// Still down: the next pause is longer.
	clk.Add(2 * time.Second)
	drain(t, s)
	if n := attempts() - first - second; n != 0 {
		t.Fatalf("%d attempts 2 s into the second (4 s) pause, want none", n)
	}
	// The server is back: everything goes out.
	fs := startFaultServer(t)
	s.Server = fs.server()
	clk.Add(10 * time.Minute)
	for range 10 {
		drain(t, s)
		clk.Add(10 * time.Minute)
	}
	if n := len(o.calls("sent")); n != len(items) {
		t.Fatalf("%d of %d sent once the server was back", n, len(items))
	}
}
