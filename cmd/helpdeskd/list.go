package main

import (
	"context"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"helpdeskd/cases"
	"helpdeskd/store"
)

// now is the clock of the read commands (case list, case show, report);
// tests set it.
var now = time.Now

// deadline is one SLA deadline of a case as shown to people.
type deadline struct {
	Name    string    // respond, solve online, on site, report
	Due     time.Time // zero: not set (e.g. on site before a dispatch)
	Met     time.Time // when it was met; zero if not
	Pending bool      // still to be met: the case is open and it was not met
	Missed  bool      // superseded without being met (solve online, once on site is needed)
}

// caseDeadlines lists the deadlines that the clocks of a case's kind keep
// (as cases.Timers sets them), in the order they come (SPEC §1.1, §11.7,
// §11.8): respond, solve online (faults), on site, and an inspection's
// report. A consulting case has none: its SLA stopped.
func caseDeadlines(c *cases.Case) []deadline {
	open := c.Status == cases.StatusOpen
	kind := c.KindOrFault()
	if kind == cases.KindConsulting {
		return nil
	}
	var out []deadline
	if !c.RespondBy.IsZero() && kind != cases.KindInspection {
		out = append(out, deadline{Name: "respond", Due: c.RespondBy, Met: c.RespondedAt, Pending: open && c.RespondedAt.IsZero()})
	}
	if !c.SolveOnlineBy.IsZero() && kind == cases.KindFault {
		d := deadline{Name: "solve online", Due: c.SolveOnlineBy}
		switch {
		case c.OnsiteNeeded || !c.OnsiteBy.IsZero():
			d.Missed = !c.OnsiteBy.IsZero() // once dispatched, on site is what counts
			d.Pending = open && c.OnsiteBy.IsZero()
		case !c.ResolvedAt.IsZero():
			d.Met = c.ResolvedAt
		default:
			d.Pending = open
		}
		out = append(out, d)
	}
	if !c.OnsiteBy.IsZero() {
		out = append(out, deadline{Name: "on site", Due: c.OnsiteBy, Met: c.OnsiteArrivedAt, Pending: open && c.OnsiteArrivedAt.IsZero()})
	}
	if !c.ReportDueBy.IsZero() {
		out = append(out, deadline{Name: "report", Due: c.ReportDueBy, Met: c.ResolvedAt, Pending: open && c.ResolvedAt.IsZero()})
	}
	return out
}

// nextDeadline is the earliest deadline still to be met, if any.
func nextDeadline(c *cases.Case) (deadline, bool) {
	var next deadline
	found := false
	for _, d := range caseDeadlines(c) {
		if d.Pending && (!found || d.Due.Before(next.Due)) {
			next, found = d, true
		}
	}
	return next, found
}

// overdue reports whether a deadline of c has passed without being met.
func overdue(c *cases.Case, at time.Time) bool {
	d, ok := nextDeadline(c)
	return ok && d.Due.Before(at)
}

func cmdCaseList(args []string, stdout io.Writer) error {
	fs, cfgPath := newFlags("case list")
	status := fs.String("status", "open", "open, resolved, closed or all")
	engineer := fs.String("engineer", "", "only cases assigned to this engineer (email)")
	company := fs.String("company", "", "only cases of this company")
	kind := fs.String("kind", "", "only cases of this kind: "+strings.Join(cases.Kinds, ", "))
	late := fs.Bool("overdue", false, "only open cases with a deadline passed and not met")
	asJSON := fs.Bool("json", false, "print JSON")
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	if len(pos) > 0 {
		return usagef("case list: unexpected argument %q", pos[0])
	}
	switch *status {
	case "open", "resolved", "closed", "all":
	default:
		return usagef("case list: --status %q: want open, resolved, closed or all", *status)
	}
	if *kind != "" && !slices.Contains(cases.Kinds, *kind) {
		return usagef("case list: --kind %q: want one of %s", *kind, strings.Join(cases.Kinds, ", "))
	}
	cfg, db, err := openRead(*cfgPath)
	if err != nil {
		return err
	}
	defer db.Close()
	if *engineer != "" {
		if _, ok := cfg.StaffByEmail(*engineer); !ok {
			return fmt.Errorf("no staff member has address %s", *engineer)
		}
	}
	var list []*cases.Case
	if err := db.Read(context.Background(), func(t *store.Txn) error {
		list, err = t.ListCases(store.ListFilter{Status: *status, Engineer: *engineer, Company: *company, Kind: *kind})
		return err
	}); err != nil {
		return err
	}
	at := now()
	if *late {
		list = slices.DeleteFunc(list, func(c *cases.Case) bool { return !overdue(c, at) })
	}
	if *asJSON {
		out := make([]caseJSON, 0, len(list))
		for _, c := range list {
			out = append(out, toJSON(cfg, c, nil))
		}
		return writeJSON(stdout, out)
	}
	loc := cfg.Display.Location
	var tb table
	tb.add("CASE", "STATUS", "KIND", "SEV", "PRIORITY", "AGE", "NEXT DEADLINE", "DUE", "LEFT", "COMPANY", "ENGINEER", "SUBJECT")
	for _, c := range list {
		name, due, lft := "-", "-", "-"
		if d, ok := nextDeadline(c); ok {
			name, due, lft = d.Name, textTime(d.Due, loc), left(d.Due, at)
		}
		tb.add(fmt.Sprint(c.Number), c.Status, c.KindOrFault(), fmt.Sprint(c.Severity), c.Priority, human(at.Sub(c.OpenedAt)),
			name, due, lft, orDash(c.Company), orDash(c.Engineer), c.Subject)
	}
	return tb.write(stdout)
}
