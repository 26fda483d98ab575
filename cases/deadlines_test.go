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
	c := Case{Status: StatusOpen, SolveOnlineBy: at(11), OnsiteBy: at(15)}
	for _, d := range CaseDeadlines(&c) {
		if d.Name == "solve online" && (!d.Missed || d.Pending) {
			t.Errorf("solve online once dispatched: %+v, want missed, not pending", d)
		}
	}
}
