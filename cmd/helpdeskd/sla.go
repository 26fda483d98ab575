package main

import (
	"fmt"
	"io"
	"strings"
	"time"

	"helpdeskd/cases"
	"helpdeskd/config"
)

func cmdSLA(args []string, stdout io.Writer) error {
	fs, cfgPath := newFlags("sla")
	customer := fs.String("customer", "", "customer contact email (or the company name)")
	severity := fs.Int("severity", 0, "severity")
	at := fs.String("at", "", "opening time, RFC 3339")
	asJSON := fs.Bool("json", false, "print JSON")
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	if len(pos) > 0 {
		return usagef("sla: unexpected argument %q", pos[0])
	}
	if *customer == "" || *severity == 0 || *at == "" {
		return usagef("sla: --customer, --severity and --at are required")
	}
	t, err := time.Parse(time.RFC3339, *at)
	if err != nil {
		return usagef("sla: --at %q is not RFC 3339 (like 2026-11-26T09:00:00+08:00)", *at)
	}
	cfg, err := loadConfig(*cfgPath)
	if err != nil {
		return err
	}
	if _, ok := cfg.Severities[*severity]; !ok {
		return fmt.Errorf("severity %d is not configured", *severity)
	}
	// An unknown address is named, not silently given the default plan
	// (issue 9): a deadline for the wrong plan is worse than none.
	var cu *config.Customer
	if strings.Contains(*customer, "@") {
		if cu, _ = cfg.CustomerFor(*customer); cu == nil {
			return fmt.Errorf("no customer has address %s (no contact or domain of [[customers]] matches)", *customer)
		}
	} else if cu = cfg.CustomerByCompany(*customer); cu == nil {
		return fmt.Errorf("no customer %q in the config", *customer)
	}
	plan := cfg.Plans[cu.Plan]
	respond, solve := cases.Deadlines(cfg, plan, *severity, t)
	// On site as a case of this customer counts it: on the calendar of
	// its on-site service (SPEC §11.6).
	onsite := cases.OnsiteDeadlineFor(cfg, &cases.Case{Company: cu.Company, Plan: plan.Name, Severity: *severity}, t)
	loc := plan.Calendar.Location
	if *asJSON {
		return writeJSON(stdout, map[string]string{
			"respond_by": respond.In(loc).Format(time.RFC3339), "solve_online_by": solve.In(loc).Format(time.RFC3339),
			"onsite_by": onsite.In(loc).Format(time.RFC3339)})
	}
	show := cfg.Display.Location
	fmt.Fprintf(stdout, "%s, plan %s, calendar %s, severity %d, opened %s\n", cu.Company, plan.Name, plan.Calendar.Name, *severity, textTime(t, show))
	fmt.Fprintf(stdout, "respond by       %s\n", textTime(respond, show))
	fmt.Fprintf(stdout, "solve online by  %s\n", textTime(solve, show))
	fmt.Fprintf(stdout, "on site by       %s (if dispatched at opening)\n", textTime(onsite, show))
	return nil
}
