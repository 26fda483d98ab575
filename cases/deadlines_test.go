package cases

import (
	"testing"
	"time"
)

func TestComplianceAt(t *testing.T) {
	at := func(h int) time.Time { return time.Date(2026, 11, 26, h, 0, 0, 0, time.UTC) }
	now := at(12)
	tests := []struct {
		name                 string
		c                    Case
		respond, solve, site *Kept
		insp                 string
	}{
		{"responded late, solved in time", Case{Status: StatusResolved, RespondBy: at(9), RespondedAt: at(10), SolveOnlineBy: at(11), ResolvedAt: at(11)},
			&Kept{Met: false, Decided: true}, &Kept{Met: true, Decided: true}, nil, ""},
		{"both ahead", Case{Status: StatusOpen, RespondBy: at(13), SolveOnlineBy: at(14)},
			&Kept{}, &Kept{}, nil, ""},
		{"resolved in time but on site was needed", Case{Status: StatusResolved, SolveOnlineBy: at(14), OnsiteNeeded: true, ResolvedAt: at(11)},
			nil, &Kept{Met: false, Decided: true}, nil, ""},
		{"arrived late", Case{Status: StatusOpen, OnsiteBy: at(9), OnsiteArrivedAt: at(10)},
			nil, nil, &Kept{Met: false, Decided: true}, ""},
		{"visit: no solving online", Case{Kind: KindInstallation, Status: StatusOpen, RespondBy: at(9), SolveOnlineBy: at(9)},
			&Kept{Met: false, Decided: true}, nil, nil, ""},
		{"consulting: nothing", Case{Kind: KindConsulting, Status: StatusOpen, RespondBy: at(9)}, nil, nil, nil, ""},
		{"inspection missed", Case{Kind: KindInspection, Status: StatusOpen, RespondBy: at(9), ReportDueBy: at(11)}, nil, nil, nil, InspectionMissed},
		{"inspection opened late", Case{Kind: KindInspection, Status: StatusResolved, Late: true, ReportDueBy: at(11), ResolvedAt: at(10)}, nil, nil, nil, InspectionLate},
		{"inspection pending", Case{Kind: KindInspection, Status: StatusOpen, ReportDueBy: at(13)}, nil, nil, nil, InspectionPending},
		{"inspection on time", Case{Kind: KindInspection, Status: StatusResolved, ReportDueBy: at(13), ResolvedAt: at(10)}, nil, nil, nil, InspectionOnTime},
	}
	same := func(a, b *Kept) bool { return (a == nil) == (b == nil) && (a == nil || *a == *b) }
	for _, tt := range tests {
		got := ComplianceAt(&tt.c, now)
		if !same(got.Respond, tt.respond) || !same(got.SolveOnline, tt.solve) || !same(got.Onsite, tt.site) || got.Inspection != tt.insp {
			t.Errorf("%s: got respond %v solve %v onsite %v inspection %q", tt.name, got.Respond, got.SolveOnline, got.Onsite, got.Inspection)
		}
	}
}

func TestNextDeadline(t *testing.T) {
	at := func(h int) time.Time { return time.Date(2026, 11, 26, h, 0, 0, 0, time.UTC) }
	tests := []struct {
		name    string
		c       Case
		want    string // "" for none
		overdue bool   // at 12:00
	}{
		{"respond first", Case{Status: StatusOpen, RespondBy: at(9), SolveOnlineBy: at(14)}, "respond", true},
		{"responded: solve online", Case{Status: StatusOpen, RespondBy: at(9), RespondedAt: at(9), SolveOnlineBy: at(14)}, "solve online", false},
		{"on site needed, not dispatched: solve online still pending", Case{Status: StatusOpen, SolveOnlineBy: at(11), OnsiteNeeded: true}, "solve online", true},
		{"dispatched: on site counts", Case{Status: StatusOpen, SolveOnlineBy: at(11), OnsiteNeeded: true, OnsiteBy: at(15)}, "on site", false},
		{"resolved: nothing pending", Case{Status: StatusResolved, RespondBy: at(9), SolveOnlineBy: at(11)}, "", false},
		{"inspection: the report", Case{Kind: KindInspection, Status: StatusOpen, RespondBy: at(9), ReportDueBy: at(10)}, "report", true},
		{"consulting: none", Case{Kind: KindConsulting, Status: StatusOpen, RespondBy: at(9)}, "", false},
	}
	for _, tt := range tests {
		d, ok := NextDeadline(&tt.c)
		if got := map[bool]string{true: d.Name}[ok]; got != tt.want {
			t.Errorf("%s: next deadline %q, want %q", tt.name, got, tt.want)
		}
		if got := Overdue(&tt.c, at(12)); got != tt.overdue {
			t.Errorf("%s: overdue %v, want %v", tt.name, got, tt.overdue)
		}
	}
}

// TestSolveOnlineOnceDispatched: `case show` (CaseDeadlines) and the
// deadline report (ComplianceAt) read one rule (SolveOnlineOf): an
// engineer dispatched on site before solve_online_by passed makes that
// deadline no longer apply (SPEC §1.1 "solved online within, else on-site
// dispatch"); dispatched after it passed, it is missed.
func TestSolveOnlineOnceDispatched(t *testing.T) {
	at := func(h int) time.Time { return time.Date(2026, 11, 26, h, 0, 0, 0, time.UTC) }
	now := at(20)
	tests := []struct {
		name  string
		c     Case
		state string
		// show: "superseded", "missed", "met", "pending" or "" (none of them).
		show  string
		solve *Kept // nil: not counted
	}{
		{"dispatched before the deadline, still open", Case{Status: StatusOpen, SolveOnlineBy: at(11), DispatchedAt: at(10), OnsiteBy: at(15)},
			OnlineOnsiteInTime, "superseded", nil},
		{"dispatched before the deadline, the solve timer fired later", Case{Status: StatusOpen, SolveOnlineBy: at(11), DispatchedAt: at(10),
			OnsiteBy: at(15), OnsiteNeeded: true}, OnlineOnsiteInTime, "superseded", nil},
		{"dispatched before the deadline, resolved after it", Case{Status: StatusResolved, SolveOnlineBy: at(11), DispatchedAt: at(10),
			OnsiteBy: at(15), OnsiteArrivedAt: at(14), ResolvedAt: at(16)}, OnlineOnsiteInTime, "superseded", nil},
		{"dispatched after the deadline", Case{Status: StatusOpen, SolveOnlineBy: at(11), DispatchedAt: at(12), OnsiteBy: at(15), OnsiteNeeded: true},
			OnlineOnsiteLate, "missed", &Kept{Decided: true}},
		{"stored without DispatchedAt, dispatched before the slip", Case{Status: StatusOpen, SolveOnlineBy: at(11), OnsiteBy: at(15)},
			OnlineOnsiteInTime, "superseded", nil},
		{"stored without DispatchedAt, dispatched after the slip", Case{Status: StatusOpen, SolveOnlineBy: at(11), OnsiteBy: at(15), OnsiteNeeded: true},
			OnlineOnsiteLate, "missed", &Kept{Decided: true}},
		{"on site needed, not dispatched", Case{Status: StatusOpen, SolveOnlineBy: at(11), OnsiteNeeded: true},
			OnlinePending, "pending", &Kept{Decided: true}},
		{"solved online in time", Case{Status: StatusResolved, SolveOnlineBy: at(11), ResolvedAt: at(10)},
			OnlineSolved, "met", &Kept{Met: true, Decided: true}},
		{"not dispatched, not solved, ahead", Case{Status: StatusOpen, SolveOnlineBy: at(21)},
			OnlinePending, "pending", &Kept{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := SolveOnlineOf(&tt.c); got != tt.state {
				t.Errorf("SolveOnlineOf = %s, want %s", got, tt.state)
			}
			show := "absent"
			for _, d := range CaseDeadlines(&tt.c) {
				if d.Name != "solve online" {
					continue
				}
				switch {
				case d.Superseded && !d.Missed && !d.Pending:
					show = "superseded"
				case d.Missed && !d.Pending:
					show = "missed"
				case !d.Met.IsZero():
					show = "met"
				case d.Pending:
					show = "pending"
				default:
					show = ""
				}
			}
			if show != tt.show {
				t.Errorf("case show has solve online %q, want %q", show, tt.show)
			}
			comp := ComplianceAt(&tt.c, now)
			if (comp.SolveOnline == nil) != (tt.solve == nil) || comp.SolveOnline != nil && *comp.SolveOnline != *tt.solve {
				t.Errorf("report counts solve online %+v, want %+v", comp.SolveOnline, tt.solve)
			}
			if comp.OnsiteInTime != (tt.state == OnlineOnsiteInTime) {
				t.Errorf("OnsiteInTime = %v", comp.OnsiteInTime)
			}
			if tt.state == OnlineOnsiteInTime {
				if next, ok := NextDeadline(&tt.c); ok && next.Name == "solve online" {
					t.Error("solve online still the next deadline")
				}
			}
		})
	}
}

// TestNoSolveTimerOnceDispatchedInTime: once an engineer is dispatched on
// site before solve_online_by, that deadline no longer applies, so no
// warning and no slip are scheduled for it; the on-site clock runs.
func TestNoSolveTimerOnceDispatchedInTime(t *testing.T) {
	cfg := rulesCfg(t)
	c := opened(t, cfg, "alice@acme.test", 2, thu)
	if _, ok := Timers(cfg, c, thu)[TimerSolve]; !ok {
		t.Fatal("no solve timer before the dispatch")
	}
	c, _ = decideAll(t, c, thu.Add(time.Hour), staffMail(eng1, "/onsite dispatch eng1@example.com"))
	timers := Timers(cfg, c, thu.Add(time.Hour))
	for _, k := range []string{TimerSolve, TimerSolveWarn} {
		if due, ok := timers[k]; ok {
			t.Errorf("%s still set at %v after a dispatch in time", k, due.In(sh))
		}
	}
	if _, ok := timers[TimerOnsite]; !ok {
		t.Errorf("no on-site timer: %v", timers)
	}
}
