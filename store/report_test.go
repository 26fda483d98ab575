package store

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"helpdeskd/cases"
)

// reportDB is a fresh database with the report indexes.
func reportDB(t *testing.T) *DB {
	t.Helper()
	db, err := Open(context.Background(), filepath.Join(t.TempDir(), "t.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

func TestReportQueries(t *testing.T) {
	ctx := context.Background()
	db := reportDB(t)
	day := func(d int) time.Time { return time.Date(2026, 11, d, 1, 0, 0, 0, time.UTC) }
	list := []*cases.Case{
		{Subject: "a", Status: cases.StatusOpen, Severity: 2, Company: "ACME", Engineer: "eng1@example.com", OpenedAt: day(2)},
		{Subject: "b", Status: cases.StatusClosed, Severity: 2, Company: "acme", Engineer: "eng1@example.com", OpenedAt: day(1), ClosedAt: day(5)},
		{Subject: "c", Status: cases.StatusOpen, Severity: 3, Company: "Globex", Kind: cases.KindInspection, OpenedAt: day(9)},
		{Subject: "d", Status: cases.StatusOpen, Severity: 3, Company: "Globex", Kind: cases.KindInstallation, Engineer: "eng2@example.com", OpenedAt: day(20)},
	}
	err := db.Tx(ctx, func(tx *Txn) error {
		for _, c := range list {
			if err := tx.InsertCase(c); err != nil {
				return err
			}
		}
		for _, e := range []cases.Event{
			{Case: 1, At: day(3), Kind: cases.EvEscalated, Detail: "x"},
			{Case: 1, At: day(4), Kind: cases.EvPart, Detail: "fan"},
			{Case: 2, At: day(1), Kind: cases.EvEscalated, Detail: "y"},
			{Case: 2, At: day(5), Kind: cases.EvClosed},
			{Case: 4, At: day(21), Kind: cases.EvPart, Detail: "disk"},
		} {
			if err := tx.AddEvent(e); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	numbers := func(cs []*cases.Case) string {
		var s []string
		for _, c := range cs {
			s = append(s, c.Subject)
		}
		return strings.Join(s, "")
	}
	err = db.Read(ctx, func(tx *Txn) error {
		for _, tt := range []struct {
			f    ListFilter
			want string
		}{
			{ListFilter{}, "dcba"},
			{ListFilter{Status: "open"}, "dca"},
			{ListFilter{Engineer: "ENG1@example.com"}, "ba"},
			{ListFilter{Company: "Acme", Status: "all"}, "ba"},
			{ListFilter{Kind: cases.KindFault}, "ba"},
			{ListFilter{Kind: cases.KindInspection}, "c"},
		} {
			got, err := tx.ListCases(tt.f)
			if err != nil {
				return err
			}
			if numbers(got) != tt.want {
				t.Errorf("ListCases(%+v) = %s, want %s", tt.f, numbers(got), tt.want)
			}
		}
		// Opened or closed in [Nov 2, Nov 10): a, b (closed Nov 5) and c.
		got, err := tx.ReportCases(day(2), day(10))
		if err != nil {
			return err
		}
		if numbers(got) != "abc" {
			t.Errorf("ReportCases = %s, want abc", numbers(got))
		}
		if got, _ := tx.ReportCases(time.Time{}, time.Time{}); numbers(got) != "abcd" {
			t.Errorf("ReportCases unbounded = %s", numbers(got))
		}
		evs, err := tx.EventsOfKinds(day(2), day(10), cases.EvEscalated, cases.EvPart)
		if err != nil {
			return err
		}
		if len(evs) != 2 || evs[0].Detail != "x" || evs[1].Detail != "fan" {
			t.Errorf("EventsOfKinds = %+v", evs)
		}
		byCase, err := tx.CaseEventsOfKinds([]int64{1, 2, 3}, cases.EvEscalated)
		if err != nil {
			return err
		}
		if len(byCase[1]) != 1 || len(byCase[2]) != 1 || len(byCase[3]) != 0 || byCase[2][0].Detail != "y" {
			t.Errorf("CaseEventsOfKinds = %+v", byCase)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// TestReportQueriesUseIndexes looks at the query plans: no query of a
// report or of a filtered case list scans a whole table.
func TestReportQueriesUseIndexes(t *testing.T) {
	ctx := context.Background()
	db := reportDB(t)
	byEngineer, args := listSQL(ListFilter{Status: "open", Engineer: "eng1@example.com"})
	for name, q := range map[string]struct {
		sql   string
		args  []any
		index string
	}{
		"report cases":  {reportCasesSQL, []any{1, 2, 1, 2}, "cases_closed"},
		"period events": {periodEventsSQL(2), []any{"escalated", "part", 1, 2}, "events_kind"},
		"case events":   {caseEventsSQL(2, 1), []any{1, 2, "escalated"}, "events_case"},
		"by engineer":   {byEngineer, args, "cases_"},
	} {
		rows, err := db.w.QueryContext(ctx, "EXPLAIN QUERY PLAN "+q.sql, q.args...)
		if err != nil {
			t.Fatal(err)
		}
		var plan []string
		for rows.Next() {
			var id, parent, notused int
			var detail string
			if err := rows.Scan(&id, &parent, &notused, &detail); err != nil {
				t.Fatal(err)
			}
			plan = append(plan, detail)
		}
		rows.Close()
		p := strings.Join(plan, "; ")
		t.Logf("%s: %s", name, p)
		if strings.Contains(p, "SCAN cases") || strings.Contains(p, "SCAN events") || !strings.Contains(p, q.index) {
			t.Errorf("%s: plan %q, want it to use %s", name, p, q.index)
		}
	}
}
