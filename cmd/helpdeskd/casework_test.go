package main

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
	"time"
)

func TestUnknownCustomerIsNamed(t *testing.T) {
	cfg := exampleConfig(t)
	open := func(company, email string) []string {
		return []string{"case", "open", "--config", cfg, "--company", company, "--contact", "X", "--email", email,
			"--severity", "2", "--subject", "s", "--body", "b"}
	}
	tests := []struct {
		name string
		args []string
		want string // in the one-line error
	}{
		{"sla unknown address", []string{"sla", "--customer", "mallory@evil.test", "--severity", "2", "--at", "2026-11-26T09:00:00+08:00"}, "mallory@evil.test"},
		{"sla unknown company", []string{"sla", "--customer", "Initech", "--severity", "2", "--at", "2026-11-26T09:00:00+08:00"}, `"Initech"`},
		{"open unknown company", open("Initech", "bob@initech.test"), `no customer "Initech" in the config (customers: ACME, Globex)`},
		{"open contact of another company", open("ACME", "carol@globex.test"), "carol@globex.test is a contact of Globex, not of ACME"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, out, errs := runCmd(t, append(tt.args, "--config", cfg)...)
			if code != 1 || !strings.Contains(errs, tt.want) || strings.Count(strings.TrimSpace(errs), "\n") != 0 || out != "" {
				t.Errorf("exit %d, stdout %q, stderr %q; want exit 1 naming %s", code, out, errs, tt.want)
			}
		})
	}
	// Nothing was opened.
	if code, out, _ := runCmd(t, "case", "list", "--json", "--status", "all", "--config", cfg); code != 0 || strings.TrimSpace(out) != "[]" {
		t.Errorf("cases after refused opens: %s", out)
	}
	// A personal address of a known company's contact is fine.
	if code, out, errs := runCmd(t, open("acme", "alice.home@mail.example.com")...); code != 0 || strings.TrimSpace(out) != "1" {
		t.Errorf("open for ACME from another address: exit %d %q %q", code, out, errs)
	}
}

func TestSLATextInDisplayZone(t *testing.T) {
	cfg := exampleConfig(t)
	withDisplay(t, cfg, "UTC", time.Now()) // unlike ACME's Shanghai calendar
	code, out, errs := runCmd(t, "sla", "--customer", "ACME", "--severity", "2", "--at", "2026-11-26T09:00:00+08:00", "--config", cfg)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	for _, s := range []string{"ACME, plan 5x8", "opened 2026-11-26 01:00 +00:00", "respond by       2026-11-26 06:30 +00:00",
		"solve online by  2026-11-27 01:30 +00:00"} {
		if !strings.Contains(out, s) {
			t.Errorf("sla lacks %q:\n%s", s, out)
		}
	}
}

func TestCaseCommandsUsage(t *testing.T) {
	cfg := exampleConfig(t)
	for _, args := range [][]string{
		{"case", "onsite", "1"},
		{"case", "onsite", "1", "dispatch"},
		{"case", "onsite", "1", "dispatch", "not-an-address"},
		{"case", "onsite", "x", "arrived"},
		{"case", "onsite", "1", "arrived", "--billable"},
		{"case", "onsite", "1", "left"},
		{"case", "part", "1"},
		{"case", "note"},
		{"case", "frob", "1"},
		{"case", "open", "--company", "ACME", "--contact", "A", "--email", "alice@acme.test", "--severity", "3", "--subject", "s", "--body", "b", "--kind", "training"},
		{"case", "open", "--company", "ACME", "--contact", "A", "--email", "alice@acme.test", "--severity", "3", "--subject", "s", "--body", "b", "--kind", "repair"},
		{"case", "open", "--company", "ACME", "--contact", "A", "--email", "alice@acme.test", "--severity", "3", "--subject", "s", "--body", "b", "--date", "2026-12-03"},
		{"case", "open", "--company", "ACME", "--contact", "A", "--email", "alice@acme.test", "--severity", "3", "--subject", "s", "--body", "b", "--kind", "installation", "--date", "3.12.2026"},
	} {
		code, _, errs := runCmd(t, append(args, "--config", cfg)...)
		if code != 2 {
			t.Errorf("%v: exit %d, want 2 (%s)", args, code, errs)
		}
	}
	if code, _, errs := runCmd(t, "case", "part", "7", "fan", "--config", cfg); code != 1 || !strings.Contains(errs, "no case 7") {
		t.Errorf("part on a missing case: exit %d %q", code, errs)
	}
}

func runIn(t *testing.T, stdin string, args ...string) (int, string, string) {
	t.Helper()
	var out, errb bytes.Buffer
	code := run(args, strings.NewReader(stdin), &out, &errb)
	return code, out.String(), errb.String()
}

func events(t *testing.T, cfg string, n string) []map[string]any {
	t.Helper()
	code, out, errs := runCmd(t, "case", "show", n, "--json", "--config", cfg)
	if code != 0 {
		t.Fatalf("case show: %d %s", code, errs)
	}
	var c struct {
		Events []map[string]any `json:"events"`
	}
	if err := json.Unmarshal([]byte(out), &c); err != nil {
		t.Fatal(err)
	}
	return c.Events
}

func lastEvent(evs []map[string]any, kind string) map[string]any {
	for i := len(evs) - 1; i >= 0; i-- {
		if evs[i]["kind"] == kind {
			return evs[i]
		}
	}
	return nil
}

// TestOnsitePartNoteCommands: the phone-call commands do what the mail
// commands do, refusals included (Globex has no on-site service).
func TestOnsitePartNoteCommands(t *testing.T) {
	cfg := exampleConfig(t)
	if code, out, errs := runCmd(t, "case", "open", "--config", cfg, "--company", "Globex", "--contact", "Carol", "--email", "carol@globex.test",
		"--severity", "2", "--subject", "Printer down", "--body", "It broke."); code != 0 || strings.TrimSpace(out) != "1" {
		t.Fatalf("case open: %d %q %q", code, out, errs)
	}
	code, _, errs := runCmd(t, "case", "onsite", "1", "dispatch", "eng1@example.com", "--config", cfg)
	if code != 1 || !strings.Contains(errs, "/onsite dispatch eng1@example.com") || strings.Count(strings.TrimSpace(errs), "\n") != 0 {
		t.Errorf("dispatch without on-site service: exit %d %q", code, errs)
	}
	if lastEvent(events(t, cfg, "1"), "command_error") == nil {
		t.Error("the refusal is not on the case")
	}
	if code, out, errs := runCmd(t, "case", "--config", cfg, "onsite", "--billable", "1", "dispatch", "ENG1@example.com"); code != 0 || !strings.Contains(out, "case 1: /onsite dispatch eng1@example.com --billable") {
		t.Fatalf("billable dispatch: %d %q %q", code, out, errs)
	}
	if code, _, errs := runCmd(t, "case", "onsite", "1", "arrived", "--as", "eng1@example.com", "--config", cfg); code != 0 {
		t.Fatalf("arrived: %d %q", code, errs)
	}
	if code, _, errs := runCmd(t, "case", "part", "1", "power", "supply", "PSU-500", "--config", cfg); code != 0 {
		t.Fatalf("part: %d %q", code, errs)
	}
	if code, _, errs := runIn(t, "客户来电：\n机房已恢复供电\n", "case", "note", "1", "--config", cfg); code != 0 {
		t.Fatalf("note from stdin: %d %q", code, errs)
	}
	if code, _, errs := runCmd(t, "case", "note", "1", "x", "--as", "nobody@example.com", "--config", cfg); code != 1 || !strings.Contains(errs, "nobody@example.com") {
		t.Errorf("--as a stranger: %d %q", code, errs)
	}
	evs := events(t, cfg, "1")
	for kind, want := range map[string][2]string{
		"onsite_dispatched": {"", "eng1@example.com"},
		"onsite_arrived":    {"eng1@example.com", "eng1@example.com"},
		"part":              {"", "power supply PSU-500"},
		"note":              {"", "客户来电：\n机房已恢复供电"},
	} {
		e := lastEvent(evs, kind)
		if e == nil {
			t.Errorf("no %s event in %v", kind, evs)
			continue
		}
		if !strings.Contains(e["detail"].(string), want[1]) || (want[0] != "" && e["actor"] != want[0]) {
			t.Errorf("%s event: actor %q detail %q, want %q %q", kind, e["actor"], e["detail"], want[0], want[1])
		}
	}
	code, out, _ := runCmd(t, "case", "show", "1", "--json", "--config", cfg)
	var c map[string]any
	json.Unmarshal([]byte(out), &c)
	if code != 0 || c["deadlines"].(map[string]any)["onsite_by"] == nil {
		t.Errorf("onsite_by after the dispatch: %v", c["deadlines"])
	}
	// The report counts the part and the arrival.
	code, out, _ = runCmd(t, "report", "--json", "--config", cfg)
	var rows []map[string]any
	if err := json.Unmarshal([]byte(out), &rows); code != 0 || err != nil || len(rows) != 1 {
		t.Fatalf("report: %d %v %s", code, err, out)
	}
	if rows[0]["parts"] != 1.0 || rows[0]["onsite_arrived"].(map[string]any)["within"] != 1.0 {
		t.Errorf("report row: %v", rows[0])
	}
}

func TestCaseOpenVisit(t *testing.T) {
	cfg := exampleConfig(t)
	open := func(kind string) (int, string, string) {
		return runCmd(t, "case", "open", "--config", cfg, "--company", "ACME", "--contact", "Alice", "--email", "alice@acme.test",
			"--severity", "3", "--subject", "Visit", "--body", "Please come.", "--kind", kind, "--date", "2026-12-03")
	}
	if code, out, errs := open("installation"); code != 0 || strings.TrimSpace(out) != "1" {
		t.Fatalf("installation: %d %q %q", code, out, errs)
	}
	code, out, _ := runCmd(t, "case", "show", "1", "--json", "--config", cfg)
	var c map[string]any
	json.Unmarshal([]byte(out), &c)
	if code != 0 || c["kind"] != "installation" || c["planned_date"] != "2026-12-03" {
		t.Errorf("installation case: kind %v planned %v", c["kind"], c["planned_date"])
	}
	// ACME bought no installation, so no training either (SPEC §11.6).
	if code, _, errs := open("training"); code != 1 || !strings.Contains(errs, "training") {
		t.Errorf("training without installation: %d %q", code, errs)
	}
}
