package main

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"helpdeskd/cases"
)

// listCases are open, closed, overdue and visit cases with CJK names, seen
// at 2026-11-20 12:00 Shanghai time.
func listCases() []seeded {
	return []seeded{
		// 1: respond due in 2h.
		{c: cases.Case{Severity: 2, Engineer: "eng1@example.com", Company: "ACME", Subject: "打印机无法启动",
			OpenedAt: at("11-20 10:00"), RespondBy: at("11-20 14:00"), SolveOnlineBy: at("11-21 10:00")}},
		// 2: respond 2h late.
		{c: cases.Case{Severity: 1, Engineer: "eng2@example.com", Company: "华东电力集团", Subject: "Server down",
			OpenedAt: at("11-20 08:00"), RespondBy: at("11-20 10:00"), SolveOnlineBy: at("11-20 13:00")},
			evs: []cases.Event{{At: at("11-20 10:00"), Kind: cases.EvEscalated,
				Detail: "respond: no staff response by respond_by (escalation 1, to customer_service_manager); deadline 2026-11-20T02:00:00Z; priority high -> urgent"},
				{At: at("11-20 10:30"), Kind: cases.EvNote, Actor: "eng2@example.com", Detail: "第一行：客户来电\n第二行：机房断电"}}},
		// 3: an installation visit, responded, nothing pending.
		{c: cases.Case{Severity: 3, Kind: cases.KindInstallation, Engineer: "eng1@example.com", Company: "ACME", Subject: "安装",
			OpenedAt: at("11-18 09:00"), RespondBy: at("11-18 17:00"), RespondedAt: at("11-18 09:30"),
			PlannedDate: time.Date(2026, 11, 25, 0, 0, 0, 0, time.UTC)}},
		// 4: closed.
		{c: cases.Case{Severity: 2, Status: cases.StatusClosed, Engineer: "eng1@example.com", Company: "ACME", Subject: "done",
			OpenedAt: at("11-02 09:00"), RespondBy: at("11-02 13:00"), ClosedAt: at("11-03 09:00")}},
		// 5: an inspection whose report is 18h late.
		{c: cases.Case{Severity: 3, Kind: cases.KindInspection, Engineer: "eng2@example.com", Company: "华东电力集团", Subject: "定期巡检",
			OpenedAt: at("11-17 09:00"), ReportDueBy: at("11-19 18:00")}},
		// 6: handed to consulting: its clocks stopped, so not overdue.
		{c: cases.Case{Severity: 2, Kind: cases.KindConsulting, Company: "Globex", Subject: "漏洞修复",
			OpenedAt: at("11-18 09:00"), RespondBy: at("11-18 13:00"), SolveOnlineBy: at("11-19 09:00")}},
		// 7: an inspection is kept to its report only, due in 2 days.
		{c: cases.Case{Severity: 3, Kind: cases.KindInspection, Company: "Globex", Subject: "巡检",
			OpenedAt: at("11-19 09:00"), RespondBy: at("11-19 17:00"), ReportDueBy: at("11-22 18:00")}},
	}
}

func TestCaseListFilters(t *testing.T) {
	cfg := seededConfig(t, listCases())
	tests := []struct {
		args []string
		want string
	}{
		{nil, "7,6,5,3,2,1"},
		{[]string{"--status", "all", "--engineer", "ENG1@example.com"}, "4,3,1"},
		{[]string{"--company", "acme"}, "3,1"},
		{[]string{"--company", "华东电力集团", "--status", "all"}, "5,2"},
		{[]string{"--kind", "installation"}, "3"},
		{[]string{"--kind", "fault", "--status", "all"}, "4,2,1"},
		{[]string{"--overdue"}, "5,2"},
		{[]string{"--overdue", "--kind", "inspection"}, "5"},
		{[]string{"--kind", "consulting"}, "6"},
		{[]string{"--status", "closed", "--overdue"}, ""},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			code, out, errs := runCmd(t, append([]string{"case", "list", "--json", "--config", cfg}, tt.args...)...)
			if code != 0 {
				t.Fatalf("exit %d: %s", code, errs)
			}
			var list []map[string]any
			if err := json.Unmarshal([]byte(out), &list); err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, c := range list {
				got = append(got, fmt.Sprint(c["number"]))
			}
			if strings.Join(got, ",") != tt.want {
				t.Errorf("cases %v, want %s", got, tt.want)
			}
		})
	}
	for _, args := range [][]string{{"--kind", "repair"}, {"--status", "pending"}} {
		if code, _, _ := runCmd(t, append([]string{"case", "list", "--config", cfg}, args...)...); code != 2 {
			t.Errorf("%v: exit %d, want 2", args, code)
		}
	}
	code, _, errs := runCmd(t, "case", "list", "--engineer", "nobody@example.com", "--config", cfg)
	if code != 1 || !strings.Contains(errs, "nobody@example.com") {
		t.Errorf("unknown engineer: exit %d, %q", code, errs)
	}
}

func TestCaseJSONHasKind(t *testing.T) {
	cfg := seededConfig(t, listCases())
	code, out, _ := runCmd(t, "case", "list", "--json", "--status", "all", "--config", cfg)
	var list []map[string]any
	if err := json.Unmarshal([]byte(out), &list); code != 0 || err != nil {
		t.Fatalf("exit %d: %v", code, err)
	}
	kinds := map[string]string{}
	for _, c := range list {
		kinds[fmt.Sprint(c["number"])] = c["kind"].(string)
		for _, k := range []string{"number", "subject", "status", "severity", "priority", "company", "contact_email", "engineer", "opened_at", "deadlines"} {
			if _, ok := c[k]; !ok {
				t.Errorf("case %v lacks %q", c["number"], k)
			}
		}
	}
	if kinds["1"] != "fault" || kinds["3"] != "installation" || kinds["5"] != "inspection" {
		t.Errorf("kinds = %v", kinds)
	}
	code, out, _ = runCmd(t, "case", "show", "3", "--json", "--config", cfg)
	var c map[string]any
	if err := json.Unmarshal([]byte(out), &c); code != 0 || err != nil {
		t.Fatalf("exit %d: %v", code, err)
	}
	if c["kind"] != "installation" || c["planned_date"] != "2026-11-25" || c["opened_at"] != "2026-11-18T09:00:00+08:00" {
		t.Errorf("case show --json: kind %v planned %v opened %v", c["kind"], c["planned_date"], c["opened_at"])
	}
}

// column is the display column at which cell starts in line, -1 if absent.
func column(line, cell string) int {
	i := strings.Index(line, cell)
	if i < 0 {
		return -1
	}
	return textWidth(line[:i])
}

func TestCaseListText(t *testing.T) {
	cfg := seededConfig(t, listCases())
	code, out, errs := runCmd(t, "case", "list", "--config", cfg)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	lines := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
	if len(lines) != 7 {
		t.Fatalf("want a header and 6 cases:\n%s", out)
	}
	byCase := map[string]string{}
	for _, l := range lines[1:] {
		byCase[strings.Fields(l)[0]] = l
	}
	want := map[string][]string{ // next deadline, its due time, time left
		"1": {"respond", "2026-11-20 14:00 +08:00", "in 2h"},
		"2": {"respond", "2026-11-20 10:00 +08:00", "!2h late"},
		"5": {"report", "2026-11-19 18:00 +08:00", "!18h late"},
		"7": {"report", "2026-11-22 18:00 +08:00", "in 2d6h"},
	}
	for n, cells := range want {
		l := byCase[n]
		for i, cell := range cells {
			if c := column(l, cell); c != column(lines[0], []string{"NEXT DEADLINE", "DUE", "LEFT"}[i]) {
				t.Errorf("case %s: %q at column %d, header at %d:\n%s", n, cell, c, column(lines[0], "LEFT"), out)
			}
		}
	}
	// The wide company names do not push the later columns.
	subj := column(lines[0], "SUBJECT")
	for n, s := range map[string]string{"1": "打印机无法启动", "2": "Server down", "5": "定期巡检"} {
		if c := column(byCase[n], s); c != subj {
			t.Errorf("case %s subject at column %d, header at %d:\n%s", n, c, subj, out)
		}
	}
	if !strings.Contains(byCase["1"], "2h ") || !strings.Contains(byCase["5"], "3d3h") {
		t.Errorf("ages:\n%s", out)
	}
}

func TestCaseShowText(t *testing.T) {
	cfg := seededConfig(t, listCases())
	code, out, errs := runCmd(t, "case", "show", "2", "--config", cfg)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	for _, s := range []string{
		"opened 2026-11-20 08:00 +08:00 (4h ago)",
		"respond       2026-11-20 10:00 +08:00  !2h late",
		"solve online  2026-11-20 13:00 +08:00  in 1h",
		"on site       -                        not dispatched",
		"; deadline 2026-11-20 10:00 +08:00; priority high -> urgent", // in the display zone, not as stored
	} {
		if !strings.Contains(out, s) {
			t.Errorf("case show lacks %q:\n%s", s, out)
		}
	}
	lines := strings.Split(out, "\n")
	for i, l := range lines {
		if strings.Contains(l, "第一行") {
			next := lines[i+1]
			if strings.TrimSpace(next) != "第二行：机房断电" || column(next, "第二行") != column(l, "第一行") {
				t.Errorf("second line of the note not indented under the first:\n%s\n%s", l, next)
			}
			return
		}
	}
	t.Errorf("no note in:\n%s", out)
}

func TestTextWidth(t *testing.T) {
	for s, want := range map[string]int{"abc": 3, "打印机": 6, "ＡＢ": 4, "e\u0301": 1, "华东 A": 6} {
		if got := textWidth(s); got != want {
			t.Errorf("textWidth(%q) = %d, want %d", s, got, want)
		}
	}
}
