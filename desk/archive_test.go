package desk

import (
	"fmt"
	"testing"
	"time"

	"helpdeskd/cases"
	"helpdeskd/mailin"
)

// TestArchivedTimelineAtTheMailsDate: the timeline of a case imported
// from backlog mail on the first sync (SPEC §11.1) shows the opening and
// each archived mail at the mail's date, and the import at the import.
func TestArchivedTimelineAtTheMailsDate(t *testing.T) {
	f := newFixture(t, false)
	first := thu9.Add(-21 * 24 * time.Hour)
	second := first.Add(26 * time.Hour)
	deliver := func(uid uint32, date time.Time, headers string) mailin.Outcome {
		t.Helper()
		raw := fmt.Sprintf("From: Alice <alice@acme.test>\r\nTo: support@example.com\r\nSubject: Printer down\r\nMessage-ID: <old%d@acme.test>\r\n%sDate: %s\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nIt broke.\r\n",
			uid, headers, date.Format(time.RFC1123Z))
		out, err := f.d.DeliverMail(f.ctx, mailin.Place{Mailbox: "INBOX", UIDValidity: 1, UID: uid, InternalDate: date, FirstSync: thu9}, []byte(raw))
		if err != nil {
			t.Fatal(err)
		}
		return out
	}
	if out := deliver(1, first, ""); out != mailin.Archived {
		t.Fatalf("first mail: %s, want archived", out)
	}
	if out := deliver(2, second, "In-Reply-To: <old1@acme.test>\r\n"); out != mailin.Archived {
		t.Fatalf("second mail: %s, want archived", out)
	}
	c, evs := f.caseN(1)
	if !c.OpenedAt.Equal(first) || c.Status != cases.StatusClosed {
		t.Fatalf("case opened %v status %s", c.OpenedAt, c.Status)
	}
	want := []struct {
		kind string
		at   time.Time
	}{{cases.EvOpened, first}, {cases.EvMessageIn, first}, {cases.EvImported, thu9}, {cases.EvMessageIn, second}}
	if len(evs) != len(want) {
		t.Fatalf("events %v, want %d", kinds(evs), len(want))
	}
	for i, w := range want {
		if evs[i].Kind != w.kind || !evs[i].At.Equal(w.at) {
			t.Errorf("event %d: %s at %v, want %s at %v", i, evs[i].Kind, evs[i].At, w.kind, w.at)
		}
	}
}
