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
		list = slices.DeleteFunc(list, func(c *cases.Case) bool { return !cases.Overdue(c, at) })
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
		if d, ok := cases.NextDeadline(c); ok {
			name, due, lft = d.Name, textTime(d.Due, loc), left(d.Due, at)
		}
		tb.add(fmt.Sprint(c.Number), c.Status, c.KindOrFault(), fmt.Sprint(c.Severity), c.Priority, human(at.Sub(c.OpenedAt)),
			name, due, lft, orDash(c.Company), orDash(c.Engineer), c.Subject)
	}
	return tb.write(stdout)
}
