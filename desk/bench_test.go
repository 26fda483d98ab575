package desk

import (
	"fmt"
	"io"
	"log/slog"
	"testing"
	"time"

	"helpdeskd/cases"
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
