package mailout

import (
	"context"
	"sync"
	"testing"
	"time"

	"helpdeskd/cases"
)

// slowOutbox holds the first Sent until released, and notes the size of
// each Sent.
type slowOutbox struct {
	*memOutbox
	release chan struct{}
	mu      sync.Mutex
	groups  []int
}

func (o *slowOutbox) Sent(ctx context.Context, sent []SentMail) error {
	o.mu.Lock()
	first := len(o.groups) == 0
	o.groups = append(o.groups, len(sent))
	o.mu.Unlock()
	if first {
		<-o.release
	}
	return o.memOutbox.Sent(ctx, sent)
}

// Mails accepted while a record is being written are recorded together,
// in one Sent, and each exactly once.
func TestSentMailIsRecordedInGroups(t *testing.T) {
	fs := startFaultServer(t)
	var items []cases.Outgoing
	for i := range 12 {
		items = append(items, outgoing(int64(i+1), "alice@acme.test"))
	}
	o := &slowOutbox{memOutbox: newOutbox(items...), release: make(chan struct{})}
	s := newSender(fs, o, start())
	s.Connections = 4
	done := make(chan error, 1)
	go func() { _, err := s.Drain(context.Background()); done <- err }()
	// While the first record is held, the next mails sent wait as one
	// group.
	deadline := time.Now().Add(10 * time.Second)
	for {
		s.mu.Lock()
		n := 0
		if s.group != nil {
			n = len(s.group.mails)
		}
		s.mu.Unlock()
		if n >= 3 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no group of 3 waiting within 10 s (%d)", n)
		}
		time.Sleep(time.Millisecond)
	}
	close(o.release)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	sent := o.calls("sent")
	seen := map[string]bool{}
	for _, c := range sent {
		if seen[c] {
			t.Fatalf("%s recorded twice: %v", c, sent)
		}
		seen[c] = true
	}
	if len(sent) != len(items) {
		t.Fatalf("%d of %d recorded as sent", len(sent), len(items))
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	if len(o.groups) >= len(items) || o.groups[1] < 3 {
		t.Fatalf("groups %v: want fewer records than mails, the second of at least 3", o.groups)
	}
}
