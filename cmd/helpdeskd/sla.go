package main

import (
	"context"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"helpdeskd/cases"
	"helpdeskd/store"
)

func cmdSLA(args []string, stdout io.Writer) error {
	fs, cfgPath := newFlags("sla")
	customer := fs.String("customer", "", "customer contact email")
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
	plan := cfg.DefaultPlan()
	cu, _ := cfg.CustomerFor(*customer)
	if cu != nil {
		plan = cfg.Plans[cu.Plan]
	} else if cfg.Policy.UnknownSenders == "ignore" {
		return fmt.Errorf("no customer has address %s", *customer)
	}
	respond, solve := cases.Deadlines(cfg, plan, *severity, t)
	// On site as a case of this customer counts it: on the calendar of
	// its on-site service (SPEC §11.6).
	probe := &cases.Case{Plan: plan.Name, Severity: *severity}
	if cu != nil {
		probe.Company = cu.Company
	}
	onsite := cases.OnsiteDeadlineFor(cfg, probe, t)
	loc := plan.Calendar.Location
	if *asJSON {
		return writeJSON(stdout, map[string]string{
			"respond_by": respond.In(loc).Format(time.RFC3339), "solve_online_by": solve.In(loc).Format(time.RFC3339),
			"onsite_by": onsite.In(loc).Format(time.RFC3339)})
	}
	fmt.Fprintf(stdout, "plan %s, calendar %s, severity %d, opened %s\n", plan.Name, plan.Calendar.Name, *severity, t.In(loc).Format(time.RFC3339))
	fmt.Fprintf(stdout, "respond by       %s\n", respond.In(loc).Format(time.RFC3339))
	fmt.Fprintf(stdout, "solve online by  %s\n", solve.In(loc).Format(time.RFC3339))
	fmt.Fprintf(stdout, "on site by       %s (if dispatched at opening)\n", onsite.In(loc).Format(time.RFC3339))
	return nil
}

// reportRow is deadline compliance for one severity.
type reportRow struct {
	Severity        int `json:"severity"`
	Cases           int `json:"cases"`
	RespondedOnTime int `json:"responded_on_time"`
	RespondedLate   int `json:"responded_late"`
	SolvedOnTime    int `json:"solved_online_on_time"`
	SolvedLate      int `json:"solved_late"`
	StillOpen       int `json:"still_open"`
	Escalated       int `json:"escalated"`
}

func cmdReport(args []string, stdout io.Writer) error {
	fs, cfgPath := newFlags("report")
	from := fs.String("from", "", "first day (YYYY-MM-DD), inclusive")
	to := fs.String("to", "", "last day (YYYY-MM-DD), inclusive")
	asJSON := fs.Bool("json", false, "print JSON")
	if err := noArgs(fs, args); err != nil {
		return err
	}
	var fromT, toT time.Time
	var err error
	if *from != "" {
		if fromT, err = time.Parse(time.DateOnly, *from); err != nil {
			return usagef("report: --from %q is not a date (YYYY-MM-DD)", *from)
		}
	}
	if *to != "" {
		if toT, err = time.Parse(time.DateOnly, *to); err != nil {
			return usagef("report: --to %q is not a date (YYYY-MM-DD)", *to)
		}
		toT = toT.AddDate(0, 0, 1)
	}
	cfg, db, err := openRead(*cfgPath)
	if err != nil {
		return err
	}
	defer db.Close()
	var list []*cases.Case
	escalated := map[int64]bool{}
	err = db.Read(context.Background(), func(t *store.Txn) error {
		if list, err = t.Cases("all"); err != nil {
			return err
		}
		for _, c := range list {
			evs, err := t.Events(c.Number)
			if err != nil {
				return err
			}
			for _, e := range evs {
				if e.Kind == cases.EvEscalated {
					escalated[c.Number] = true
				}
			}
		}
		return nil
	})
	if err != nil {
		return err
	}
	rows := map[int]*reportRow{}
	now := time.Now()
	for _, c := range list {
		loc := caseLoc(cfg, c)
		day := c.OpenedAt.In(loc)
		dayT := time.Date(day.Year(), day.Month(), day.Day(), 0, 0, 0, 0, time.UTC)
		if (!fromT.IsZero() && dayT.Before(fromT)) || (!toT.IsZero() && !dayT.Before(toT)) {
			continue
		}
		r := rows[c.Severity]
		if r == nil {
			r = &reportRow{Severity: c.Severity}
			rows[c.Severity] = r
		}
		r.Cases++
		// A deadline that passed without the event counts as missed; a
		// case whose deadline is still ahead counts as open.
		switch {
		case c.RespondedAt.IsZero() && now.After(c.RespondBy):
			r.RespondedLate++
		case c.RespondedAt.IsZero():
		case !c.RespondedAt.After(c.RespondBy):
			r.RespondedOnTime++
		default:
			r.RespondedLate++
		}
		switch {
		case c.ResolvedAt.IsZero() && now.After(c.SolveOnlineBy):
			r.SolvedLate++
		case c.ResolvedAt.IsZero():
			r.StillOpen++
		case !c.ResolvedAt.After(c.SolveOnlineBy):
			r.SolvedOnTime++
		default:
			r.SolvedLate++
		}
		if escalated[c.Number] {
			r.Escalated++
		}
	}
	out := []reportRow{}
	for s := 1; s <= 9; s++ {
		if r := rows[s]; r != nil {
			out = append(out, *r)
		}
	}
	if *asJSON {
		return writeJSON(stdout, out)
	}
	var b strings.Builder
	b.WriteString("SEV  CASES  RESPONDED(on time/late)  SOLVED ONLINE(on time/late)  OPEN  ESCALATED\n")
	for _, r := range out {
		b.WriteString(strconv.Itoa(r.Severity) + "    " + fmt.Sprintf("%-6d %d/%-22d %d/%-26d %-5d %d\n",
			r.Cases, r.RespondedOnTime, r.RespondedLate, r.SolvedOnTime, r.SolvedLate, r.StillOpen, r.Escalated))
	}
	_, err = io.WriteString(stdout, b.String())
	return err
}
