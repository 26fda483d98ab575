package main

import (
	"os"
	"strings"
	"testing"
)

// SPEC §10, §11.6: `sla` prints the deadlines a case of this customer
// would get; onsite_by follows the customer's on-site service as the case
// does. ACME with 7×24 on-site service: 3 days on the always calendar
// (days end 24:00 UTC), not 3 working days of the office calendar.
func TestReviewSLAOnsiteFollowsTheService(t *testing.T) {
	cfg := exampleConfig(t)
	src, err := os.ReadFile(cfg)
	if err != nil {
		t.Fatal(err)
	}
	edited := strings.Replace(string(src), `services = ["hotline", "email", "onsite_5x8", "inspection"]`,
		`services = ["hotline", "email", "onsite_7x24", "inspection"]`, 1)
	if edited == string(src) {
		t.Fatal("example config changed: ACME's services line not found")
	}
	if err := os.WriteFile(cfg, []byte(edited), 0o600); err != nil {
		t.Fatal(err)
	}
	code, out, errs := runCmd(t, "sla", "--customer", "alice@acme.test", "--severity", "2", "--at", "2026-11-26T09:00:00+08:00", "--json", "--config", cfg)
	if want := `"onsite_by": "2026-11-30T08:00:00+08:00"`; code != 0 || !strings.Contains(out, want) {
		t.Errorf("exit %d, want %q in:\n%s%s", code, want, out, errs)
	}
}
