package main

import (
	"encoding/json"
	"strings"
	"testing"

	"helpdeskd/cases"
)

// TestSolveOnlineOnceDispatchedShowAndReport: `case show` and `report`
// agree on a fault's solve-online deadline once an engineer is dispatched
// on site (one rule, cases.SolveOnlineOf): dispatched before the deadline
// passed, it no longer applies — not missed, not due; dispatched after,
// it is missed in both.
func TestSolveOnlineOnceDispatchedShowAndReport(t *testing.T) {
	cfg := seededConfig(t, []seeded{
		// 1: dispatched at 11:00, the deadline 11-18 17:00; the solve
		// timer still flagged on site as needed at the deadline.
		{c: cases.Case{Severity: 2, OpenedAt: at("11-18 09:00"), RespondBy: at("11-18 13:00"), RespondedAt: at("11-18 09:30"),
			SolveOnlineBy: at("11-18 17:00"), OnsiteNeeded: true, OnsiteEngineer: "eng1@example.com",
			DispatchedAt: at("11-18 11:00"), OnsiteBy: at("11-23 18:00")},
			evs: []cases.Event{ev("11-18 11:00", cases.EvOnsiteDispatch, "eng1@example.com")}},
		// 2: dispatched after the deadline passed.
		{c: cases.Case{Severity: 2, OpenedAt: at("11-18 09:00"), RespondBy: at("11-18 13:00"), RespondedAt: at("11-18 09:30"),
			SolveOnlineBy: at("11-18 17:00"), OnsiteNeeded: true, OnsiteEngineer: "eng1@example.com",
			DispatchedAt: at("11-19 10:00"), OnsiteBy: at("11-24 18:00")},
			evs: []cases.Event{ev("11-19 10:00", cases.EvOnsiteDispatch, "eng1@example.com")}},
	})
	show := func(n string) string {
		t.Helper()
		code, out, errs := runCmd(t, "case", "show", n, "--config", cfg)
		if code != 0 {
			t.Fatalf("case show %s: exit %d: %s", n, code, errs)
		}
		for _, l := range strings.Split(out, "\n") {
			if strings.Contains(l, "solve online") {
				return l
			}
		}
		t.Fatalf("case show %s has no solve online line:\n%s", n, out)
		return ""
	}
	if l := show("1"); strings.Contains(l, "missed") || !strings.Contains(l, "no longer applies: dispatched on site 2026-11-18 11:00 +08:00, in time") {
		t.Errorf("dispatched in time: %q", l)
	}
	if l := show("2"); !strings.Contains(l, "!missed (on site instead)") {
		t.Errorf("dispatched late: %q", l)
	}

	code, out, errs := runCmd(t, "report", "--json", "--from", "2026-11-01", "--to", "2026-11-30", "--config", cfg)
	if code != 0 {
		t.Fatalf("report: exit %d: %s", code, errs)
	}
	var rows []reportRow
	if err := json.Unmarshal([]byte(out), &rows); err != nil {
		t.Fatal(err)
	}
	if len(rows) != 1 {
		t.Fatalf("rows: %s", out)
	}
	r := rows[0]
	// Only case 2 is due to be solved online, and it missed; case 1 is
	// counted as dispatched in time and not as still open.
	if r.SolvedOnline.Due != 1 || r.SolvedOnline.Within != 0 || r.SolvedLate != 1 || r.StillOpen != 0 || r.OnsiteInTime != 1 {
		t.Errorf("solved online %+v, late %d, still open %d, on site in time %d; want due 1, within 0, late 1, still open 0, in time 1",
			r.SolvedOnline, r.SolvedLate, r.StillOpen, r.OnsiteInTime)
	}
	code, out, _ = runCmd(t, "report", "--from", "2026-11-01", "--to", "2026-11-30", "--config", cfg)
	if code != 0 || !strings.Contains(out, "0/1 0% +1 on site") {
		t.Errorf("report text lacks the on-site count:\n%s", out)
	}
}
