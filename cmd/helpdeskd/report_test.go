package main

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"helpdeskd/cases"
	"helpdeskd/store"
)

var shanghai = mustZone("Asia/Shanghai")

func mustZone(name string) *time.Location {
	l, err := time.LoadLocation(name)
	if err != nil {
		panic(err)
	}
	return l
}

// at is a time in Shanghai: at("11-03 09:00") is 2026-11-03 09:00 +08:00.
func at(s string) time.Time {
	t, err := time.ParseInLocation("2006-01-02 15:04", "2026-"+s, shanghai)
	if err != nil {
		panic(err)
	}
	return t
}

// withDisplay sets the config's [display] time zone, and fixes the read
// commands' clock at clock.
func withDisplay(t testing.TB, cfgPath, zone string, clock time.Time) {
	t.Helper()
	src, err := os.ReadFile(cfgPath)
	if err != nil {
		t.Fatal(err)
	}
	const local = `timezone = "Local"`
	if !strings.Contains(string(src), local) {
		t.Fatalf("no %s in the example config", local)
	}
	if err := os.WriteFile(cfgPath, []byte(strings.Replace(string(src), local, `timezone = "`+zone+`"`, 1)), 0o600); err != nil {
		t.Fatal(err)
	}
	old := now
	now = func() time.Time { return clock }
	t.Cleanup(func() { now = old })
}

// seeded is a case written straight into the database, with its events.
type seeded struct {
	c   cases.Case
	evs []cases.Event
}

func seed(t testing.TB, cfgPath string, list []seeded) {
	t.Helper()
	cfg, err := loadConfig(cfgPath)
	if err != nil {
		t.Fatal(err)
	}
	db, err := store.Open(context.Background(), cfg.Database.Path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	err = db.Tx(context.Background(), func(tx *store.Txn) error {
		for _, s := range list {
			c := s.c
			if c.Subject == "" {
				c.Subject = "seeded"
			}
			if c.Status == "" {
				c.Status = cases.StatusOpen
			}
			if c.Priority == "" {
				c.Priority = "normal"
			}
			if err := tx.InsertCase(&c); err != nil {
				return err
			}
			for _, e := range append([]cases.Event{{At: c.OpenedAt, Kind: cases.EvOpened}}, s.evs...) {
				e.Case = c.Number
				if err := tx.AddEvent(e); err != nil {
					return err
				}
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

func ev(when, kind, detail string) cases.Event {
	return cases.Event{At: at(when), Kind: kind, Detail: detail}
}

// reportCases are cases with known timings (Shanghai time, November 2026),
// reported for 2026-11-01 to 2026-11-30 as of 2026-11-20 12:00.
func reportCases() []seeded {
	const (
		respondSlip = "no staff response by respond_by (escalation 1, to customer_service_manager); deadline 2026-11-03T13:00:00+08:00; priority normal -> high"
		stuck       = "engineer stuck: not solved 30m0s after assignment; deadline 2026-11-04T09:30:00+08:00; priority high -> urgent"
		solveSlip   = "not solved online in time: on-site required, please dispatch (/onsite dispatch EMAIL); deadline 2026-11-03T17:00:00+08:00; priority high -> urgent"
		reportSlip  = "inspection report not received by report_due_by; deadline 2026-11-18T18:00:00+08:00; priority normal -> high"
	)
	return []seeded{
		// 1: severity 2, responded in 30m, solved online in 3h, closed.
		{c: cases.Case{Severity: 2, Status: cases.StatusClosed, OpenedAt: at("11-02 09:00"), RespondBy: at("11-02 13:00"),
			RespondedAt: at("11-02 09:30"), SolveOnlineBy: at("11-02 17:00"), ResolvedAt: at("11-02 12:00"), ClosedAt: at("11-03 10:00")}},
		// 2: severity 2, responded 5h late, not solved online, on site 16h
		// after dispatch (in time), two parts.
		{c: cases.Case{Severity: 2, Status: cases.StatusResolved, OpenedAt: at("11-03 09:00"), RespondBy: at("11-03 13:00"),
			RespondedAt: at("11-03 14:00"), SolveOnlineBy: at("11-03 17:00"), OnsiteNeeded: true, OnsiteEngineer: "eng1@example.com",
			OnsiteBy: at("11-06 18:00"), OnsiteArrivedAt: at("11-04 10:00"), ResolvedAt: at("11-04 15:00")},
			evs: []cases.Event{ev("11-03 13:00", cases.EvEscalated, respondSlip), ev("11-03 17:00", cases.EvEscalated, solveSlip),
				ev("11-03 18:00", cases.EvOnsiteDispatch, "eng1@example.com"), ev("11-04 10:00", cases.EvOnsiteArrived, "eng1@example.com"),
				ev("11-04 11:00", cases.EvPart, "power supply PSU-500"), ev("11-04 11:05", cases.EvPart, "fan FN-12")}},
		// 3: severity 2, never answered: both deadlines missed, escalated
		// twice for the response and once as stuck.
		{c: cases.Case{Severity: 2, OpenedAt: at("11-04 09:00"), RespondBy: at("11-04 13:00"), SolveOnlineBy: at("11-05 09:30")},
			evs: []cases.Event{ev("11-04 09:30", cases.EvEscalated, stuck), ev("11-04 13:00", cases.EvEscalated, respondSlip),
				ev("11-04 17:00", cases.EvEscalated, respondSlip)}},
		// 4: severity 1, responded in 10m, solve deadline still ahead.
		{c: cases.Case{Severity: 1, OpenedAt: at("11-05 10:00"), RespondBy: at("11-05 12:00"), RespondedAt: at("11-05 10:10"),
			SolveOnlineBy: at("11-25 10:00")}},
		// 5: an installation visit: responded in 1h, arrived 1h late, 10h
		// after dispatch.
		{c: cases.Case{Severity: 3, Kind: cases.KindInstallation, OpenedAt: at("11-06 09:00"), RespondBy: at("11-06 17:00"),
			RespondedAt: at("11-06 10:00"), PlannedDate: time.Date(2026, 11, 10, 0, 0, 0, 0, time.UTC),
			OnsiteEngineer: "eng1@example.com", OnsiteBy: at("11-10 18:00"), OnsiteArrivedAt: at("11-10 19:00")},
			evs: []cases.Event{ev("11-10 09:00", cases.EvOnsiteDispatch, "eng1@example.com")}},
		// 6-9: inspections: on time, opened late, missed (and escalated), pending.
		{c: cases.Case{Severity: 3, Kind: cases.KindInspection, Status: cases.StatusResolved, OpenedAt: at("11-02 09:00"),
			ReportDueBy: at("11-04 18:00"), ResolvedAt: at("11-03 09:00")}},
		{c: cases.Case{Severity: 3, Kind: cases.KindInspection, Status: cases.StatusResolved, Late: true, OpenedAt: at("11-09 09:00"),
			ReportDueBy: at("11-11 18:00"), ResolvedAt: at("11-10 09:00")}},
		{c: cases.Case{Severity: 3, Kind: cases.KindInspection, OpenedAt: at("11-16 09:00"), ReportDueBy: at("11-18 18:00")},
			evs: []cases.Event{ev("11-18 18:00", cases.EvEscalated, reportSlip)}},
		{c: cases.Case{Severity: 3, Kind: cases.KindInspection, OpenedAt: at("11-19 09:00"), ReportDueBy: at("11-21 18:00")}},
		// 10: opened before the period, closed in it; its escalation is
		// outside the period, its part inside.
		{c: cases.Case{Severity: 2, Status: cases.StatusClosed, OpenedAt: at("10-20 09:00"), RespondBy: at("10-20 13:00"),
			SolveOnlineBy: at("10-21 09:30"), ResolvedAt: at("11-01 09:00"), ClosedAt: at("11-02 09:00")},
			evs: []cases.Event{ev("10-20 13:00", cases.EvEscalated, respondSlip), ev("11-01 08:00", cases.EvPart, "disk")}},
		// 11: archived by the first import: counted as imported only.
		{c: cases.Case{Severity: 3, Status: cases.StatusClosed, OpenedAt: at("11-10 09:00"), ClosedAt: at("11-10 09:00")},
			evs: []cases.Event{ev("11-10 09:00", cases.EvImported, "archived")}},
		// 12: severity 4, 00:30 on the first day in Shanghai (the day
		// before in UTC): in the period; responded in 1h.
		{c: cases.Case{Severity: 4, OpenedAt: at("11-01 00:30"), RespondBy: at("11-01 08:30"), RespondedAt: at("11-01 01:30")}},
		// 13: handed to consulting: opened, but no deadline is due.
		{c: cases.Case{Severity: 2, Kind: cases.KindConsulting, OpenedAt: at("11-12 09:00"), RespondBy: at("11-12 13:00"),
			SolveOnlineBy: at("11-13 09:00")}},
		// 14: 00:30 on the day after the period in Shanghai (still the
		// 30th in UTC): outside.
		{c: cases.Case{Severity: 4, OpenedAt: at("12-01 00:30"), RespondBy: at("12-01 08:30")}},
	}
}

// seededConfig is the example config with the display zone Shanghai, the
// clock at 2026-11-20 12:00 there, and the cases in its database.
func seededConfig(t *testing.T, list []seeded) string {
	t.Helper()
	cfg := exampleConfig(t)
	withDisplay(t, cfg, "Asia/Shanghai", at("11-20 12:00"))
	seed(t, cfg, list)
	return cfg
}

func TestReportCSV(t *testing.T) {
	cfg := seededConfig(t, reportCases())
	code, out, errs := runCmd(t, "report", "--from", "2026-11-01", "--to", "2026-11-30", "--csv", "--config", cfg)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	recs, err := csv.NewReader(strings.NewReader(out)).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(recs[0], ",") != strings.Join(csvHeader, ",") {
		t.Fatalf("header = %v", recs[0])
	}
	got := map[string]map[string]string{}
	for _, r := range recs[1:] {
		m := map[string]string{}
		for i, h := range recs[0] {
			m[h] = r[i]
		}
		got[r[0]+"/"+r[1]] = m
	}
	want := map[string]map[string]string{
		"1/fault": {"opened": "1", "closed": "0", "responded_due": "1", "responded_within": "1", "responded_share": "1",
			"solved_online_due": "0", "solved_online_share": "", "still_open": "1", "respond_mean_s": "600", "respond_p90_s": "600",
			"solve_mean_s": "", "esc_respond": "0", "parts": "0"},
		"2/fault": {"opened": "3", "closed": "2", "imported": "0",
			"responded_due": "3", "responded_within": "1", "responded_share": "0.3333",
			"solved_online_due": "3", "solved_online_within": "1", "solved_online_share": "0.3333", "still_open": "0",
			"onsite_due": "1", "onsite_within": "1", "onsite_share": "1",
			"respond_mean_s": "9900", "respond_p90_s": "18000", // 30m and 5h
			"solve_mean_s": "59400", "solve_p90_s": "108000", // 3h and 30h
			"arrive_mean_s": "57600", "arrive_p90_s": "57600", // 16h after dispatch
			"escalated_cases": "2", "esc_respond": "3", "esc_stuck": "1", "esc_solve": "1", "esc_onsite": "0", "esc_report": "0",
			"esc_other": "0", "parts": "3"},
		"3/fault": {"opened": "0", "closed": "0", "imported": "1", "responded_due": "0", "parts": "0"},
		"3/installation": {"opened": "1", "responded_due": "1", "responded_within": "1", "respond_mean_s": "3600",
			"solved_online_due": "0", "onsite_due": "1", "onsite_within": "0", "onsite_share": "0",
			"arrive_mean_s": "36000", "arrive_p90_s": "36000"},
		"3/inspection": {"opened": "4", "inspections_on_time": "1", "inspections_late": "1", "inspections_missed": "1",
			"inspections_pending": "1", "esc_report": "1", "escalated_cases": "1", "solve_mean_s": "86400", "responded_due": "0"},
		"4/fault":      {"opened": "1", "responded_due": "1", "responded_within": "1", "respond_mean_s": "3600"},
		"2/consulting": {"opened": "1", "responded_due": "0", "solved_online_due": "0", "still_open": "0"},
	}
	if len(got) != len(want) {
		t.Errorf("rows %v, want %d rows", keys(got), len(want))
	}
	for row, cols := range want {
		for k, v := range cols {
			if got[row][k] != v {
				t.Errorf("%s %s = %q, want %q", row, k, got[row][k], v)
			}
		}
	}
}

func keys[V any](m map[string]V) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}

func TestReportJSONKeepsItsKeys(t *testing.T) {
	cfg := seededConfig(t, reportCases())
	code, out, errs := runCmd(t, "report", "--json", "--from", "2026-11-01", "--config", cfg, "--to", "2026-11-30")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	var rows []map[string]any
	if err := json.Unmarshal([]byte(out), &rows); err != nil {
		t.Fatal(err)
	}
	var sev2 map[string]any
	for _, r := range rows {
		if r["severity"].(float64) == 2 && r["kind"] == "fault" {
			sev2 = r
		}
	}
	if sev2 == nil {
		t.Fatalf("no severity 2 fault row in %s", out)
	}
	// The keys of the first report keep their meaning.
	for k, v := range map[string]float64{"cases": 3, "responded_on_time": 1, "responded_late": 2, "solved_online_on_time": 1,
		"solved_late": 2, "still_open": 0, "escalated": 2, "parts": 3} {
		if sev2[k] != v {
			t.Errorf("%s = %v, want %v", k, sev2[k], v)
		}
	}
	esc := sev2["escalations"].(map[string]any)
	if esc["respond"] != 3.0 || esc["stuck"] != 1.0 || esc["solve"] != 1.0 {
		t.Errorf("escalations = %v", esc)
	}
	tr := sev2["time_to_respond"].(map[string]any)
	if tr["count"] != 2.0 || tr["mean_seconds"] != 9900.0 || tr["p90_seconds"] != 18000.0 {
		t.Errorf("time_to_respond = %v", tr)
	}
	if s := sev2["responded"].(map[string]any); s["due"] != 3.0 || s["within"] != 1.0 || s["share"] != 0.3333 {
		t.Errorf("responded = %v", s)
	}
}

func TestReportText(t *testing.T) {
	cfg := seededConfig(t, reportCases())
	code, out, errs := runCmd(t, "report", "--from", "2026-11-01", "--to", "2026-11-30", "--config", cfg)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	for _, s := range []string{
		"2026-11-01 to 2026-11-30 (Asia/Shanghai), as of 2026-11-20 12:00 +08:00",
		"1/3 33%",  // severity 2 responses
		"2h45m/5h", // mean and p90 to respond
		"respond 3, stuck 1, solve 1",
		"Inspections:",
	} {
		if !strings.Contains(out, s) {
			t.Errorf("report lacks %q:\n%s", s, out)
		}
	}
	// Every row of the table has its columns at the same place.
	lines := strings.Split(out, "\n")
	var head, row string
	for _, l := range lines {
		if strings.HasPrefix(l, "SEV ") {
			head = l
		}
		if strings.HasPrefix(l, "2    fault") {
			row = l
		}
	}
	if head == "" || row == "" || strings.Index(head, "ESCALATIONS") != strings.Index(row, "respond 3") {
		t.Errorf("columns not aligned:\n%s\n%s", head, row)
	}
}

func TestReportBadInput(t *testing.T) {
	cfg := exampleConfig(t)
	for _, args := range [][]string{
		{"report", "--from", "1.11.2026"},
		{"report", "--from", "2026-11-30", "--to", "2026-11-01"},
		{"report", "--json", "--csv"},
		{"report", "extra"},
	} {
		if code, _, _ := runCmd(t, append(args, "--config", cfg)...); code != 2 {
			t.Errorf("%v: exit %d, want 2", args, code)
		}
	}
	// No cases: an empty report, not an error.
	code, out, _ := runCmd(t, "report", "--csv", "--config", cfg)
	if code != 0 || strings.TrimSpace(out) != strings.Join(csvHeader, ",") {
		t.Errorf("empty report: %d %q", code, out)
	}
	if _, err := filepath.Abs(cfg); err != nil {
		t.Fatal(err)
	}
}

func TestDurationsPercentile(t *testing.T) {
	var d durations
	for i := 1; i <= 10; i++ {
		d.add(time.Duration(i) * time.Minute)
	}
	d.finish()
	// Mean of 1..10 minutes is 5.5 minutes; the nearest-rank 90th
	// percentile of ten values is the ninth.
	if d.Count != 10 || *d.Mean != 330 || *d.P90 != 540 {
		t.Errorf("count %d mean %v p90 %v", d.Count, *d.Mean, *d.P90)
	}
}

// BenchmarkReport times `report --csv` over a year of 10,000 cases with
// three events each (go test -bench Report -run XXX ./cmd/helpdeskd/).
func BenchmarkReport(b *testing.B) {
	cfg := exampleConfig(b)
	var list []seeded
	start := at("01-01 09:00")
	for i := range 10000 {
		o := start.Add(time.Duration(i) * 50 * time.Minute)
		list = append(list, seeded{c: cases.Case{Severity: 1 + i%4, Status: cases.StatusClosed, OpenedAt: o,
			RespondBy: o.Add(4 * time.Hour), RespondedAt: o.Add(time.Duration(i%300) * time.Minute),
			SolveOnlineBy: o.Add(8 * time.Hour), ResolvedAt: o.Add(time.Duration(i%600) * time.Minute), ClosedAt: o.Add(24 * time.Hour)},
			evs: []cases.Event{{At: o.Add(time.Hour), Kind: cases.EvEscalated, Detail: "respond: x; deadline y"},
				{At: o.Add(2 * time.Hour), Kind: cases.EvPart, Detail: "fan"}}})
	}
	seed(b, cfg, list)
	b.ResetTimer()
	for range b.N {
		if code, _, errs := runCmd(b, "report", "--csv", "--from", "2026-01-01", "--to", "2026-12-31", "--config", cfg); code != 0 {
			b.Fatal(errs)
		}
	}
}
