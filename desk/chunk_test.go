package desk

import (
	"database/sql"
	"fmt"
	"slices"
	"strings"
	"testing"

	"helpdeskd/mailin"
	"helpdeskd/store"
)

// chunkMail is a mail of a chunk: the next UID, with its own Message-ID.
func (f *fixture) chunkMail(from, subject string, headers ...string) mailin.Mail {
	f.uid++
	raw := fmt.Sprintf("From: %s\r\nTo: support@example.com\r\nSubject: %s\r\nMessage-ID: <c%d@test>\r\n%s"+
		"Content-Type: text/plain; charset=utf-8\r\n\r\nThe printer in room %d is down.\r\n", from, subject, f.uid, strings.Join(headers, ""), f.uid)
	return mailin.Mail{Place: mailin.Place{Mailbox: "INBOX", UIDValidity: 1, UID: f.uid}, Raw: []byte(raw)}
}

func (f *fixture) lastUID() uint32 {
	f.t.Helper()
	_, last, err := f.d.MailboxState(f.ctx, "INBOX")
	if err != nil {
		f.t.Fatal(err)
	}
	return last
}

func (f *fixture) caseCount() int {
	f.t.Helper()
	var n int
	err := f.db.Read(f.ctx, func(t *store.Txn) error {
		cs, err := t.ListCases(store.ListFilter{})
		n = len(cs)
		return err
	})
	if err != nil {
		f.t.Fatal(err)
	}
	return n
}

// A chunk is one transaction in which a later mail threads into the case
// an earlier one opened, and unreadable mail is quarantined among the rest.
func TestChunkThreadsIntoItsOwnCases(t *testing.T) {
	for _, prepared := range []bool{false, true} {
		t.Run(fmt.Sprint("prepared=", prepared), func(t *testing.T) { testChunkThreads(t, prepared) })
	}
}

func testChunkThreads(t *testing.T, prepared bool) {
	f := newFixture(t, false)
	mails := []mailin.Mail{
		f.chunkMail("alice@acme.test", "printer down"),
		f.chunkMail("alice@acme.test", "Re: printer down", "In-Reply-To: <c1@test>\r\nReferences: <c1@test>\r\n"),
		{Place: mailin.Place{Mailbox: "INBOX", UIDValidity: 1, UID: 3}},
		f.chunkMail("carol@globex.test", "scanner down"),
	}
	f.uid = 4
	mails[3].UID = 4
	if prepared {
		// As the fetcher does: parsed ahead, while the chunk before is
		// delivered.
		f.d.Prepare(mails)
		if _, ok := mails[1].Prepared.(parsed); !ok {
			t.Fatalf("Prepare left %T", mails[1].Prepared)
		}
	}
	outs, err := f.d.Deliver(f.ctx, mails)
	if err != nil {
		t.Fatal(err)
	}
	want := []mailin.Outcome{mailin.Answered, mailin.Threaded, mailin.Quarantined, mailin.Answered}
	if !slices.Equal(outs, want) {
		t.Fatalf("outcomes %v, want %v", outs, want)
	}
	if n := f.caseCount(); n != 2 {
		t.Fatalf("%d cases, want 2", n)
	}
	if last := f.lastUID(); last != 4 {
		t.Fatalf("last UID %d, want 4", last)
	}
	if got := f.outbox(1); !slices.Contains(got, "ack>alice@acme.test") {
		t.Fatalf("case 1 outbox %v, want an acknowledgement", got)
	}
}

// When one mail of a chunk cannot be committed, the mails before it are
// committed, the error is its own, and nothing after it is handled; the
// failed mail and the rest go through once the fault is gone.
func TestChunkFailureCommitsThePrefix(t *testing.T) {
	f := newFixture(t, false)
	raw, err := sql.Open("sqlite", "file:"+f.path)
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	if _, err := raw.Exec(`CREATE TRIGGER poison BEFORE INSERT ON messages WHEN NEW.subject = 'poison'
		BEGIN SELECT RAISE(ABORT, 'poisoned mail'); END`); err != nil {
		t.Fatal(err)
	}
	mails := []mailin.Mail{
		f.chunkMail("alice@acme.test", "printer down"),
		f.chunkMail("alice@acme.test", "poison"),
		f.chunkMail("carol@globex.test", "scanner down"),
	}
	outs, err := f.d.Deliver(f.ctx, mails)
	if err == nil || !strings.Contains(err.Error(), "poisoned mail") {
		t.Fatalf("err %v, want the poisoned mail's", err)
	}
	if !slices.Equal(outs, []mailin.Outcome{mailin.Answered}) {
		t.Fatalf("outcomes %v, want the first mail's only", outs)
	}
	if n, last := f.caseCount(), f.lastUID(); n != 1 || last != 1 {
		t.Fatalf("%d cases, last UID %d; want 1 and 1", n, last)
	}
	if _, err := raw.Exec(`DROP TRIGGER poison`); err != nil {
		t.Fatal(err)
	}
	outs, err = f.d.Deliver(f.ctx, mails[1:])
	if err != nil || !slices.Equal(outs, []mailin.Outcome{mailin.Answered, mailin.Answered}) {
		t.Fatalf("again: %v, %v", outs, err)
	}
	if n, last := f.caseCount(), f.lastUID(); n != 3 || last != 3 {
		t.Fatalf("%d cases, last UID %d; want 3 and 3", n, last)
	}
}
