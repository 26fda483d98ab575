package main

import (
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
	withDisplay(t, cfg, time.Now())
	time.Local = time.UTC // the display zone, unlike ACME's Shanghai calendar
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
