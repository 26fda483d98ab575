package desk

import (
	"fmt"
	"io"
	"log/slog"
	"testing"
	"time"

	"helpdeskd/cases"
	"helpdeskd/mailin"
	"helpdeskd/store"
)

// BenchmarkFireDue measures one scheduler wake that fires 100 due timers
// (daily reports: one notice each) with N open cases in the database. The
// cost should depend on the due timers, not on N.
//
//	go test -run x -bench FireDue -benchtime 20x ./desk
func BenchmarkFireDue(b *testing.B) {
	for _, n := range []int{10_000, 100_000} {
		b.Run(fmt.Sprintf("open=%d", n), func(b *testing.B) {
			f := newFixture(&testing.T{}, false)
			f.d.log = slog.New(slog.NewTextHandler(io.Discard, nil))
			far := thu9.Add(1000 * time.Hour)
			err := f.db.Tx(f.ctx, func(t *store.Txn) error {
				for i := 0; i < n; i++ {
					c := &cases.Case{Subject: "bench", Status: cases.StatusOpen, Severity: 3, Priority: "normal",
						Company: "ACME", ContactEmail: "alice@acme.test", Plan: "5x8", Engineer: "eng1@example.com",
						Language: "zh", OpenedAt: thu9}
					if err := t.InsertCase(c); err != nil {
						return err
					}
					for _, k := range []string{cases.TimerReply, cases.TimerRespond, cases.TimerSolve} {
						if err := t.SetTimer(cases.Timer{Case: c.Number, Kind: k, Due: far}); err != nil {
							return err
						}
					}
				}
				return nil
			})
			if err != nil {
				b.Fatal(err)
			}
			f.clk.Set(thu9.Add(time.Hour))
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				b.StopTimer()
				base := int64(i*100%n) + 1
				f.db.Tx(f.ctx, func(t *store.Txn) error {
					for j := int64(0); j < 100; j++ {
						if err := t.SetTimer(cases.Timer{Case: base + j, Kind: cases.TimerDaily, Due: thu9}); err != nil {
							return err
						}
					}
					return nil
				})
				b.StartTimer()
				if _, err := f.d.FireDue(f.ctx, 100); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkDeliverChunk measures the writer's share of a first import: a
// chunk of 20 mails, parsed beforehand as the fetcher's Preparer does,
// committed in one transaction. Two mails in three open a case; the third
// replies to the mail before it by References. The figure is per mail; it
// must not grow with -benchtime (the cases stored before):
//
//   - senders=500: an import from many senders, each acknowledged (the
//     automatic-reply limit raised as in bench/intake), the clock moving
//     a second per mail;
//
//   - senders=20: twenty senders writing on and on within one hour (a
//     script gone wrong), so that past the limit of ten an hour every
//     acknowledgement is suppressed and the check whether staff were
//     told runs for each.
//
//     go test -run x -bench DeliverChunk -benchtime 200x ./desk
func BenchmarkDeliverChunk(b *testing.B) {
	for _, senders := range []int{500, 20} {
		b.Run(fmt.Sprint("senders=", senders), func(b *testing.B) { benchDeliverChunk(b, senders) })
	}
}

func benchDeliverChunk(b *testing.B, senders int) {
	f := newFixture(&testing.T{}, false)
	f.d.log = slog.New(slog.NewTextHandler(io.Discard, nil))
	step := time.Duration(0)
	if senders >= 100 {
		f.cfg.Policy.AutoReplyLimit = 1_000_000
		step = time.Second
	}
	const chunk = 20
	n := 0
	next := func() []mailin.Mail {
		mails := make([]mailin.Mail, chunk)
		for i := range mails {
			n++
			f.uid++
			from, subject, refs := fmt.Sprintf("user%d@acme.test", n%senders), fmt.Sprintf("printer %d down", n), ""
			if n%3 == 0 {
				subject, refs = fmt.Sprintf("Re: printer %d down", n-1), fmt.Sprintf("In-Reply-To: <b%d@test>\r\nReferences: <b%d@test>\r\n", n-1, n-1)
				from = fmt.Sprintf("user%d@acme.test", (n-1)%senders)
			}
			raw := fmt.Sprintf("From: %s\r\nTo: support@example.com\r\nSubject: %s\r\nMessage-ID: <b%d@test>\r\n%sDate: Thu, 26 Nov 2026 09:00:00 +0800\r\n"+
				"Content-Type: text/plain; charset=utf-8\r\n\r\nThe printer in room %d is down since this morning.\r\nPlease help.\r\n\r\nAlice\r\n", from, subject, n, refs, n)
			mails[i] = mailin.Mail{Place: mailin.Place{Mailbox: "INBOX", UIDValidity: 1, UID: f.uid}, Raw: []byte(raw)}
		}
		f.d.Prepare(mails)
		f.clk.Set(f.clk.Now().Add(chunk * step))
		return mails
	}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		mails := next()
		b.StartTimer()
		outs, err := f.d.Deliver(f.ctx, mails)
		if err != nil || len(outs) != chunk {
			b.Fatal(outs, err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*chunk)/1e3, "µs/mail")
}
